"""The terminal protocol routes (/terminal/v1/)."""

urlpatterns = []
