"""Service desk reports: tickets by class, branch and status; SLA breaches; integrator workload
and resolution times; satisfaction. Only reads, and only through the gatekeepers: each person's
report counts the tickets they may see.

Durations are computed in Python from the timestamps (the same answer on SQLite and
PostgreSQL); a report covers at most ``MAX_ROWS`` tickets per figure that needs them row by row.
"""

import io
import unicodedata
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time

from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from .choices import (
    ACTIVE_WORK_ORDER_STATUSES,
    AssigneeKind,
    SlaKind,
    TicketClass,
    TicketStatus,
    WorkOrderOutcome,
    WorkOrderStatus,
)
from .models import Ticket, WorkOrder

MAX_ROWS = 50_000
BREACH_LIST_LIMIT = 200


@dataclass(frozen=True)
class Period:
    """Tickets opened on or after ``since`` and on or before ``until`` (local dates; either may
    be None)."""

    since: date | None = None
    until: date | None = None

    def q(self):
        q = Q()
        tz = timezone.get_current_timezone()
        if self.since:
            q &= Q(created_at__gte=datetime.combine(self.since, time.min, tzinfo=tz))
        if self.until:
            q &= Q(created_at__lte=datetime.combine(self.until, time.max, tzinfo=tz))
        return q


def _hours(start, end):
    return round((end - start).total_seconds() / 3600, 2)


def _average(values):
    return round(sum(values) / len(values), 2) if values else None


def tickets_for(user, period=Period()):
    return Ticket.objects.visible_to(user).filter(period.q())


def summary(user, *, now=None, period=Period()):
    """Every figure of the service report for ``user``, as plain data (JSON-ready)."""
    now = now or timezone.now()
    tickets = tickets_for(user, period)
    counted = tickets.order_by()

    by_class = dict(counted.values_list("ticket_class").annotate(n=Count("pk")))
    by_status = dict(counted.values_list("status").annotate(n=Count("pk")))
    by_branch = [
        {"branch": row["branch"], "branch_name": row["branch__name"], "count": row["n"],
         "open": row["open"]}
        for row in counted.values("branch", "branch__name").annotate(
            n=Count("pk"), open=Count("pk", filter=~Q(status__in=CLOSED_STATES)),
        ).order_by("branch__name", "branch")
    ]

    flagged = tickets.with_sla(now)
    sla = flagged.order_by().aggregate(
        response=Count("pk", filter=Q(response_breached=True)),
        on_site=Count("pk", filter=Q(on_site_breached=True)),
        resolution=Count("pk", filter=Q(resolution_breached=True)),
        any=Count("pk", filter=Q(sla_breached=True)),
    )
    breached = [
        {"id": t.pk, "number": t.number, "title": t.title, "group_customer": t.group_customer.name,
         "branch": t.branch.name, "priority": t.priority, "status": t.status, "tier": t.tier,
         "breaches": [str(kind) for kind in t.sla_breaches(now)],
         "breach_labels": [str(SlaKind(kind).label) for kind in t.sla_breaches(now)],
         "created_at": t.created_at.isoformat()}
        for t in flagged.filter(sla_breached=True).select_related("group_customer", "branch")
        .order_by("resolution_due_at", "pk")[:BREACH_LIST_LIMIT]
    ]

    resolution_hours = defaultdict(list)
    for ticket_class, created_at, resolved_at in tickets.filter(
        resolved_at__isnull=False
    ).order_by("pk").values_list("ticket_class", "created_at", "resolved_at")[:MAX_ROWS]:
        resolution_hours[ticket_class].append(_hours(created_at, resolved_at))

    scores = list(tickets.filter(satisfaction__isnull=False).values_list("satisfaction",
                                                                         flat=True)[:MAX_ROWS])
    return {
        "generated_at": now.isoformat(),
        "ticket_count": sum(by_status.values()),
        "by_class": [{"ticket_class": value, "label": str(label),
                      "count": by_class.get(value, 0)} for value, label in TicketClass.choices],
        "by_status": [{"status": value, "label": str(label), "count": by_status.get(value, 0)}
                      for value, label in TicketStatus.choices],
        "by_branch": by_branch,
        "sla_breaches": {**sla, "tickets": breached},
        "integrators": integrator_workload(user, tickets),
        "resolution_times": [
            {"ticket_class": value, "label": str(label),
             "resolved": len(resolution_hours[value]),
             "average_hours": _average(resolution_hours[value]),
             "longest_hours": max(resolution_hours[value], default=None)}
            for value, label in TicketClass.choices
        ],
        "satisfaction": {"answers": len(scores), "average": _average(scores)},
    }


