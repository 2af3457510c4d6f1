"""Actions of the service desk. Every state change of a ticket or work order goes through one.

Each action is atomic, takes ``actor=`` keyword-only (``None`` is the system: command line, demo
set-up), re-reads the ticket or work order under a row lock, checks the role rule and the
transition table, logs a ``TicketEvent`` and writes one audit record in the same transaction.
Object access (may this person reach this ticket at all?) is the gatekeepers' job at the entry
point; the role rules here are about what a person who reaches it may do.
"""

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from onecard.accounts.choices import OPERATOR_STAFF, Role
from onecard.audit.actions import write_audit
from onecard.core.errors import InvalidInput, NotAllowed
from onecard.core.locks import lock_one
from onecard.core.transitions import require_transition
from onecard.core.validation import clean_or_refuse, snapshot
from onecard.organizations.choices import GroupCustomerStatus
from onecard.organizations.models import GroupCustomer, Integrator, TerminalVendor

from . import sla
from .choices import (
    OPEN_STATUSES,
    TICKET_TRANSITIONS,
    WORK_ORDER_TRANSITIONS,
    AssigneeKind,
    TicketChannel,
    TicketClass,
    TicketEventKind,
    TicketPriority,
    TicketStatus,
    WorkOrderOutcome,
    WorkOrderStatus,
)
from .errors import AlreadyEscalated, NotConfirmed, NotCustomerSide, WorkOrderStillOpen
from .models import Ticket, TicketEvent, WorkOrder

# Who may take a ticket in, and the channel each role's intake is recorded under by default.
INTAKE_CHANNEL = {
    Role.OPERATOR_ADMIN: TicketChannel.HOTLINE,
    Role.SERVICE_AGENT_T1: TicketChannel.HOTLINE,
    Role.CUSTOMER_MANAGER: TicketChannel.CUSTOMER_MANAGER,
    Role.ENTERPRISE_ADMIN: TicketChannel.ENTERPRISE_ADMIN,
    Role.MEMBER: TicketChannel.SELF_SERVICE,
}
# Operator staff may record a ticket under either operator-side channel (a customer manager
# logging a hotline call, say); tenant people always come in through their own channel.
STAFF_CHANNELS = {TicketChannel.HOTLINE, TicketChannel.CUSTOMER_MANAGER}
SATISFACTION_RANGE = range(1, 6)
ESCALATING_ROLES = (Role.SERVICE_AGENT_T1, Role.CUSTOMER_MANAGER)


def _role(actor):
    return getattr(actor, "role", None)


def _require_text(name, value, message=None):
    if not (value or "").strip():
        raise InvalidInput({name: [message or _("This field is required.")]}, code="required")
    return value.strip()


def works_queue(actor, ticket):
    """Does ``actor`` work the ticket's current queue? Tier-1 agents and customer managers work
    tier 1, tier-2 agents tier 2, operator admins both."""
    role = _role(actor)
    return role == Role.OPERATOR_ADMIN or (
        ticket.tier == 1 and role in (Role.SERVICE_AGENT_T1, Role.CUSTOMER_MANAGER)
    ) or (ticket.tier == 2 and role == Role.SERVICE_AGENT_T2)


def _require_queue_worker(actor, ticket):
    if actor is not None and not works_queue(actor, ticket):
        raise NotAllowed(_(
            "Only the ticket's queue works it: tier-1 agents and customer managers for tier 1, "
            "tier-2 agents for tier 2."
        ))


def is_customer_side(actor, ticket):
    """An enterprise admin of the ticket's customer, or the member the ticket was raised for."""
    role = _role(actor)
    if role == Role.ENTERPRISE_ADMIN:
        return actor.group_customer_id == ticket.group_customer_id
    if role == Role.MEMBER:
        return ticket.member_id is not None and actor.member_id == ticket.member_id
    return False


def _require_customer_side(actor, ticket):
    if actor is not None and not is_customer_side(actor, ticket):
        raise NotCustomerSide(_(
            "Only the customer confirms or rejects a resolution: an enterprise admin of this "
            "customer or the member who raised the ticket."
        ))


