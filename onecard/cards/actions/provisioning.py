"""Card actions: provisioning (see actions/__init__.py).

Application plans (which applications a group customer has enabled, with a quota), opening an
application over the air (a provisioning job delivered through ``channels``) or locally at an
issuing terminal, and the delivery of provisioning jobs.

Invariants:
- An application is opened only for a verified group customer that has it enabled and is below
  its quota (``_shared.check_plan``, with the plan row locked so two openings cannot both take
  the last place).
- Over the air: only an ACTIVE RFID-SIM card of a member found in the customer's roster by phone
  number, with the name matching. IC cards open locally only. At most one pending or active
  application of a kind per card (the unique constraint backs it).
- A job moves along ``PROVISIONING_TRANSITIONS``; its application along
  ``APPLICATION_TRANSITIONS``. DELIVERED ⇒ application ACTIVE and the credential list published;
  FAILED / EXPIRED ⇒ application FAILED; CANCELLED ⇒ application DELETED.
- Delivery never holds a transaction open while talking to the channel: a job is claimed (its
  attempt counted and ``next_attempt_at`` pushed out as a lease) in one short transaction, sent,
  and the outcome recorded in another. Delivery is at-least-once (channels are idempotent on the
  job id).
- Locks are taken card → application → job → plan, in that order, everywhere.
"""

import logging
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from onecard.accounts.choices import Role
from onecard.audit.actions import write_audit
from onecard.core.errors import Conflict, DomainError, InvalidInput, NotAllowed, NotFound
from onecard.core.locks import lock_one
from onecard.core.transitions import require_transition
from onecard.organizations.models import GroupCustomer
from onecard.people.choices import MemberStatus
from onecard.people.models import Member

from .. import credentials
from ..channels import ChannelError, get_channel
from ..choices import (
    APPLICATION_TRANSITIONS,
    LIVE_STATUSES,
    PROVISIONING_TRANSITIONS,
    ApplicationKind,
    ApplicationStatus,
    CardEventKind,
    CardMedium,
    CardStatus,
    ChipType,
    OpeningChannel,
    ProvisioningStatus,
)
from ..models import ApplicationPlan, Card, CardApplication, ProvisioningJob
from ._shared import check_plan, lock_card, record

__all__ = [
    "MAX_ATTEMPTS", "OPEN_JOB_STATUSES", "PLAN_ROLES", "cancel_provisioning", "confirm_delivery",
    "deliver_provisioning_jobs", "open_application_locally", "ota_expiry",
    "request_application_opening", "retry_delay", "set_application_plan",
]

logger = logging.getLogger(__name__)

# Roles that set a group customer's application plan.
PLAN_ROLES = {Role.OPERATOR_ADMIN, Role.CUSTOMER_MANAGER}
# Roles that may open applications for members (besides a member for themself).
OPENING_ROLES = {Role.OPERATOR_ADMIN, Role.CUSTOMER_MANAGER, Role.ENTERPRISE_ADMIN}
# Local openings happen on site: integrator engineers at the issuing terminal too.
LOCAL_OPENING_ROLES = OPENING_ROLES | {Role.INTEGRATOR_ENGINEER}
MAX_ATTEMPTS = 5
MAX_QUOTA = 1_000_000
RETRY_BASE = timedelta(minutes=1)
RETRY_MAX = timedelta(hours=1)
MAX_TEXT = 100
MAX_ERROR = 255
# Jobs still in flight (cancellable, expirable).
OPEN_JOB_STATUSES = (ProvisioningStatus.QUEUED, ProvisioningStatus.SENT,
                     ProvisioningStatus.RETRYING)
DUE_STATUSES = (ProvisioningStatus.QUEUED, ProvisioningStatus.RETRYING)


def ota_expiry():
    """How long an over-the-air opening may take before it expires
    (``settings.ONECARD_OTA_EXPIRY``: a timedelta or seconds; default 24 hours)."""
    value = getattr(settings, "ONECARD_OTA_EXPIRY", timedelta(hours=24))
    return value if isinstance(value, timedelta) else timedelta(seconds=int(value))