CLOSED_STATES = (TicketStatus.RESOLVED, TicketStatus.CONFIRMED, TicketStatus.CLOSED,
                 TicketStatus.CANCELLED)


def integrator_workload(user, tickets):
    """Per integrator: work orders in progress, completed (fixed / not fixed), declined, and the
    average hours from dispatch to arrival and to completion."""
    orders = WorkOrder.objects.visible_to(user).filter(
        ticket__in=tickets.values("pk"), assignee_kind=AssigneeKind.INTEGRATOR,
    ).order_by("pk").values_list("integrator_id", "integrator__name", "status", "outcome",
                                 "created_at", "arrived_at", "completed_at")[:MAX_ROWS]
    rows = {}
    for integrator_id, name, status, outcome, created_at, arrived_at, completed_at in orders:
        row = rows.setdefault(integrator_id, {
            "integrator": integrator_id, "name": name, "in_progress": 0, "completed": 0,
            "fixed": 0, "declined": 0, "_arrival": [], "_completion": []})
        if status in ACTIVE_WORK_ORDER_STATUSES:
            row["in_progress"] += 1
        elif status == WorkOrderStatus.COMPLETED:
            row["completed"] += 1
            row["fixed"] += outcome == WorkOrderOutcome.FIXED
            row["_completion"].append(_hours(created_at, completed_at))
        elif status == WorkOrderStatus.DECLINED:
            row["declined"] += 1
        if arrived_at:
            row["_arrival"].append(_hours(created_at, arrived_at))
    result = []
    for row in sorted(rows.values(), key=lambda r: (r["name"], r["integrator"])):
        row["average_hours_to_site"] = _average(row.pop("_arrival"))
        row["average_hours_to_complete"] = _average(row.pop("_completion"))
        result.append(row)
    return result


# --- Export -----------------------------------------------------------------------------------

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def _cell(sheet, value):
    """Numbers stay numbers; text is always stored as text (formula-looking text quoted)."""
    from openpyxl.cell import WriteOnlyCell

    if isinstance(value, bool) or value is None:
        value = "" if value is None else str(value)
    if isinstance(value, int | float):
        return WriteOnlyCell(sheet, value=value)
    text = "".join(ch for ch in str(value)
                   if ch in "\t\n\r" or unicodedata.category(ch) != "Cc")
    cell = WriteOnlyCell(sheet, value=text)
    cell.data_type = "s"
    if text.startswith(FORMULA_PREFIXES):
        cell.quotePrefix = True
    return cell


def export_xlsx(report) -> bytes:
    """The report from ``summary`` as an .xlsx workbook, one sheet per figure."""
    import openpyxl

    workbook = openpyxl.Workbook(write_only=True)

    def sheet(title, header, rows):
        ws = workbook.create_sheet(title)
        ws.append([_cell(ws, h) for h in header])
        for row in rows:
            ws.append([_cell(ws, v) for v in row])

    sheet(_("By class"), [_("Class"), _("Tickets")],
          [(r["label"], r["count"]) for r in report["by_class"]])
    sheet(_("By branch"), [_("Branch"), _("Tickets"), _("Open")],
          [(r["branch_name"], r["count"], r["open"]) for r in report["by_branch"]])
    sheet(_("By status"), [_("Status"), _("Tickets")],
          [(r["label"], r["count"]) for r in report["by_status"]])
    sla = report["sla_breaches"]
    sheet(_("SLA breaches"),
          [_("Ticket"), _("Title"), _("Group customer"), _("Branch"), _("Priority"),
           _("Status"), _("Tier"), _("Breached")],
          [(t["number"], t["title"], t["group_customer"], t["branch"], t["priority"].upper(),
            str(TicketStatus(t["status"]).label), t["tier"],
            ", ".join(t["breach_labels"])) for t in sla["tickets"]]
          + [("", "", "", "", "", "", _("Total"), sla["any"])])
    sheet(_("Integrators"),
          [_("Integrator"), _("In progress"), _("Completed"), _("Fixed"), _("Declined"),
           _("Average hours to site"), _("Average hours to complete")],
          [(r["name"], r["in_progress"], r["completed"], r["fixed"], r["declined"],
            r["average_hours_to_site"], r["average_hours_to_complete"])
           for r in report["integrators"]])
    sheet(_("Resolution times"),
          [_("Class"), _("Resolved"), _("Average hours"), _("Longest hours")],
          [(r["label"], r["resolved"], r["average_hours"], r["longest_hours"])
           for r in report["resolution_times"]])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