def _lock_ticket(ticket):
    return lock_one(Ticket.objects.all(), ticket.pk)


def _log(ticket, *, actor, kind, now, from_status="", to_status="", note="", work_order=None):
    return TicketEvent.objects.create(
        ticket=ticket, kind=kind, from_status=from_status, to_status=to_status,
        tier=ticket.tier, actor=actor if getattr(actor, "pk", None) else None,
        note=note or "", work_order=work_order, created_at=now,
    )


def _move(ticket, target, *, actor, kind, audit_action, now, note="", work_order=None,
          **fields):
    """Change a locked ticket's status by the table, set ``fields``, log and audit the step."""
    require_transition(TICKET_TRANSITIONS, TicketStatus, ticket.status, target)
    before = snapshot(ticket)
    previous = ticket.status
    ticket.status = target
    for name, value in fields.items():
        setattr(ticket, name, value)
    clean_or_refuse(ticket)
    ticket.save(update_fields=["status", *fields])
    _log(ticket, actor=actor, kind=kind, now=now, from_status=previous, to_status=target,
         note=note, work_order=work_order)
    write_audit(actor=actor, action=audit_action, obj=ticket,
                group_customer_id=ticket.group_customer_id, before=before,
                after=snapshot(ticket), reason=note)
    return ticket


# --- Intake -----------------------------------------------------------------------------------


@transaction.atomic
def open_ticket(*, actor, group_customer, ticket_class, title, description,
                priority=TicketPriority.P3, channel=None, member=None, vendor=None,
                contact_name="", contact_phone="", received_at=None):
    """Take a ticket in (受理). It lands in the tier-1 queue of the customer's branch with its
    SLA deadlines computed from the priority.

    Members raise tickets for themselves; enterprise admins for their own customer; operator
    staff for any customer they reach (the entry point's gatekeeper decides which).
    ``received_at`` is when the call came in, if it is recorded later (the SLA clock starts
    then); it cannot be in the future. The API and console do not offer it.
    """
    role = _role(actor)
    # Decide on the rows as they are now, not as the caller last read them.
    group_customer = GroupCustomer.objects.get(pk=group_customer.pk)
    vendor = TerminalVendor.objects.get(pk=vendor.pk) if vendor is not None else None
    if actor is not None and role not in INTAKE_CHANNEL:
        raise NotAllowed(_("Your role may not take tickets in."))
    if role in (Role.ENTERPRISE_ADMIN, Role.MEMBER) and (
        group_customer.pk != actor.group_customer_id
    ):
        raise InvalidInput({"group_customer": [_("Not your group customer.")]})
    if role == Role.MEMBER:
        if member is not None and member.pk != actor.member_id:
            raise InvalidInput({"member": [_("Members raise tickets for themselves only.")]})
        member = actor.member
    default_channel = INTAKE_CHANNEL.get(role, TicketChannel.HOTLINE)
    if channel and channel != default_channel and not (
        role in OPERATOR_STAFF and channel in STAFF_CHANNELS
    ) and actor is not None:
        raise InvalidInput({"channel": [_("You cannot take a ticket in through this channel.")]})
    if group_customer.status == GroupCustomerStatus.CLOSED:
        raise InvalidInput({"group_customer": [_("This customer's contract has ended.")]})
    if member is not None and member.group_customer_id != group_customer.pk:
        raise InvalidInput({"member": [_("This member belongs to another customer.")]})
    if vendor is not None and not vendor.is_active:
        raise InvalidInput({"vendor": [_("This vendor is not active.")]})
    if priority not in TicketPriority.values:
        raise InvalidInput({"priority": [_("Unknown priority.")]})
    now = timezone.now()
    if received_at is not None and received_at > now:
        raise InvalidInput({"received_at": [_("A ticket cannot come in in the future.")]})
    now = received_at or now
    ticket = Ticket(
        group_customer=group_customer, member=member, vendor=vendor,
        branch_id=group_customer.branch_id, channel=channel or default_channel,
        ticket_class=ticket_class, priority=priority, title=(title or "").strip(),
        description=(description or "").strip(), contact_name=contact_name or "",
        contact_phone=contact_phone or "", raised_by=actor if getattr(actor, "pk", None) else None,
        created_at=now, **sla.deadlines(priority, now),
    )
    clean_or_refuse(ticket)
    ticket.save(force_insert=True)
    _log(ticket, actor=actor, kind=TicketEventKind.OPENED, now=now,
         to_status=TicketStatus.NEW)
    write_audit(actor=actor, action="ticket.opened", obj=ticket,
                group_customer_id=ticket.group_customer_id, after=snapshot(ticket))
    return ticket