def retry_delay(attempts):
    """The wait before attempt ``attempts + 1``: 1, 2, 4, ... minutes, at most an hour."""
    return min(RETRY_BASE * (2 ** max(attempts - 1, 0)), RETRY_MAX)


def _person(actor):
    return actor if getattr(actor, "pk", None) else None


def _kind(kind):
    if not isinstance(kind, str) or kind not in ApplicationKind.values:
        raise InvalidInput({"kind": [_("Choose identity, access, attendance or purse.")]})
    return kind


def _text(value, field, *, max_length=MAX_TEXT):
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput({field: [_("This field is required.")]})
    if len(value) > max_length:
        raise InvalidInput({field: [_("At most %(count)s characters.") % {"count": max_length}]})
    return value.strip()


def _may_manage_customer(actor, group_customer):
    return GroupCustomer.objects.changeable_by(actor).filter(pk=group_customer.pk).exists()


def _audit_job(actor, job, before, reason=""):
    write_audit(actor=actor, action=f"card.provisioning.{job.status}", obj=job,
                group_customer_id=job.group_customer_id, reason=reason,
                before={"status": before},
                after={"status": job.status, "attempts": job.attempts,
                       "application": job.application_id,
                       "channel_reference": job.channel_reference,
                       **({"error": job.last_error} if job.last_error else {})})


def _move_application(application, target, kind, *, actor, reason="", detail=None, now=None):
    """Move a locked application along its table and record the card event."""
    require_transition(APPLICATION_TRANSITIONS, ApplicationStatus, application.status, target)
    before = application.status
    application.status = target
    fields = ["status", "updated_at"]
    if target == ApplicationStatus.ACTIVE:
        application.opened_at = now or timezone.now()
        fields.append("opened_at")
    if target == ApplicationStatus.DELETED:
        application.deleted_at = now or timezone.now()
        fields.append("deleted_at")
    application.save(update_fields=fields)
    record(application.card, kind, actor=actor, application=application, reason=reason,
           detail={"application_status": target, "from": before, **(detail or {})})
    return application


def _clear_failed(card, kind, *, actor):
    """A failed earlier opening of ``kind`` on ``card`` makes way for a new one (DELETED)."""
    for failed in CardApplication.objects.select_for_update().filter(
            card=card, kind=kind, status=ApplicationStatus.FAILED).order_by("pk"):
        failed.card = card
        _move_application(failed, ApplicationStatus.DELETED, CardEventKind.APPLICATION_DELETED,
                          actor=actor, reason=_("Replaced by a new opening request."))


def _refuse_existing(card, kind):
    existing = (CardApplication.objects.filter(card=card, kind=kind)
                .exclude(status__in=[ApplicationStatus.DELETED, ApplicationStatus.FAILED])
                .first())
    if existing is None:
        return
    if existing.status == ApplicationStatus.PENDING:
        raise Conflict(_("This application is already being opened on this card."),
                       field="kind", code="opening_pending")
    raise Conflict(_("This card already has this application."), field="kind",
                   code="application_exists")


# --- Application plans ------------------------------------------------------------------------


