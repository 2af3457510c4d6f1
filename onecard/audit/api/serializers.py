"""Shape of the audit log as the API shows it (read-only)."""

from rest_framework import serializers

from ..models import AuditRecord


class AuditRecordSerializer(serializers.ModelSerializer):
    class Meta:
        model = AuditRecord
        fields = ["id", "chain", "chain_seq", "created_at", "actor", "actor_label", "action",
                  "object_type", "object_id", "group_customer_id", "reason", "before", "after",
                  "prev_hash", "hash"]
        read_only_fields = fields
