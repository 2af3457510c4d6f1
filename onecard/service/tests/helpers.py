"""Helpers for the service desk tests: moving the clock, and what must not change on a refusal."""

from contextlib import contextmanager
from datetime import timedelta
from unittest import mock

from django.utils import timezone

from onecard.audit.models import AuditRecord
from onecard.service import actions
from onecard.service.models import Ticket, TicketEvent, WorkOrder


@contextmanager
def clock(when):
    """Run with ``timezone.now()`` answering ``when`` (every caller reads it through the module)."""
    with mock.patch.object(timezone, "now", return_value=when):
        yield when


def later(minutes=0, hours=0, days=0, start=None):
    return (start or timezone.now()) + timedelta(minutes=minutes, hours=hours, days=days)


def state():
    """Everything a refusal must leave alone: tickets, events, work orders and the audit log."""
    return (
        list(Ticket.objects.order_by("pk").values()),
        TicketEvent.objects.count(),
        list(WorkOrder.objects.order_by("pk").values()),
        AuditRecord.objects.count(),
    )


def open_for(world, *, customer=None, actor=None, **extra):
    fields = {"ticket_class": "terminal", "title": "Door controller offline",
              "description": "The east gate door controller does not answer.", **extra}
    return actions.open_ticket(actor=actor or world.agent1,
                               group_customer=customer or world.customer_a, **fields)


def dispatched(world, **extra):
    """A tier-1 ticket of customer A acknowledged and dispatched to the county A integrator."""
    ticket = open_for(world, **extra)
    actions.acknowledge_ticket(actor=world.agent1, ticket=ticket)
    work_order = actions.dispatch_ticket(actor=world.agent1, ticket=ticket,
                                         integrator=world.integrator)
    return ticket, work_order


def resolved(world, **extra):
    ticket = open_for(world, member=world.members_a[0], **extra)
    actions.acknowledge_ticket(actor=world.agent1, ticket=ticket)
    actions.resolve_ticket(actor=world.agent1, ticket=ticket, resolution="Reset the card.")
    ticket.refresh_from_db()
    return ticket
