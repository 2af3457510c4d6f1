"""Collects every app's console pages."""

from django.urls import include, path

urlpatterns = [
    path("", include("onecard.accounts.console.urls")),
    path("", include("onecard.organizations.console.urls")),
    path("", include("onecard.people.console.urls")),
    path("", include("onecard.wallet.console.urls")),
    path("", include("onecard.service.console.urls")),
    path("", include("onecard.projects.console.urls")),
    path("", include("onecard.cards.console.urls")),
    path("", include("onecard.terminals.console.urls")),
    path("", include("onecard.audit.console.urls")),
]
