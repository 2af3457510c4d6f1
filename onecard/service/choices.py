"""Choice sets and lifecycle tables of the service desk (售后服务台)."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class TicketChannel(models.TextChoices):
    """Where a ticket came in."""

    HOTLINE = "hotline", _("10086 hotline")  # 10086 热线
    CUSTOMER_MANAGER = "customer_manager", _("Customer manager")  # 客户经理
    ENTERPRISE_ADMIN = "enterprise_admin", _("Enterprise admin")  # 企业管理员
    SELF_SERVICE = "self_service", _("Member self-service")  # 成员自助


class TicketClass(models.TextChoices):
    """What kind of problem; it decides where the ticket can be routed (DESIGN.md §2)."""

    TERMINAL = "terminal", _("Terminal")  # 终端类: vendor or local integrator
    ENGINEERING = "engineering", _("Engineering")  # 工程类: local integrator
    BUSINESS = "business", _("Business")  # 业务类: customer manager / 10086 / tier 2


class TicketPriority(models.TextChoices):
    P1 = "p1", _("P1 – critical")  # 紧急: the whole site is down
    P2 = "p2", _("P2 – high")  # 高: a service is down for many members
    P3 = "p3", _("P3 – normal")  # 中: one member or one terminal affected
    P4 = "p4", _("P4 – low")  # 低: a question or a request


class TicketStatus(models.TextChoices):
    # Taken in, nobody has answered yet: the response timer runs.
    NEW = "new", _("New")
    # An agent or customer manager of the ticket's queue has taken it: the response is made.
    ACKNOWLEDGED = "acknowledged", _("Acknowledged")
    # Sent up to the tier-2 queue; waits for a tier-2 agent to take it.
    ESCALATED = "escalated", _("Escalated")
    # A work order went to an integrator or the vendor; waits for the engineer.
    DISPATCHED = "dispatched", _("Dispatched")
    # The engineer reported arriving on site.
    ON_SITE = "on_site", _("On site")
    # A resolution is recorded; waits for the customer to confirm or reject it.
    RESOLVED = "resolved", _("Resolved")
    # The customer rejected the resolution: back to the queue.
    REOPENED = "reopened", _("Reopened")
    # The customer confirmed the resolution (with an optional satisfaction score).
    CONFIRMED = "confirmed", _("Confirmed")
    # Done; read-only history.
    CLOSED = "closed", _("Closed")
    # Withdrawn before it was resolved; read-only history.
    CANCELLED = "cancelled", _("Cancelled")


TICKET_TRANSITIONS = {
    TicketStatus.NEW: {TicketStatus.ACKNOWLEDGED, TicketStatus.ESCALATED, TicketStatus.CANCELLED},
    TicketStatus.ACKNOWLEDGED: {TicketStatus.DISPATCHED, TicketStatus.RESOLVED,
                                TicketStatus.ESCALATED, TicketStatus.CANCELLED},
    TicketStatus.ESCALATED: {TicketStatus.ACKNOWLEDGED, TicketStatus.CANCELLED},
    # Back to acknowledged when the engineer declines or could not fix it.
    TicketStatus.DISPATCHED: {TicketStatus.ON_SITE, TicketStatus.RESOLVED,
                              TicketStatus.ACKNOWLEDGED},
    TicketStatus.ON_SITE: {TicketStatus.RESOLVED, TicketStatus.ACKNOWLEDGED},
    TicketStatus.RESOLVED: {TicketStatus.CONFIRMED, TicketStatus.REOPENED},
    TicketStatus.REOPENED: {TicketStatus.ACKNOWLEDGED, TicketStatus.ESCALATED,
                            TicketStatus.CANCELLED},
    TicketStatus.CONFIRMED: {TicketStatus.CLOSED},
    TicketStatus.CLOSED: set(),
    TicketStatus.CANCELLED: set(),
}

# Still waiting for a resolution: the SLA timers run on these.
OPEN_STATUSES = (
    TicketStatus.NEW, TicketStatus.ACKNOWLEDGED, TicketStatus.ESCALATED, TicketStatus.DISPATCHED,
    TicketStatus.ON_SITE, TicketStatus.REOPENED,
)


class TicketEventKind(models.TextChoices):
    """What a ticket history row records (besides the status change it may carry)."""

    OPENED = "opened", _("Opened")
    ACKNOWLEDGED = "acknowledged", _("Acknowledged")
    ESCALATED = "escalated", _("Escalated to tier 2")
    DISPATCHED = "dispatched", _("Work order dispatched")
    WORK_ORDER_ACCEPTED = "work_order_accepted", _("Work order accepted")
    WORK_ORDER_DECLINED = "work_order_declined", _("Work order declined")
    ARRIVED = "arrived", _("Engineer on site")
    WORK_ORDER_REPORTED = "work_order_reported", _("Work order result reported")
    RESOLVED = "resolved", _("Resolved")
    CONFIRMED = "confirmed", _("Confirmed by the customer")
    REOPENED = "reopened", _("Resolution rejected")
    CLOSED = "closed", _("Closed")
    CANCELLED = "cancelled", _("Cancelled")
    SLA_BREACHED = "sla_breached", _("SLA breached")


class WorkOrderStatus(models.TextChoices):
    # Sent to the integrator or vendor; nobody has taken it yet.
    DISPATCHED = "dispatched", _("Dispatched")
    # An engineer of the assignee took it.
    ACCEPTED = "accepted", _("Accepted")
    # The engineer is on site.
    ON_SITE = "on_site", _("On site")
    # The engineer reported the result (fixed or not).
    COMPLETED = "completed", _("Completed")
    # The assignee refused it; the ticket went back to its queue.
    DECLINED = "declined", _("Declined")


WORK_ORDER_TRANSITIONS = {
    WorkOrderStatus.DISPATCHED: {WorkOrderStatus.ACCEPTED, WorkOrderStatus.DECLINED},
    WorkOrderStatus.ACCEPTED: {WorkOrderStatus.ON_SITE, WorkOrderStatus.COMPLETED},
    WorkOrderStatus.ON_SITE: {WorkOrderStatus.COMPLETED},
    WorkOrderStatus.COMPLETED: set(),
    WorkOrderStatus.DECLINED: set(),
}

ACTIVE_WORK_ORDER_STATUSES = (
    WorkOrderStatus.DISPATCHED, WorkOrderStatus.ACCEPTED, WorkOrderStatus.ON_SITE,
)


class WorkOrderOutcome(models.TextChoices):
    FIXED = "fixed", _("Fixed")  # 已修复: the ticket becomes resolved
    NOT_FIXED = "not_fixed", _("Not fixed")  # 未修复: the ticket goes back to its queue


class AssigneeKind(models.TextChoices):
    INTEGRATOR = "integrator", _("Integrator")  # 施工集成商
    VENDOR = "vendor", _("Terminal vendor")  # 产品厂商


class SlaKind(models.TextChoices):
    RESPONSE = "response", _("Response")  # 响应
    ON_SITE = "on_site", _("On-site arrival")  # 到场
    RESOLUTION = "resolution", _("Resolution")  # 解决