# --- The queue's steps ------------------------------------------------------------------------


@transaction.atomic
def acknowledge_ticket(*, actor, ticket, note=""):
    """new / escalated / reopened → acknowledged: someone of the ticket's queue has taken it.
    The first acknowledgement is the response the response SLA measures."""
    ticket = _lock_ticket(ticket)
    _require_queue_worker(actor, ticket)
    now = timezone.now()
    return _move(ticket, TicketStatus.ACKNOWLEDGED, actor=actor, kind=TicketEventKind.ACKNOWLEDGED,
                 audit_action="ticket.acknowledged", now=now, note=note,
                 acknowledged_at=ticket.acknowledged_at or now)


@transaction.atomic
def escalate_ticket(*, actor, ticket, reason):
    """Tier 1 → the tier-2 queue, once. Only tier-1 agents and customer managers escalate."""
    if actor is not None and _role(actor) not in ESCALATING_ROLES:
        raise NotAllowed(_("Only tier-1 agents and customer managers escalate tickets."))
    reason = _require_text("reason", reason, _("Say why the ticket goes to tier 2."))
    ticket = _lock_ticket(ticket)
    if ticket.tier != 1 or ticket.escalated_at is not None:
        raise AlreadyEscalated(_(
            "This ticket was already escalated to tier 2; a ticket is escalated only once."
        ))
    _require_queue_worker(actor, ticket)
    now = timezone.now()
    # Escalating is an answer to the customer too: it stops the response timer.
    return _move(ticket, TicketStatus.ESCALATED, actor=actor, kind=TicketEventKind.ESCALATED,
                 audit_action="ticket.escalated", now=now, note=reason, tier=2,
                 escalated_at=now, escalated_by=actor if getattr(actor, "pk", None) else None,
                 acknowledged_at=ticket.acknowledged_at or now)


def suggested_integrators(ticket):
    """Integrators a work order for ``ticket`` may go to: active ones serving its county."""
    return Integrator.objects.filter(counties=ticket.branch_id, is_active=True).order_by("name")


