from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "onecard.notifications"
    label = "notifications"
    verbose_name = "Notifications"
