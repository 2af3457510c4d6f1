"""Audit log API routes, included at /api/v1/."""

from rest_framework.routers import SimpleRouter

from . import views

router = SimpleRouter()
router.register("audit-records", views.AuditRecordViewSet, basename="audit-record")

urlpatterns = router.urls