@transaction.atomic
def dispatch_ticket(*, actor, ticket, integrator=None, vendor=None, instructions=""):
    """acknowledged → dispatched: send a work order (派工) to the local integrator — one that
    serves the customer's county — or to the terminal vendor. Business tickets are not
    dispatched: the desk answers them or escalates them."""
    ticket = _lock_ticket(ticket)
    _require_queue_worker(actor, ticket)
    if (integrator is None) == (vendor is None):
        raise InvalidInput({"integrator": [_("Choose either an integrator or a vendor.")]},
                           code="one_assignee")
    if ticket.ticket_class == TicketClass.BUSINESS:
        raise InvalidInput({"ticket_class": [_(
            "Business tickets are not dispatched: the desk answers them or escalates them."
        )]}, code="not_dispatchable")
    integrator = Integrator.objects.get(pk=integrator.pk) if integrator is not None else None
    vendor = TerminalVendor.objects.get(pk=vendor.pk) if vendor is not None else None
    if integrator is not None:
        if not integrator.is_active:
            raise InvalidInput({"integrator": [_("This integrator is not active.")]})
        if not integrator.counties.filter(pk=ticket.branch_id).exists():
            raise InvalidInput({"integrator": [_(
                "%(integrator)s does not serve %(county)s: a work order goes to an integrator "
                "serving the customer's county."
            ) % {"integrator": integrator.name, "county": ticket.branch.name}]},
                code="integrator_not_serving_county")
    if vendor is not None and not vendor.is_active:
        raise InvalidInput({"vendor": [_("This vendor is not active.")]})
    require_transition(TICKET_TRANSITIONS, TicketStatus, ticket.status, TicketStatus.DISPATCHED)
    now = timezone.now()
    work_order = WorkOrder(
        ticket=ticket,
        assignee_kind=AssigneeKind.INTEGRATOR if integrator else AssigneeKind.VENDOR,
        integrator=integrator, vendor=vendor, instructions=(instructions or "").strip(),
        dispatched_by=actor if getattr(actor, "pk", None) else None, created_at=now,
    )
    clean_or_refuse(work_order)
    work_order.save(force_insert=True)
    write_audit(actor=actor, action="work_order.dispatched", obj=work_order,
                group_customer_id=ticket.group_customer_id, after=snapshot(work_order))
    _move(ticket, TicketStatus.DISPATCHED, actor=actor, kind=TicketEventKind.DISPATCHED,
          audit_action="ticket.dispatched", now=now, note=str(work_order.assignee),
          work_order=work_order, dispatched_at=now)
    return work_order


@transaction.atomic
def resolve_ticket(*, actor, ticket, resolution):
    """acknowledged → resolved by the queue itself (no work order, or after one came back not
    fixed). A ticket with a work order in progress is resolved by its engineer's report."""
    resolution = _require_text("resolution", resolution)
    ticket = _lock_ticket(ticket)
    _require_queue_worker(actor, ticket)
    if ticket.status in (TicketStatus.DISPATCHED, TicketStatus.ON_SITE):
        raise WorkOrderStillOpen(_(
            "A work order is in progress: the engineer reports its result."
        ))
    now = timezone.now()
    return _move(ticket, TicketStatus.RESOLVED, actor=actor, kind=TicketEventKind.RESOLVED,
                 audit_action="ticket.resolved", now=now, note=resolution,
                 resolution=resolution, resolved_at=now)


@transaction.atomic
def cancel_ticket(*, actor, ticket, reason):
    """→ cancelled, before any work order is in progress: by the ticket's queue or by the
    customer who raised it."""
    reason = _require_text("reason", reason)
    ticket = _lock_ticket(ticket)
    if not is_customer_side(actor, ticket):
        _require_queue_worker(actor, ticket)
    return _move(ticket, TicketStatus.CANCELLED, actor=actor, kind=TicketEventKind.CANCELLED,
                 audit_action="ticket.cancelled", now=timezone.now(), note=reason)


@transaction.atomic
def close_ticket(*, actor, ticket, note=""):
    """confirmed → closed, by the ticket's queue. Refused while the customer has not
    confirmed the resolution."""
    ticket = _lock_ticket(ticket)
    _require_queue_worker(actor, ticket)
    if ticket.status not in (TicketStatus.CONFIRMED, TicketStatus.CLOSED, TicketStatus.CANCELLED):
        raise NotConfirmed(_(
            "The customer has not confirmed the resolution: a ticket is closed only after the "
            "customer confirms it."
        ))
    now = timezone.now()
    return _move(ticket, TicketStatus.CLOSED, actor=actor, kind=TicketEventKind.CLOSED,
                 audit_action="ticket.closed", now=now, note=note, closed_at=now)


# --- The customer's answer --------------------------------------------------------------------


