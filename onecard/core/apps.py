from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "onecard.core"
    label = "core"
    verbose_name = "Core"
