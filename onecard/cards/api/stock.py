"""Cards api: stock pages/endpoints."""

urlpatterns = []