@transaction.atomic
def confirm_resolution(*, actor, ticket, satisfaction=None, comment=""):
    """resolved → confirmed, by the customer only, with an optional satisfaction score 1–5."""
    if satisfaction is not None and (
        isinstance(satisfaction, bool) or satisfaction not in SATISFACTION_RANGE
    ):
        raise InvalidInput({"satisfaction": [_("Give a score from 1 to 5.")]})
    ticket = _lock_ticket(ticket)
    _require_customer_side(actor, ticket)
    now = timezone.now()
    return _move(ticket, TicketStatus.CONFIRMED, actor=actor, kind=TicketEventKind.CONFIRMED,
                 audit_action="ticket.confirmed", now=now, note=comment,
                 confirmed_at=now, confirmed_by=actor if getattr(actor, "pk", None) else None,
                 satisfaction=satisfaction, customer_comment=(comment or "").strip())


@transaction.atomic
def reject_resolution(*, actor, ticket, reason):
    """resolved → reopened, by the customer only: the problem is not solved. The resolution
    timer runs again from the original deadline."""
    reason = _require_text("reason", reason, _("Say what is still wrong."))
    ticket = _lock_ticket(ticket)
    _require_customer_side(actor, ticket)
    return _move(ticket, TicketStatus.REOPENED, actor=actor, kind=TicketEventKind.REOPENED,
                 audit_action="ticket.reopened", now=timezone.now(), note=reason,
                 resolved_at=None)


# --- Work orders: the engineer's steps --------------------------------------------------------


def is_assignee_engineer(actor, work_order):
    """An engineer of the integrator or vendor the work order went to."""
    role = _role(actor)
    return (role == Role.INTEGRATOR_ENGINEER and work_order.integrator_id is not None
            and actor.integrator_id == work_order.integrator_id) or (
        role == Role.VENDOR_ENGINEER and work_order.vendor_id is not None
        and actor.vendor_id == work_order.vendor_id)


def _require_engineer(actor, work_order):
    if actor is not None and not is_assignee_engineer(actor, work_order):
        raise NotAllowed(_("Only an engineer of the company the work order went to works on it."))


def _lock_work_order(work_order):
    work_order = lock_one(WorkOrder.objects.all(), work_order.pk)
    ticket = _lock_ticket(work_order.ticket)
    return work_order, ticket


def _move_work_order(work_order, target, *, actor, ticket, audit_action, reason="", **fields):
    """Change a locked work order's status by the table and audit it. When the step moves the
    ticket too, ``_move`` writes the ticket's own record."""
    require_transition(WORK_ORDER_TRANSITIONS, WorkOrderStatus, work_order.status, target)
    before = snapshot(work_order)
    work_order.status = target
    for name, value in fields.items():
        setattr(work_order, name, value)
    clean_or_refuse(work_order)
    work_order.save(update_fields=["status", *fields])
    write_audit(actor=actor, action=audit_action, obj=work_order,
                group_customer_id=ticket.group_customer_id, before=before,
                after=snapshot(work_order), reason=reason)


@transaction.atomic
def accept_work_order(*, actor, work_order):
    """dispatched → accepted: an engineer of the assignee takes the job."""
    work_order, ticket = _lock_work_order(work_order)
    _require_engineer(actor, work_order)
    now = timezone.now()
    _move_work_order(work_order, WorkOrderStatus.ACCEPTED, actor=actor, ticket=ticket,
                     audit_action="work_order.accepted", accepted_at=now,
                     engineer=actor if getattr(actor, "pk", None) else None)
    _log(ticket, actor=actor, kind=TicketEventKind.WORK_ORDER_ACCEPTED, now=now,
         work_order=work_order)
    return work_order


@transaction.atomic
def decline_work_order(*, actor, work_order, reason):
    """dispatched → declined; the ticket goes back to its queue (acknowledged) to be
    dispatched again or escalated."""
    reason = _require_text("reason", reason)
    work_order, ticket = _lock_work_order(work_order)
    _require_engineer(actor, work_order)
    _move_work_order(work_order, WorkOrderStatus.DECLINED, actor=actor, ticket=ticket,
                     audit_action="work_order.declined", reason=reason, decline_reason=reason)
    _move(ticket, TicketStatus.ACKNOWLEDGED, actor=actor,
          kind=TicketEventKind.WORK_ORDER_DECLINED, audit_action="ticket.returned_to_queue",
          now=timezone.now(), note=reason, work_order=work_order)
    return work_order


