from django.apps import AppConfig


class OrganizationsConfig(AppConfig):
    name = "onecard.organizations"
    label = "organizations"
    verbose_name = "Organizations"
