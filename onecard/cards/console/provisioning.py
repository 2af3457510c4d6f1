"""Cards console: provisioning pages/endpoints."""

urlpatterns = []