@transaction.atomic
def arrive_on_site(*, actor, work_order, note=""):
    """accepted → on site; the ticket too. The first arrival is what the on-site SLA measures."""
    work_order, ticket = _lock_work_order(work_order)
    _require_engineer(actor, work_order)
    now = timezone.now()
    _move_work_order(work_order, WorkOrderStatus.ON_SITE, actor=actor, ticket=ticket,
                     audit_action="work_order.arrived", reason=note, arrived_at=now)
    _move(ticket, TicketStatus.ON_SITE, actor=actor, kind=TicketEventKind.ARRIVED,
          audit_action="ticket.on_site", now=now, note=note, work_order=work_order,
          on_site_at=ticket.on_site_at or now)
    return work_order


@transaction.atomic
def report_work_order(*, actor, work_order, outcome, result):
    """accepted / on site → completed with the engineer's result. Fixed: the ticket is resolved
    with the result as its resolution. Not fixed: the ticket goes back to its queue."""
    result = _require_text("result", result)
    if outcome not in WorkOrderOutcome.values:
        raise InvalidInput({"outcome": [_("Say whether it was fixed.")]})
    work_order, ticket = _lock_work_order(work_order)
    _require_engineer(actor, work_order)
    now = timezone.now()
    _move_work_order(work_order, WorkOrderStatus.COMPLETED, actor=actor, ticket=ticket,
                     audit_action="work_order.reported", reason=result, completed_at=now,
                     outcome=outcome, result=result)
    if outcome == WorkOrderOutcome.FIXED:
        _move(ticket, TicketStatus.RESOLVED, actor=actor,
              kind=TicketEventKind.WORK_ORDER_REPORTED, audit_action="ticket.resolved",
              now=now, note=result, work_order=work_order, resolution=result, resolved_at=now)
    else:
        _move(ticket, TicketStatus.ACKNOWLEDGED, actor=actor,
              kind=TicketEventKind.WORK_ORDER_REPORTED, audit_action="ticket.returned_to_queue",
              now=now, note=result, work_order=work_order)
    return work_order


# --- SLA breaches -----------------------------------------------------------------------------


@transaction.atomic
def record_sla_breaches(*, actor=None, now=None):
    """Write one ``sla_breached`` history row (and audit record) per ticket and SLA kind the
    first time it is found breached. Breach flags are computed anyway (``with_sla``); this
    makes them part of the ticket's history. Idempotent. Returns the number recorded."""
    now = now or timezone.now()
    recorded = 0
    candidates = Ticket.objects.with_sla(now).filter(sla_breached=True)
    already = {}
    for ticket_id, note in TicketEvent.objects.filter(
        kind=TicketEventKind.SLA_BREACHED, ticket__in=candidates.values("pk"),
    ).values_list("ticket_id", "note"):
        already.setdefault(ticket_id, set()).add(note)
    for ticket in candidates.order_by("pk"):
        for kind in ticket.sla_breaches(now):
            if kind in already.get(ticket.pk, ()):
                continue
            _log(ticket, actor=actor, kind=TicketEventKind.SLA_BREACHED, now=now, note=kind)
            write_audit(actor=actor, action="ticket.sla_breached", obj=ticket,
                        group_customer_id=ticket.group_customer_id, after={"sla": str(kind)})
            recorded += 1
    return recorded


__all__ = [
    "OPEN_STATUSES", "accept_work_order", "acknowledge_ticket", "arrive_on_site",
    "cancel_ticket", "close_ticket", "confirm_resolution", "decline_work_order",
    "dispatch_ticket", "escalate_ticket", "is_assignee_engineer", "is_customer_side",
    "open_ticket", "works_queue",
    "record_sla_breaches", "reject_resolution", "report_work_order", "resolve_ticket",
    "suggested_integrators",
]
