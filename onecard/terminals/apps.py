from django.apps import AppConfig


class TerminalsConfig(AppConfig):
    name = "onecard.terminals"
    label = "terminals"
    verbose_name = "Terminals"
