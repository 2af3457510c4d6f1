"""SLA timers of the service desk: response, on-site and resolution deadlines per priority.

The table is wall-clock time from intake (no business-hours calendar). Override it with the
``ONECARD_SERVICE_SLA`` setting, a dict of the same shape: ``{priority: {kind: minutes}}``.
Deadlines are computed once, at intake, and stored on the ticket, so changing the table later
does not move the deadlines of tickets already taken in.
"""

from datetime import timedelta

from django.conf import settings

from .choices import SlaKind, TicketPriority

MINUTE = 1
HOUR = 60 * MINUTE
DAY = 24 * HOUR

DEFAULT_SLA = {
    TicketPriority.P1: {SlaKind.RESPONSE: 15 * MINUTE, SlaKind.ON_SITE: 2 * HOUR,
                        SlaKind.RESOLUTION: 4 * HOUR},
    TicketPriority.P2: {SlaKind.RESPONSE: 30 * MINUTE, SlaKind.ON_SITE: 4 * HOUR,
                        SlaKind.RESOLUTION: 1 * DAY},
    TicketPriority.P3: {SlaKind.RESPONSE: 2 * HOUR, SlaKind.ON_SITE: 1 * DAY,
                        SlaKind.RESOLUTION: 3 * DAY},
    TicketPriority.P4: {SlaKind.RESPONSE: 8 * HOUR, SlaKind.ON_SITE: 3 * DAY,
                        SlaKind.RESOLUTION: 7 * DAY},
}


def sla_table():
    """The SLA table in force: ``settings.ONECARD_SERVICE_SLA`` or the default above."""
    return getattr(settings, "ONECARD_SERVICE_SLA", None) or DEFAULT_SLA


def deadlines(priority, opened_at):
    """``{"response_due_at": …, "on_site_due_at": …, "resolution_due_at": …}`` for a ticket of
    ``priority`` taken in at ``opened_at``."""
    minutes = sla_table()[priority]
    return {
        f"{kind}_due_at": opened_at + timedelta(minutes=minutes[kind])
        for kind in (SlaKind.RESPONSE, SlaKind.ON_SITE, SlaKind.RESOLUTION)
    }
