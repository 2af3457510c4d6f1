"""Actions on members. Every state change of a member goes through one of these.

Invariants kept here: a member's department belongs to the member's group customer; phone and
employee/student numbers are unique among a customer's current members; status follows
``MEMBER_TRANSITIONS``; each change writes an audit record in its transaction.
"""

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from onecard.audit.actions import write_audit
from onecard.core.errors import InvalidInput
from onecard.core.locks import lock_one
from onecard.core.transitions import require_transition
from onecard.core.validation import clean_or_refuse, snapshot

from .choices import MEMBER_TRANSITIONS, MemberStatus
from .errors import DuplicateEmployeeNumber, DuplicatePhone
from .models import Member, MemberEvent

MEMBER_EDITABLE = {"name", "phone", "employee_number", "department", "category"}


def _current(group_customer_id, *, exclude_pk=None):
    members = Member.objects.filter(group_customer_id=group_customer_id).exclude(
        status=MemberStatus.DEPARTED
    )
    return members.exclude(pk=exclude_pk) if exclude_pk else members


def check_member_fields(member):
    """Refuse a member whose department, phone or number clashes; names the field."""
    if member.department_id is not None and (
        member.department.group_customer_id != member.group_customer_id
    ):
        raise InvalidInput({"department": [_("This department belongs to another customer.")]})
    clean_or_refuse(member, exclude=["group_customer", "department"])
    if member.status == MemberStatus.DEPARTED:
        return
    current = _current(member.group_customer_id, exclude_pk=member.pk)
    if current.filter(phone=member.phone).exists():
        raise DuplicatePhone()
    if member.employee_number and current.filter(employee_number=member.employee_number).exists():
        raise DuplicateEmployeeNumber()


def _save(member, **kwargs):
    try:
        with transaction.atomic():
            member.save(**kwargs)
    except IntegrityError:
        # Lost a race with another writer; the constraint had the last word.
        if _current(member.group_customer_id, exclude_pk=member.pk).filter(
            phone=member.phone
        ).exists():
            raise DuplicatePhone()
        raise DuplicateEmployeeNumber()


def _normalise(fields):
    for name in ("name", "phone", "employee_number"):
        if isinstance(fields.get(name), str):
            fields[name] = fields[name].strip()
    return fields


@transaction.atomic
def create_member(*, actor, group_customer, name, phone, **details):
    """Add a member to a group customer (status ``active``)."""
    unknown = set(details) - MEMBER_EDITABLE
    if unknown:
        raise InvalidInput({field: [_("Unknown field.")] for field in sorted(unknown)})
    fields = _normalise({"name": name, "phone": phone, **details})
    member = Member(group_customer=group_customer, **fields)
    check_member_fields(member)
    _save(member, force_insert=True)
    write_audit(actor=actor, action="member.created", obj=member,
                group_customer_id=group_customer.pk, after=snapshot(member))
    return member


@transaction.atomic
def update_member(*, actor, member, **changes):
    """Change a member's details (not status: that has its own actions)."""
    unknown = set(changes) - MEMBER_EDITABLE
    if unknown:
        raise InvalidInput({field: [_("Unknown field.")] for field in sorted(unknown)})
    current = lock_one(Member.objects.all(), member.pk)
    before = snapshot(current, MEMBER_EDITABLE)
    for name, value in _normalise(dict(changes)).items():
        setattr(current, name, value)
    check_member_fields(current)
    _save(current)
    after = snapshot(current, MEMBER_EDITABLE)
    if after != before:
        write_audit(actor=actor, action="member.updated", obj=current,
                    group_customer_id=current.group_customer_id, before=before, after=after)
    return current


def _transition(*, actor, member, target, reason, audit_action):
    current = lock_one(Member.objects.all(), member.pk)
    require_transition(MEMBER_TRANSITIONS, MemberStatus, current.status, target)
    previous = current.status
    current.status = target
    check_member_fields(current)  # resuming must not clash with someone who took the number
    _save(current, update_fields=["status", "updated_at"])
    MemberEvent.objects.create(member=current, from_status=previous, to_status=target,
                               actor=actor, reason=reason or "")
    write_audit(actor=actor, action=audit_action, obj=current,
                group_customer_id=current.group_customer_id, before={"status": previous},
                after={"status": target}, reason=reason or "")
    return current


@transaction.atomic
def suspend_member(*, actor, member, reason=""):
    return _transition(actor=actor, member=member, target=MemberStatus.SUSPENDED,
                       reason=reason, audit_action="member.suspended")


@transaction.atomic
def resume_member(*, actor, member, reason=""):
    return _transition(actor=actor, member=member, target=MemberStatus.ACTIVE,
                       reason=reason, audit_action="member.resumed")


@transaction.atomic
def mark_member_departed(*, actor, member, reason=""):
    """The member left: keep the history, free the phone and number for reuse."""
    return _transition(actor=actor, member=member, target=MemberStatus.DEPARTED,
                       reason=reason, audit_action="member.departed")
