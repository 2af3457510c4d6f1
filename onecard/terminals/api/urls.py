"""Terminal registry API routes, included at /api/v1/."""

from rest_framework.routers import SimpleRouter

from . import views

router = SimpleRouter()
router.register("terminals", views.TerminalViewSet, basename="terminal")

urlpatterns = router.urls
