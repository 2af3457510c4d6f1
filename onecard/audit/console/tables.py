"""Who reads which audit records, and the list's filters.

The audit log has no gatekeeper queryset of its own (records are written by actions, never
through a manager a person uses), so the console scopes it here: an operator admin reads every
chain; an enterprise admin reads the records of their own group customer; nobody else reads any.
"""

from onecard.accounts.choices import Role
from onecard.audit.models import AuditRecord
from onecard.core.gatekeepers import is_active_user


def audit_records_visible_to(user):
    records = AuditRecord.objects.select_related("actor")
    if not is_active_user(user):
        return records.none()
    if user.role == Role.OPERATOR_ADMIN:
        return records
    if user.role == Role.ENTERPRISE_ADMIN and user.group_customer_id:
        return records.filter(group_customer_id=user.group_customer_id)
    return records.none()


def filter_records(records, filters):
    if filters.get("action"):
        records = records.filter(action__icontains=filters["action"])
    if filters.get("object_type"):
        records = records.filter(object_type__icontains=filters["object_type"])
    if filters.get("object_id"):
        records = records.filter(object_id=filters["object_id"])
    if filters.get("actor"):
        records = records.filter(actor_label__icontains=filters["actor"])
    return records.order_by("-created_at", "-id")
