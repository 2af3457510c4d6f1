"""Cards api: lifecycle pages/endpoints."""

urlpatterns = []
