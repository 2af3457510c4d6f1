"""Cards console: stock pages/endpoints."""

urlpatterns = []
