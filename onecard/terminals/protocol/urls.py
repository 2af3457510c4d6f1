"""The terminal protocol routes (/terminal/v1/, namespace ``terminal``)."""

from django.urls import path

from . import views

urlpatterns = [
    path("enrol", views.EnrolView.as_view(), name="enrol"),
    path("cards/lookup", views.CardLookupView.as_view(), name="card-lookup"),
    path("purchases", views.PurchaseView.as_view(), name="purchases"),
    path("top-ups", views.TopUpView.as_view(), name="top-ups"),
    path("balance", views.BalanceView.as_view(), name="balance"),
    path("access", views.AccessView.as_view(), name="access"),
    path("punches", views.PunchView.as_view(), name="punches"),
    path("heartbeat", views.HeartbeatView.as_view(), name="heartbeat"),
    path("time", views.TimeView.as_view(), name="time"),
    path("credentials", views.CredentialsView.as_view(), name="credentials"),
    path("offline-records", views.OfflineRecordsView.as_view(), name="offline-records"),
]
