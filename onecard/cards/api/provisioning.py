"""Cards api: provisioning pages/endpoints."""

urlpatterns = []
