"""Wallet API routes, included at /api/v1/."""

from django.urls import path, re_path
from rest_framework.routers import SimpleRouter

from onecard.core.api import PK_PATTERN

from . import views

router = SimpleRouter()
router.register("wallet/accounts", views.AccountViewSet, basename="wallet-account")
router.register("wallet/transfers", views.TransferViewSet, basename="wallet-transfer")
router.register("wallet/merchants", views.MerchantViewSet, basename="wallet-merchant")
router.register("wallet/spending-policies", views.SpendingPolicyViewSet,
                basename="wallet-spending-policy")

urlpatterns = [
    path("wallet/top-ups/", views.TopUpView.as_view(), name="wallet-top-up"),
    path("wallet/refunds/", views.RefundView.as_view(), name="wallet-refund"),
    path("wallet/subsidy-grants/", views.SubsidyGrantView.as_view(),
         name="wallet-subsidy-grant"),
    re_path(rf"^wallet/members/(?P<pk>{PK_PATTERN})/statement/$",
            views.MemberStatementView.as_view(), name="wallet-member-statement"),
    re_path(rf"^wallet/merchants/(?P<pk>{PK_PATTERN})/daily-statement/$",
            views.MerchantDailyStatementView.as_view(), name="wallet-merchant-daily-statement"),
    re_path(rf"^wallet/group-customers/(?P<pk>{PK_PATTERN})/reconciliation/$",
            views.ReconciliationView.as_view(), name="wallet-reconciliation"),
    *router.urls,
]
