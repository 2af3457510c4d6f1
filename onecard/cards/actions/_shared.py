"""What every card action does besides its own rule: lock the card, check the transition table,
write the card event and the audit record (same transaction), publish to the credential list."""

from django.utils import timezone

from onecard.audit.actions import write_audit
from onecard.core.locks import lock_one
from onecard.core.transitions import require_transition

from .. import credentials
from ..choices import CARD_TRANSITIONS, CardStatus
from ..models import Card, CardEvent


def lock_card(card):
    """Re-read ``card`` under a row lock (NotFound if it vanished)."""
    return lock_one(Card.objects.all(), card.pk)


def record(card, kind, *, actor, reason="", from_status="", to_status="", application=None,
           detail=None, audit_action=None, before=None, after=None):
    """Write the card event and its audit record; return the event."""
    event = CardEvent.objects.create(
        card=card, kind=kind, from_status=from_status, to_status=to_status,
        application=application, actor=actor if getattr(actor, "pk", None) else None,
        reason=reason or "", detail=detail or {},
    )
    write_audit(actor=actor, action=audit_action or f"card.{kind}", obj=card,
                group_customer_id=card.group_customer_id, reason=reason,
                before=before, after=after if after is not None else {
                    "status": card.status, "event": kind,
                    **({"application": application.kind} if application else {}),
                    **(detail or {})})
    return event


def transition(card, target, kind, *, actor, reason="", detail=None, publish=True, **fields):
    """Move a locked ``card`` to ``target`` (refused unless the table allows it), set
    ``fields``, record the event and, for cards a terminal knows, publish the new state."""
    require_transition(CARD_TRANSITIONS, CardStatus, card.status, target)
    before = card.status
    card.status = target
    card.status_changed_at = timezone.now()
    for name, value in fields.items():
        setattr(card, name, value)
    card.save(update_fields=["status", "status_changed_at", "updated_at", *fields])
    record(card, kind, actor=actor, reason=reason, from_status=before, to_status=target,
           detail=detail, before={"status": before})
    if publish and card.group_customer_id and card.member_id:
        credentials.publish(card)
    return card


def check_plan(group_customer, kind):
    """Refuse opening an application of ``kind`` for ``group_customer`` unless the customer is
    verified, has the application enabled, and is below its quota (pending + active).

    Call it with the customer's plan row locked by the caller's transaction (``lock_plan``) so
    two openings cannot both take the last place."""
    from django.utils.translation import gettext as _

    from onecard.core.errors import DomainError
    from onecard.organizations.choices import GroupCustomerStatus

    from ..choices import ApplicationKind, ApplicationStatus
    from ..models import ApplicationPlan, CardApplication

    if group_customer.status != GroupCustomerStatus.VERIFIED:
        raise DomainError(_("The group customer is not verified."), field="group_customer",
                          code="customer_not_verified")
    plan = (ApplicationPlan.objects.select_for_update()
            .filter(group_customer=group_customer, kind=kind).first())
    if plan is None or not plan.enabled:
        raise DomainError(
            _("The group customer has not enabled the %(application)s application.")
            % {"application": ApplicationKind(kind).label},
            field="kind", code="application_not_enabled")
    if plan.quota is not None:
        used = CardApplication.objects.filter(
            group_customer=group_customer, kind=kind,
            status__in=[ApplicationStatus.PENDING, ApplicationStatus.ACTIVE]).count()
        if used >= plan.quota:
            raise DomainError(
                _("The quota of %(quota)s %(application)s applications is used up.")
                % {"quota": plan.quota, "application": ApplicationKind(kind).label},
                field="kind", code="quota_exhausted")
    return plan
