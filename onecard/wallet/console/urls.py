"""Console pages of the wallet."""

from django.urls import path

from . import views

urlpatterns = [
    path("wallet/purses/", views.purse_list, name="wallet-purse-list"),
    path("wallet/my-purse/", views.my_purse, name="wallet-my-purse"),
    path("wallet/members/<int:pk>/", views.member_purse, name="wallet-member-purse"),
    path("wallet/members/<int:pk>/statement.xlsx", views.member_statement_export,
         name="wallet-member-statement-export"),
    path("wallet/members/<int:pk>/top-up/", views.top_up, name="wallet-top-up"),
    path("wallet/refund/", views.refund, name="wallet-refund"),
    path("wallet/transfers/<int:pk>/reverse/", views.reverse_transfer,
         name="wallet-reverse-transfer"),
    path("wallet/merchants/", views.merchant_list, name="wallet-merchant-list"),
    path("wallet/merchants/<int:pk>/", views.merchant_daily, name="wallet-merchant-daily"),
    path("wallet/merchants/<int:pk>/daily.xlsx", views.merchant_daily_export,
         name="wallet-merchant-daily-export"),
    path("wallet/reconciliation/", views.reconciliation, name="wallet-reconciliation"),
    path("wallet/reconciliation.xlsx", views.reconciliation_export,
         name="wallet-reconciliation-export"),
]
