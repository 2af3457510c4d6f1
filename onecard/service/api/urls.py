"""Service desk API routes, included at /api/v1/ under service/."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from . import views

router = SimpleRouter()
router.register("service/tickets", views.TicketViewSet, basename="service-ticket")
router.register("service/work-orders", views.WorkOrderViewSet, basename="service-work-order")

urlpatterns = [
    path("service/reports/", views.ReportView.as_view(), name="service-report"),
    path("service/reports/xlsx/", views.ReportExportView.as_view(),
         name="service-report-export"),
    *router.urls,
]
