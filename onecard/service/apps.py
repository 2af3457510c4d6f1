from django.apps import AppConfig


class ServiceConfig(AppConfig):
    name = "onecard.service"
    label = "service"
    verbose_name = "Service desk"
