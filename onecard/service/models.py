"""Service desk (售后服务台): tickets, their history, and the work orders dispatched for them.

A ticket belongs to one group customer and sits in the tier-1 queue of that customer's county
branch until it is escalated once to the central tier-2 queue. A work order sends a ticket to the
local integrator (one serving the customer's county) or to the terminal vendor.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from . import choices
from .querysets import TicketQuerySet, WorkOrderQuerySet


class Ticket(models.Model):
    """A service request (服务请求 / 工单) from a group customer or one of its members.

    Invariants: status changes only through ``service.actions`` following ``TICKET_TRANSITIONS``,
    each change logged as a ``TicketEvent`` and an audit record; ``tier`` is 1 until the one
    escalation makes it 2 (then ``escalated_at`` is set); ``branch`` is the customer's branch
    whose tier-1 queue holds it; SLA deadlines are fixed at intake from the priority; a
    satisfaction score is 1–5; a closed ticket was confirmed by the customer first.
    """

    group_customer = models.ForeignKey(
        "organizations.GroupCustomer", on_delete=models.PROTECT, related_name="tickets",
        verbose_name=_("group customer"),
    )
    member = models.ForeignKey(
        "people.Member", null=True, blank=True, on_delete=models.PROTECT,
        related_name="tickets", verbose_name=_("member"),
    )
    # The terminals issue adds ``terminal = ForeignKey("terminals.Terminal", null=True)`` here;
    # dispatch to the vendor then defaults to the terminal's vendor.
    vendor = models.ForeignKey(
        "organizations.TerminalVendor", null=True, blank=True, on_delete=models.PROTECT,
        related_name="tickets", verbose_name=_("terminal vendor"),
    )
    branch = models.ForeignKey(
        "organizations.Branch", on_delete=models.PROTECT, related_name="tickets",
        verbose_name=_("branch"),
    )
    channel = models.CharField(_("channel"), max_length=20,
                               choices=choices.TicketChannel.choices)
    ticket_class = models.CharField(_("class"), max_length=16,
                                    choices=choices.TicketClass.choices)
    priority = models.CharField(_("priority"), max_length=4,
                                choices=choices.TicketPriority.choices,
                                default=choices.TicketPriority.P3)
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"), max_length=5000)
    contact_name = models.CharField(_("contact name"), max_length=100, blank=True, default="")
    contact_phone = models.CharField(_("contact phone"), max_length=20, blank=True, default="")
    tier = models.PositiveSmallIntegerField(_("tier"), default=1,
                                            choices=[(1, _("Tier 1")), (2, _("Tier 2"))])
    status = models.CharField(_("status"), max_length=16, choices=choices.TicketStatus.choices,
                              default=choices.TicketStatus.NEW)
    raised_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT,
                                  related_name="+", verbose_name=_("raised by"))

    response_due_at = models.DateTimeField(_("respond by"))
    on_site_due_at = models.DateTimeField(_("on site by"))
    resolution_due_at = models.DateTimeField(_("resolve by"))

    acknowledged_at = models.DateTimeField(_("acknowledged at"), null=True, blank=True)
    escalated_at = models.DateTimeField(_("escalated at"), null=True, blank=True)
    escalated_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                     on_delete=models.PROTECT, related_name="+",
                                     verbose_name=_("escalated by"))
    dispatched_at = models.DateTimeField(_("dispatched at"), null=True, blank=True)
    on_site_at = models.DateTimeField(_("on site at"), null=True, blank=True)
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)
    resolution = models.TextField(_("resolution"), max_length=5000, blank=True, default="")
    confirmed_at = models.DateTimeField(_("confirmed at"), null=True, blank=True)
    confirmed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                     on_delete=models.PROTECT, related_name="+",
                                     verbose_name=_("confirmed by"))
    satisfaction = models.PositiveSmallIntegerField(_("satisfaction"), null=True, blank=True)
    customer_comment = models.TextField(_("customer comment"), max_length=2000, blank=True,
                                        default="")
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    created_at = models.DateTimeField(_("opened at"), default=timezone.now)

    objects = TicketQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["tier", "status", "branch"], name="ticket_queue")]
        constraints = [
            models.CheckConstraint(
                condition=Q(satisfaction__isnull=True)
                | Q(satisfaction__gte=1, satisfaction__lte=5),
                name="ticket_satisfaction_1_to_5",
                violation_error_message=_("The satisfaction score is from 1 to 5."),
            ),
            models.CheckConstraint(
                condition=Q(tier=1) | Q(tier=2, escalated_at__isnull=False),
                name="ticket_tier_2_only_by_escalation",
                violation_error_message=_("A ticket reaches tier 2 only by escalation."),
            ),
            models.CheckConstraint(
                condition=~Q(status="closed") | Q(confirmed_at__isnull=False),
                name="ticket_closed_was_confirmed",
                violation_error_message=_("A ticket is closed only after the customer "
                                          "confirmed it."),
            ),
        ]

    def __str__(self):
        return f"{self.number} {self.title}"

    @property
    def number(self):
        """The ticket number people read out on the phone (工单号)."""
        return f"SR{self.pk:08d}" if self.pk else "SR—"

    @property
    def is_open(self):
        return self.status in choices.OPEN_STATUSES

    def sla_breaches(self, now=None):
        """The SLA kinds this ticket has breached by ``now``; mirrors
        ``TicketQuerySet.with_sla`` (the tests check that both agree)."""
        now = now or timezone.now()
        open_ = self.is_open
        breaches = []
        if (self.acknowledged_at and self.acknowledged_at > self.response_due_at) or (
            self.acknowledged_at is None and open_ and now > self.response_due_at
        ):
            breaches.append(choices.SlaKind.RESPONSE)
        if (self.on_site_at and self.on_site_at > self.on_site_due_at) or (
            self.on_site_at is None and self.status == choices.TicketStatus.DISPATCHED
            and now > self.on_site_due_at
        ):
            breaches.append(choices.SlaKind.ON_SITE)
        if (self.resolved_at and self.resolved_at > self.resolution_due_at) or (
            open_ and now > self.resolution_due_at
        ):
            breaches.append(choices.SlaKind.RESOLUTION)
        return breaches


class TicketEvent(models.Model):
    """One step in a ticket's history: who did what, when, from which status to which. Append-only.

    ``from_status``/``to_status`` are blank for a step that does not change the ticket's status
    (a work order accepted, an SLA breach recorded).
    """

    ticket = models.ForeignKey(Ticket, on_delete=models.PROTECT, related_name="events")
    kind = models.CharField(max_length=24, choices=choices.TicketEventKind.choices)
    from_status = models.CharField(max_length=16, choices=choices.TicketStatus.choices,
                                   blank=True, default="")
    to_status = models.CharField(max_length=16, choices=choices.TicketStatus.choices,
                                 blank=True, default="")
    tier = models.PositiveSmallIntegerField()
    work_order = models.ForeignKey("WorkOrder", null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="events")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT,
                              related_name="+")
    note = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self):
        return f"{self.ticket_id}: {self.kind}"

    @property
    def note_display(self):
        """The note as people read it: an SLA breach row names the SLA kind in words."""
        sla_kinds = choices.SlaKind.values
        if self.kind == choices.TicketEventKind.SLA_BREACHED and self.note in sla_kinds:
            return choices.SlaKind(self.note).label
        return self.note


class WorkOrder(models.Model):
    """A dispatch of a ticket (派工单) to the local integrator or to the terminal vendor.

    Invariants: exactly one assignee, matching ``assignee_kind``; an integrator assignee serves
    the county of the ticket's customer (checked by ``dispatch_ticket``); a ticket has at most one
    work order in progress; status follows ``WORK_ORDER_TRANSITIONS``; only an engineer of the
    assignee moves it.
    """

    ticket = models.ForeignKey(Ticket, on_delete=models.PROTECT, related_name="work_orders")
    assignee_kind = models.CharField(_("assignee"), max_length=16,
                                     choices=choices.AssigneeKind.choices)
    integrator = models.ForeignKey("organizations.Integrator", null=True, blank=True,
                                   on_delete=models.PROTECT, related_name="work_orders",
                                   verbose_name=_("integrator"))
    vendor = models.ForeignKey("organizations.TerminalVendor", null=True, blank=True,
                               on_delete=models.PROTECT, related_name="work_orders",
                               verbose_name=_("terminal vendor"))
    status = models.CharField(_("status"), max_length=16,
                              choices=choices.WorkOrderStatus.choices,
                              default=choices.WorkOrderStatus.DISPATCHED)
    instructions = models.TextField(_("instructions"), max_length=5000, blank=True, default="")
    dispatched_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True,
                                      on_delete=models.PROTECT, related_name="+",
                                      verbose_name=_("dispatched by"))
    engineer = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                 on_delete=models.PROTECT, related_name="work_orders",
                                 verbose_name=_("engineer"))
    accepted_at = models.DateTimeField(_("accepted at"), null=True, blank=True)
    arrived_at = models.DateTimeField(_("arrived at"), null=True, blank=True)
    completed_at = models.DateTimeField(_("completed at"), null=True, blank=True)
    outcome = models.CharField(_("outcome"), max_length=16, blank=True, default="",
                               choices=choices.WorkOrderOutcome.choices)
    result = models.TextField(_("result"), max_length=5000, blank=True, default="")
    decline_reason = models.TextField(_("decline reason"), max_length=2000, blank=True,
                                      default="")
    created_at = models.DateTimeField(_("dispatched at"), default=timezone.now)

    objects = WorkOrderQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(assignee_kind="integrator", integrator__isnull=False,
                            vendor__isnull=True)
                | Q(assignee_kind="vendor", vendor__isnull=False, integrator__isnull=True),
                name="work_order_one_assignee",
                violation_error_message=_("A work order goes to one integrator or one vendor."),
            ),
            models.UniqueConstraint(
                fields=["ticket"],
                condition=Q(status__in=["dispatched", "accepted", "on_site"]),
                name="work_order_one_in_progress_per_ticket",
                violation_error_message=_("This ticket already has a work order in progress."),
            ),
        ]

    def __str__(self):
        return f"WO{self.pk:08d}" if self.pk else "WO—"

    @property
    def number(self):
        return str(self)

    @property
    def assignee(self):
        return self.integrator if self.assignee_kind == choices.AssigneeKind.INTEGRATOR else (
            self.vendor)

    @property
    def is_active(self):
        return self.status in choices.ACTIVE_WORK_ORDER_STATUSES
