"""Audit log API: read-only. Operator admins read every chain; an enterprise admin reads the
records of their own group customer; nobody else reads any."""

from django.db import models
from django_filters import rest_framework as filters
from rest_framework import mixins, viewsets

from onecard.accounts.choices import Role
from onecard.core.api import GatekeptViewSetMixin, IdFilter
from onecard.core.gatekeepers import is_active_user

from ..models import AuditRecord
from . import serializers as s


class AuditRecordQuerySet(models.QuerySet):
    """Gatekeeper for audit records (see ``onecard.core.gatekeepers``).

    Kept beside the API until the audit app grows its own ``querysets.py``; the model's default
    manager is left alone so that writing and verifying the chain see every record.
    """

    def visible_to(self, user):
        if not is_active_user(user):
            return self.none()
        if user.role == Role.OPERATOR_ADMIN:
            return self.all()
        if user.role == Role.ENTERPRISE_ADMIN and user.group_customer_id:
            return self.filter(group_customer_id=user.group_customer_id)
        return self.none()

    def changeable_by(self, user):
        return self.none()  # append-only


class AuditRecordFilter(filters.FilterSet):
    action = filters.CharFilter()
    object_type = filters.CharFilter()
    object_id = filters.CharFilter()
    group_customer = IdFilter(field_name="group_customer_id")
    actor = IdFilter(field_name="actor")

    class Meta:
        model = AuditRecord
        fields = ["action", "object_type", "object_id", "group_customer", "actor"]


class AuditRecordViewSet(GatekeptViewSetMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin,
                         viewsets.GenericViewSet):
    """Who did what to which object, with before and after (newest first)."""

    queryset = AuditRecordQuerySet(model=AuditRecord)
    serializer_class = s.AuditRecordSerializer
    filterset_class = AuditRecordFilter
    search_fields = ["action", "object_type", "actor_label", "reason"]
    ordering_fields = ["id", "created_at", "action"]
    ordering = ["-id"]
