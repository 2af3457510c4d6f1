from django.apps import AppConfig


class PeopleConfig(AppConfig):
    name = "onecard.people"
    label = "people"
    verbose_name = "People"
