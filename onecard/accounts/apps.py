from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "onecard.accounts"
    label = "accounts"
    verbose_name = "Accounts"
