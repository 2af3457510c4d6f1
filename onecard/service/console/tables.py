"""Read-side shaping for the service desk pages. Only reads, through the gatekeepers."""

from django.db.models import Count, Q
from django.utils import timezone

from ..choices import OPEN_STATUSES
from ..models import Ticket, WorkOrder


def tickets(user, filters, *, now=None):
    """Tickets ``user`` may see, narrowed by a valid ``TicketFilterForm``'s data, with SLA flags."""
    rows = (Ticket.objects.visible_to(user).with_sla(now or timezone.now())
            .select_related("group_customer", "branch", "member"))
    if filters.get("tier"):
        rows = rows.filter(tier=filters["tier"])
    if filters.get("branch"):
        rows = rows.filter(branch=filters["branch"])
    status = filters.get("status")
    if status == "open":
        rows = rows.filter(status__in=OPEN_STATUSES)
    elif status:
        rows = rows.filter(status=status)
    for name in ("ticket_class", "priority"):
        if filters.get(name):
            rows = rows.filter(**{name: filters[name]})
    if filters.get("breached"):
        rows = rows.filter(sla_breached=filters["breached"] == "true")
    if filters.get("q"):
        text = filters["q"].strip()
        number = text.upper().removeprefix("SR")
        match = Q(title__icontains=text) | Q(group_customer__name__icontains=text) | Q(
            contact_phone__icontains=text)
        if number.isdigit() and len(number) <= 18:
            match |= Q(pk=int(number))
        rows = rows.filter(match)
    # The queue's order: the most urgent deadline first among open tickets, then the rest.
    return rows.order_by("priority", "resolution_due_at", "pk") if status == "open" else (
        rows.order_by("-created_at", "-pk"))


def queues(user):
    """Open tickets per queue (tier, branch) that ``user`` sees: the queue overview."""
    rows = (Ticket.objects.visible_to(user).filter(status__in=OPEN_STATUSES).order_by()
            .values("tier", "branch", "branch__name").annotate(count=Count("pk"))
            .order_by("tier", "branch__name", "branch"))
    return list(rows)


def work_orders(user, status=None):
    rows = WorkOrder.objects.visible_to(user).select_related(
        "ticket", "ticket__group_customer", "ticket__branch", "integrator", "vendor", "engineer")
    if status == "active":
        rows = rows.filter(status__in=["dispatched", "accepted", "on_site"])
    elif status:
        rows = rows.filter(status=status)
    return rows.order_by("-created_at", "-pk")
