"""The notification outbox, read-only, for operator staff and enterprise admins (scoped to the
group customers they may see)."""

from django_filters import rest_framework as filters
from rest_framework import mixins, viewsets

from onecard.core.api import GatekeptViewSetMixin, IdFilter

from ..choices import NotificationStatus
from ..models import Notification
from .serializers import NotificationSerializer


class NotificationFilter(filters.FilterSet):
    group_customer = IdFilter(field_name="group_customer")
    member = IdFilter(field_name="member")
    status = filters.ChoiceFilter(choices=NotificationStatus.choices)
    topic = filters.CharFilter(max_length=64)

    class Meta:
        model = Notification
        fields = ["group_customer", "member", "status", "topic"]


class NotificationViewSet(GatekeptViewSetMixin, mixins.ListModelMixin,
                          mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Messages to members' phones (短信通知) and their delivery state."""

    queryset = Notification.objects.all()
    serializer_class = NotificationSerializer
    filterset_class = NotificationFilter
    search_fields = ["phone"]
    ordering_fields = ["id", "created_at", "status"]
    ordering = ["-id"]
