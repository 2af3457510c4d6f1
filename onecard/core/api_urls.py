"""Collects every app's API routes under /api/v1/."""

from django.urls import include, path

urlpatterns = [
    path("", include("onecard.accounts.api.urls")),
    path("", include("onecard.organizations.api.urls")),
    path("", include("onecard.people.api.urls")),
    path("", include("onecard.wallet.api.urls")),
    path("", include("onecard.service.api.urls")),
    path("", include("onecard.projects.api.urls")),
    path("", include("onecard.cards.api.urls")),
    path("", include("onecard.notifications.api.urls")),
    path("", include("onecard.terminals.api.urls")),
    path("", include("onecard.audit.api.urls")),
]
