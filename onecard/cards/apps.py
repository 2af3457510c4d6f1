from django.apps import AppConfig


class CardsConfig(AppConfig):
    name = "onecard.cards"
    label = "cards"
    verbose_name = "Cards"
