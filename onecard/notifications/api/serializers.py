"""Shapes of the notifications API (read-only)."""

from rest_framework import serializers

from ..models import Notification


class NotificationSerializer(serializers.ModelSerializer):
    class Meta:
        model = Notification
        fields = ["id", "group_customer", "member", "phone", "topic", "body", "status",
                  "attempts", "next_attempt_at", "adapter_reference", "last_error",
                  "created_at", "sent_at"]
        read_only_fields = fields