@transaction.atomic
def set_application_plan(*, actor, group_customer, kind, enabled, quota=None):
    """Enable or disable an application for ``group_customer``, with an optional quota
    (pending + active applications of the kind; ``None`` = no limit). Upsert; audited.

    Operator admins, and customer managers for the customers they manage."""
    kind = _kind(kind)
    if not isinstance(enabled, bool):
        raise InvalidInput({"enabled": [_("Enter true or false.")]})
    if quota is not None and (isinstance(quota, bool) or not isinstance(quota, int)
                              or not 0 <= quota <= MAX_QUOTA):
        raise InvalidInput({"quota": [_("Enter a whole number from 0 to %(max)s, or nothing.")
                                      % {"max": MAX_QUOTA}]})
    if actor is not None and (getattr(actor, "role", None) not in PLAN_ROLES
                              or not _may_manage_customer(actor, group_customer)):
        raise NotAllowed(_("Only an operator admin or the customer's manager sets the "
                           "application plan."))
    plan = (ApplicationPlan.objects.select_for_update()
            .filter(group_customer=group_customer, kind=kind).first())
    before = None
    if plan is None:
        try:
            with transaction.atomic():
                plan = ApplicationPlan.objects.create(group_customer=group_customer, kind=kind,
                                                      enabled=enabled, quota=quota)
        except IntegrityError:
            raise Conflict(_("The plan was changed at the same time; try again."),
                           field="kind", code="plan_race") from None
    else:
        before = {"enabled": plan.enabled, "quota": plan.quota}
        plan.enabled = enabled
        plan.quota = quota
        plan.save(update_fields=["enabled", "quota", "updated_at"])
    write_audit(actor=actor, action="card.application_plan.set", obj=plan,
                group_customer_id=group_customer.pk, before=before,
                after={"kind": kind, "enabled": enabled, "quota": quota})
    return plan


# --- Opening over the air ---------------------------------------------------------------------


def _require_opener(actor, group_customer):
    if actor is None:
        return
    role = getattr(actor, "role", None)
    if role in (Role.MEMBER, Role.ENTERPRISE_ADMIN):
        if actor.group_customer_id != group_customer.pk:
            raise NotAllowed(_("You may only open applications in your own group customer."))
        return
    if role not in OPENING_ROLES or not _may_manage_customer(actor, group_customer):
        raise NotAllowed(_("Your role may not open applications for this group customer."))


def _roster_member(group_customer, phone, name):
    member = (Member.objects.filter(group_customer=group_customer, phone=phone)
              .exclude(status=MemberStatus.DEPARTED).first())
    if member is None:
        raise InvalidInput({"phone": [
            _("This phone number is not in the group customer's roster.")]},
            code="not_in_roster")
    if member.name.strip() != name:
        raise InvalidInput({"name": [
            _("The name does not match the roster entry for this phone number.")]},
            code="name_mismatch")
    if member.status != MemberStatus.ACTIVE:
        raise DomainError(_("This member is not active."), field="phone",
                          code="member_not_active")
    return member


@transaction.atomic
def request_application_opening(*, actor, group_customer, phone, name, kind):
    """Authorise opening ``kind`` over the air on the card of the member with ``phone`` and
    ``name`` in ``group_customer``'s roster; queue its provisioning job. Return the job.

    A member may request only for themself; enterprise admins for their customer; operator
    admins and customer managers for the customers they manage."""
    kind = _kind(kind)
    phone = _text(phone, "phone", max_length=20)
    name = _text(name, "name")
    _require_opener(actor, group_customer)
    if getattr(actor, "role", None) == Role.MEMBER and phone != actor.member.phone:
        raise InvalidInput({"phone": [
            _("A member can request an opening only for their own phone number.")]})
    member = _roster_member(group_customer, phone, name)
    card = Card.objects.filter(member=member, status__in=LIVE_STATUSES).first()
    if card is None:
        raise DomainError(_("This member has no card yet."), field="phone", code="no_card")
    card = lock_card(card)
    if card.medium == CardMedium.IC_CARD:
        raise DomainError(_("IC cards open locally only: use an issuing terminal."),
                          field="phone", code="ic_card_local_only")
    if card.status != CardStatus.ACTIVE or card.member_id != member.pk:
        raise DomainError(_("The member's card is “%(status)s”; only an active card can be "
                            "opened.") % {"status": CardStatus(card.status).label},
                          field="phone", code="card_not_active")
    _refuse_existing(card, kind)
    _clear_failed(card, kind, actor=actor)
    check_plan(group_customer, kind)
    now = timezone.now()
    try:
        with transaction.atomic():
            application = CardApplication.objects.create(
                card=card, group_customer=group_customer, kind=kind,
                status=ApplicationStatus.PENDING, channel=OpeningChannel.OVER_THE_AIR,
                requested_by=_person(actor))
    except IntegrityError:
        raise Conflict(_("This application is already being opened on this card."),
                       field="kind", code="opening_pending") from None
    job = ProvisioningJob.objects.create(
        application=application, group_customer=group_customer,
        status=ProvisioningStatus.QUEUED, max_attempts=MAX_ATTEMPTS, next_attempt_at=now,
        expires_at=now + ota_expiry())
    record(card, CardEventKind.APPLICATION_REQUESTED, actor=actor, application=application,
           detail={"channel": OpeningChannel.OVER_THE_AIR, "job": job.pk})
    _audit_job(actor, job, None)
    return job


