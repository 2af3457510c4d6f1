"""Console pages of the audit log."""

from django.urls import path

from . import views

urlpatterns = [
    path("audit/", views.audit_list, name="audit-list"),
    path("audit/<int:pk>/", views.audit_detail, name="audit-detail"),
]
