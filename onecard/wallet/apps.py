from django.apps import AppConfig


class WalletConfig(AppConfig):
    name = "onecard.wallet"
    label = "wallet"
    verbose_name = "Wallet ledger"
