"""Console pages of the service desk, under /service/."""

from django.urls import path

from . import views

urlpatterns = [
    path("service/tickets/", views.ticket_list, name="service-ticket-list"),
    path("service/tickets/new/", views.ticket_create, name="service-ticket-create"),
    path("service/tickets/<int:pk>/", views.ticket_detail, name="service-ticket-detail"),
    *[path(f"service/tickets/<int:pk>/{name}/", view, name=f"service-ticket-{name}")
      for name, view in views.ticket_step_views.items()],
    path("service/work-orders/", views.work_order_list, name="service-work-order-list"),
    path("service/work-orders/<int:pk>/", views.work_order_detail,
         name="service-work-order-detail"),
    *[path(f"service/work-orders/<int:pk>/{name}/", view, name=f"service-work-order-{name}")
      for name, view in views.work_order_step_views.items()],
    path("service/reports/", views.report, name="service-report"),
    path("service/reports/xlsx/", views.report_export, name="service-report-export"),
]
