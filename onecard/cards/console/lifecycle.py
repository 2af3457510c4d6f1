"""Cards console: lifecycle pages/endpoints."""

urlpatterns = []