# --- Delivery ---------------------------------------------------------------------------------


def _lock_job(job_pk):
    """Lock a job's card, application and job (in that order); return ``(job, application)``."""
    found = (ProvisioningJob.objects.filter(pk=getattr(job_pk, "pk", job_pk))
             .values_list("application__card_id", "application_id").first())
    if found is None:
        raise NotFound(f"ProvisioningJob {job_pk}")
    card = lock_one(Card.objects.all(), found[0])
    application = lock_one(CardApplication.objects.all(), found[1])
    application.card = card
    job = lock_one(ProvisioningJob.objects.all(), getattr(job_pk, "pk", job_pk))
    job.application = application
    return job, application


def _move_job(job, target, *, actor=None, reason="", **fields):
    require_transition(PROVISIONING_TRANSITIONS, ProvisioningStatus, job.status, target)
    before = job.status
    job.status = target
    for name, value in fields.items():
        setattr(job, name, value)
    job.save(update_fields=["status", "updated_at", *fields])
    _audit_job(actor, job, before, reason=reason)
    return job


def _give_up(job, application, target, *, actor=None, reason, now):
    """Job FAILED or EXPIRED: its application fails (it may be requested again)."""
    _move_job(job, target, actor=actor, reason=reason)
    _move_application(application, ApplicationStatus.FAILED, CardEventKind.APPLICATION_FAILED,
                      actor=actor, reason=reason, detail={"job": job.pk, "job_status": target},
                      now=now)


def _orphaned(job, application):
    """True (and the job CANCELLED) when its application is no longer pending, e.g. the card
    was deregistered meanwhile: nothing is left to deliver."""
    if application.status == ApplicationStatus.PENDING:
        return False
    _move_job(job, ProvisioningStatus.CANCELLED,
              reason=_("The application is no longer being opened."))
    return True


def _failed_attempt(job, application, error, *, now):
    """Record a failed attempt: retry with backoff, or give up when out of attempts or time."""
    job.last_error = str(error)[:MAX_ERROR]
    if now >= job.expires_at:
        job.save(update_fields=["last_error", "updated_at"])
        _give_up(job, application, ProvisioningStatus.EXPIRED, reason=_("The opening expired."),
                 now=now)
    elif job.attempts >= job.max_attempts:
        job.save(update_fields=["last_error", "updated_at"])
        _give_up(job, application, ProvisioningStatus.FAILED,
                 reason=_("Delivery failed %(count)s times.") % {"count": job.attempts}, now=now)
    elif job.status == ProvisioningStatus.RETRYING:  # another failed retry: same status
        job.next_attempt_at = now + retry_delay(job.attempts)
        job.save(update_fields=["last_error", "next_attempt_at", "updated_at"])
        _audit_job(None, job, job.status, reason=job.last_error)
    else:
        _move_job(job, ProvisioningStatus.RETRYING, reason=job.last_error,
                  last_error=job.last_error,
                  next_attempt_at=now + retry_delay(job.attempts))


def _expire_overdue(now):
    expired = 0
    overdue = list(ProvisioningJob.objects.filter(status__in=OPEN_JOB_STATUSES,
                                                  expires_at__lte=now)
                   .order_by("pk").values_list("pk", flat=True))
    for pk in overdue:
        with transaction.atomic():
            job, application = _lock_job(pk)
            if (job.status in OPEN_JOB_STATUSES and job.expires_at <= now
                    and not _orphaned(job, application)):
                _give_up(job, application, ProvisioningStatus.EXPIRED,
                         reason=_("The opening expired."), now=now)
                expired += 1
    return expired


