"""Members API routes, included at /api/v1/."""

from django.urls import re_path
from rest_framework.routers import SimpleRouter

from onecard.core.api import PK_PATTERN

from . import views

router = SimpleRouter()
router.register("members", views.MemberViewSet, basename="member")

urlpatterns = [
    re_path(rf"^group-customers/(?P<pk>{PK_PATTERN})/roster/$", views.RosterView.as_view(),
            name="group-customer-roster"),
    *router.urls,
]
