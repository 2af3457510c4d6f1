from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "onecard.audit"
    label = "audit"
    verbose_name = "Audit"