def _claim(pk, now):
    """Take one due job for sending: count the attempt and push ``next_attempt_at`` out (a lease,
    so no other worker sends it meanwhile). Skips a job another worker holds. Returns the job
    or None."""
    skip_locked = connection.features.has_select_for_update_skip_locked
    with transaction.atomic():
        job = (ProvisioningJob.objects.select_for_update(skip_locked=skip_locked)
               .filter(pk=pk, status__in=DUE_STATUSES)
               .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
               .first())
        if job is None:
            return None
        job.attempts += 1
        job.next_attempt_at = now + retry_delay(job.attempts)
        job.save(update_fields=["attempts", "next_attempt_at", "updated_at"])
        return job


def deliver_provisioning_jobs(*, now=None, channel=None, limit=500):
    """One delivery pass (run by the ``deliver_provisioning`` command, e.g. every minute).

    Expires overdue jobs, then sends each due job (QUEUED, or RETRYING whose ``next_attempt_at``
    has come) through ``channel`` (default ``channels.get_channel()``), recording each outcome in
    its own short transaction. Returns counts per outcome."""
    now = now or timezone.now()
    channel = channel or get_channel()
    counts = {"sent": 0, "delivered": 0, "retrying": 0, "failed": 0, "expired": 0}
    counts["expired"] = _expire_overdue(now)
    due = list(ProvisioningJob.objects.filter(status__in=DUE_STATUSES)
               .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
               .order_by("next_attempt_at", "pk").values_list("pk", flat=True)[:limit])
    for pk in due:
        job = _claim(pk, now)
        if job is None:
            continue
        try:
            reference, error = str(channel.send(job))[:64], None
        except ChannelError as failure:
            reference, error = "", failure
        except Exception as failure:  # noqa: BLE001 - a broken adapter must not stop the pass
            logger.exception("OTA channel failed on job %s", pk)
            reference, error = "", f"channel fault: {type(failure).__name__}"
        with transaction.atomic():
            job, application = _lock_job(pk)
            if job.status not in DUE_STATUSES or _orphaned(job, application):
                continue  # cancelled, expired or deleted while sending
            if error is None:
                _move_job(job, ProvisioningStatus.SENT, channel_reference=reference,
                          last_error="")
            else:
                _failed_attempt(job, application, error, now=now)
        if error is None and getattr(channel, "confirms_on_send", False):
            job = confirm_delivery(job=job, success=True, detail="confirmed on send", now=now)
        status = ProvisioningJob.objects.values_list("status", flat=True).get(pk=pk)
        if status in counts:
            counts[status] += 1
    return counts


@transaction.atomic
def confirm_delivery(*, job, success, detail="", actor=None, now=None):
    """The channel's proof of receipt for a SENT job. Success: job DELIVERED, application
    ACTIVE, credential list published (the card's allow-list entry gains the application).
    Failure: a failed attempt (retry with backoff, or FAILED / EXPIRED). ``actor=None`` is the
    channel itself; a person confirming by hand must be an operator admin."""
    if not isinstance(success, bool):
        raise InvalidInput({"success": [_("Enter true or false.")]})
    if not isinstance(detail, str) or len(detail) > MAX_ERROR:
        raise InvalidInput({"detail": [_("At most %(count)s characters.") % {"count": MAX_ERROR}]})
    if actor is not None and getattr(actor, "role", None) != Role.OPERATOR_ADMIN:
        raise NotAllowed(_("Only the channel or an operator admin confirms a delivery."))
    now = now or timezone.now()
    job, application = _lock_job(job)
    if job.status != ProvisioningStatus.SENT:
        raise Conflict(_("Only a sent job can be confirmed; this one is “%(status)s”.")
                       % {"status": ProvisioningStatus(job.status).label},
                       field="status", code="job_not_sent")
    if _orphaned(job, application):
        return job
    if not success:
        _failed_attempt(job, application, detail or _("The card reported a failure."), now=now)
        return job
    _move_job(job, ProvisioningStatus.DELIVERED, actor=actor, reason=detail, delivered_at=now)
    _move_application(application, ApplicationStatus.ACTIVE, CardEventKind.APPLICATION_OPENED,
                      actor=actor, detail={"channel": OpeningChannel.OVER_THE_AIR, "job": job.pk},
                      now=now)
    card = application.card
    if card.member_id:
        credentials.publish(card)
    return job


@transaction.atomic
def cancel_provisioning(*, actor, job, reason=""):
    """Stop an opening still in flight: job CANCELLED, its application DELETED.

    Operator admins, the customer's manager, and the customer's enterprise admin."""
    if not isinstance(reason, str) or len(reason) > 500:
        raise InvalidInput({"reason": [_("At most %(count)s characters.") % {"count": 500}]})
    job, application = _lock_job(job)
    role = getattr(actor, "role", None)
    if actor is not None and not (
            (role == Role.ENTERPRISE_ADMIN and actor.group_customer_id == job.group_customer_id)
            or (role in PLAN_ROLES and _may_manage_customer(actor, job.group_customer))):
        raise NotAllowed(_("Your role may not cancel this opening."))
    if job.status not in OPEN_JOB_STATUSES:
        raise Conflict(_("This opening is already “%(status)s”.")
                       % {"status": ProvisioningStatus(job.status).label},
                       field="status", code="job_closed")
    _move_job(job, ProvisioningStatus.CANCELLED, actor=actor, reason=reason)
    _move_application(application, ApplicationStatus.DELETED, CardEventKind.APPLICATION_DELETED,
                      actor=actor, reason=reason or _("Opening cancelled."),
                      detail={"job": job.pk})
    return job


# --- Opening locally --------------------------------------------------------------------------


@transaction.atomic
def open_application_locally(*, actor, card, kind, terminal_code=""):
    """Open ``kind`` on an issued, active card at an issuing terminal: ACTIVE at once, event,
    audit and credential list. The only way for IC cards; an M1 card never carries a purse.

    ``actor=None`` is the issuing terminal itself (``terminal_code`` names it)."""
    kind = _kind(kind)
    if not isinstance(terminal_code, str) or len(terminal_code) > 64:
        raise InvalidInput({"terminal_code": [_("At most %(count)s characters.")
                                              % {"count": 64}]})
    card = lock_card(card)
    if actor is not None and (getattr(actor, "role", None) not in LOCAL_OPENING_ROLES
                              or not Card.objects.changeable_by(actor).filter(pk=card.pk)
                              .exists()):
        raise NotAllowed(_("Your role may not open applications on this card."))
    if card.status != CardStatus.ACTIVE or not card.member_id:
        raise DomainError(_("Only an issued, active card can have applications opened; this one "
                            "is “%(status)s”.") % {"status": CardStatus(card.status).label},
                          field="card", code="card_not_active")
    if card.chip_type == ChipType.M1 and kind == ApplicationKind.PURSE:
        raise DomainError(_("An M1 card cannot carry a purse."), field="kind",
                          code="m1_no_purse")
    _refuse_existing(card, kind)
    _clear_failed(card, kind, actor=actor)
    check_plan(card.group_customer, kind)
    now = timezone.now()
    try:
        with transaction.atomic():
            application = CardApplication.objects.create(
                card=card, group_customer=card.group_customer, kind=kind,
                status=ApplicationStatus.ACTIVE, channel=OpeningChannel.LOCAL,
                requested_by=_person(actor), opened_at=now)
    except IntegrityError:
        raise Conflict(_("This card already has this application."), field="kind",
                       code="application_exists") from None
    record(card, CardEventKind.APPLICATION_OPENED, actor=actor, application=application,
           detail={"channel": OpeningChannel.LOCAL, "terminal_code": terminal_code.strip()})
    credentials.publish(card)
    return application
