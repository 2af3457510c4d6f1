"""Implementation projects (项目实施): how the operator delivers the service to one group customer.

A project walks through eight stages in a fixed order (``choices.STAGE_ORDER``). Each stage has an
owner (a customer manager or an integrator engineer), a checklist, attachments and a sign-off.
Final acceptance must be requested within one month of the initial acceptance sign-off and is
signed by both parties, the operator side and the customer side.
"""

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from .choices import (
    CLOSED_PROJECT_STATUSES,
    EventKind,
    ProjectStatus,
    StageKind,
    StageStatus,
)
from .querysets import ProjectQuerySet


class Project(models.Model):
    """The implementation project of one group customer.

    Invariants: at most one project per group customer is in progress (constraint); status and
    stages change only through ``actions.py`` following ``PROJECT_TRANSITIONS`` and
    ``STAGE_TRANSITIONS``; ``current_stage`` is the first stage not yet signed off (empty once all
    are); members swapped never exceed the total; the integrator serves the customer's county.
    """

    group_customer = models.ForeignKey(
        "organizations.GroupCustomer", on_delete=models.PROTECT, related_name="projects",
        verbose_name=_("group customer"),
    )
    name = models.CharField(_("name"), max_length=200)
    integrator = models.ForeignKey(
        "organizations.Integrator", null=True, blank=True, on_delete=models.PROTECT,
        related_name="projects", verbose_name=_("integrator"),
    )
    status = models.CharField(_("status"), max_length=16, choices=ProjectStatus.choices,
                              default=ProjectStatus.IN_PROGRESS)
    current_stage = models.CharField(_("current stage"), max_length=32,
                                     choices=StageKind.choices, blank=True, default="")
    # Card swap progress: members swapped out of the total to swap.
    swap_total = models.PositiveIntegerField(_("members to swap"), default=0)
    swap_done = models.PositiveIntegerField(_("members swapped"), default=0)
    # Set when initial acceptance is signed off: one calendar month later.
    final_acceptance_due_at = models.DateTimeField(_("final acceptance due"), null=True,
                                                   blank=True)
    final_acceptance_requested_at = models.DateTimeField(_("final acceptance requested"),
                                                         null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)

    objects = ProjectQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["group_customer"], condition=Q(status="in_progress"),
                name="project_one_in_progress_per_customer",
                violation_error_message=_("This customer already has a project in progress."),
            ),
            models.CheckConstraint(
                condition=Q(swap_done__lte=F("swap_total")),
                name="project_swap_done_within_total",
                violation_error_message=_("Members swapped cannot exceed the total."),
            ),
        ]

    def __str__(self):
        return self.name

    @property
    def is_closed(self):
        return self.status in CLOSED_PROJECT_STATUSES

    @property
    def is_overdue(self):
        """Initial acceptance is signed off, a month has passed and final acceptance was not
        requested (DESIGN.md §2: requested within one month)."""
        return (
            self.status == ProjectStatus.IN_PROGRESS
            and self.final_acceptance_due_at is not None
            and self.final_acceptance_requested_at is None
            and timezone.now() > self.final_acceptance_due_at
        )

    @property
    def final_acceptance_requested_late(self):
        return bool(self.final_acceptance_requested_at and self.final_acceptance_due_at
                    and self.final_acceptance_requested_at > self.final_acceptance_due_at)

    @property
    def swap_percent(self):
        if not self.swap_total:
            return 0
        return min(100, round(100 * self.swap_done / self.swap_total))


class ProjectStage(models.Model):
    """One stage of a project, created with the project in ``STAGE_ORDER``.

    Invariants: one row per kind per project; a signed-off stage records who signed and when;
    a signed-off final acceptance records both parties' signatures (constraint).
    """

    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="stages")
    kind = models.CharField(_("stage"), max_length=32, choices=StageKind.choices)
    position = models.PositiveSmallIntegerField()
    status = models.CharField(_("status"), max_length=16, choices=StageStatus.choices,
                              default=StageStatus.PENDING)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                              on_delete=models.PROTECT, related_name="owned_project_stages",
                              verbose_name=_("owner"))
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    started_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.PROTECT, related_name="+")
    signed_off_at = models.DateTimeField(_("signed off at"), null=True, blank=True)
    signed_off_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                      on_delete=models.PROTECT, related_name="+",
                                      verbose_name=_("signed off by"))
    sign_off_note = models.TextField(_("sign-off note"), blank=True, default="")
    # Final acceptance only: the two parties' signatures.
    operator_signed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                           on_delete=models.PROTECT, related_name="+",
                                           verbose_name=_("signed for the operator by"))
    operator_signed_at = models.DateTimeField(null=True, blank=True)
    operator_note = models.TextField(blank=True, default="")
    customer_signed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                           on_delete=models.PROTECT, related_name="+",
                                           verbose_name=_("signed for the customer by"))
    customer_signed_at = models.DateTimeField(null=True, blank=True)
    customer_note = models.TextField(blank=True, default="")

    class Meta:
        ordering = ["project_id", "position"]
        constraints = [
            models.UniqueConstraint(fields=["project", "kind"], name="project_stage_unique_kind"),
            models.UniqueConstraint(fields=["project", "position"],
                                    name="project_stage_unique_position"),
            models.CheckConstraint(
                condition=~Q(status="signed_off")
                | Q(signed_off_by__isnull=False, signed_off_at__isnull=False),
                name="project_stage_signed_off_has_signer",
                violation_error_message=_("A signed-off stage records who signed and when."),
            ),
            models.CheckConstraint(
                condition=~Q(kind="final_acceptance", status="signed_off")
                | Q(operator_signed_by__isnull=False, customer_signed_by__isnull=False),
                name="project_final_acceptance_has_both_parties",
                violation_error_message=_("Final acceptance needs both parties' signatures."),
            ),
        ]

    def __str__(self):
        return f"{self.project} · {self.get_kind_display()}"


class ChecklistItem(models.Model):
    """One thing to do in a stage; ticked (or unticked) while the stage is in progress."""

    stage = models.ForeignKey(ProjectStage, on_delete=models.PROTECT, related_name="checklist")
    title = models.CharField(_("item"), max_length=200)
    position = models.PositiveSmallIntegerField(default=0)
    is_done = models.BooleanField(_("done"), default=False)
    done_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                on_delete=models.PROTECT, related_name="+",
                                verbose_name=_("ticked by"))
    done_at = models.DateTimeField(_("ticked at"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["stage_id", "position", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(is_done=False) | Q(done_by__isnull=False, done_at__isnull=False),
                name="checklist_item_done_has_who_and_when",
            ),
        ]

    def __str__(self):
        return self.title


def attachment_path(instance, filename):
    # The stored name is not the uploaded one: no path tricks, no clashes.
    stamp = timezone.now().strftime("%Y/%m")
    return f"projects/{stamp}/{instance.stage.project_id}-{instance.stage.kind}-{filename}"


class StageAttachment(models.Model):
    """A document of a stage (survey report, acceptance form, photos). Append-only.

    Files live under MEDIA_ROOT and are served only through the gatekeepers, never publicly.
    """

    stage = models.ForeignKey(ProjectStage, on_delete=models.PROTECT, related_name="attachments")
    file = models.FileField(_("file"), upload_to=attachment_path, max_length=255)
    original_name = models.CharField(_("file name"), max_length=200)
    size = models.PositiveBigIntegerField(_("size"))
    description = models.CharField(pgettext_lazy("attachment", "description"), max_length=200,
                                   blank=True, default="")
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT,
                                    related_name="+", verbose_name=_("uploaded by"))
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["stage_id", "created_at", "id"]

    def __str__(self):
        return self.original_name


class EquipmentLine(models.Model):
    """One line of the equipment list (设备清单) drawn up in construction preparation."""

    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="equipment")
    name = models.CharField(_("equipment"), max_length=200)
    model_number = models.CharField(_("model"), max_length=100, blank=True, default="")
    quantity = models.PositiveIntegerField(_("quantity"))
    vendor = models.ForeignKey("organizations.TerminalVendor", null=True, blank=True,
                               on_delete=models.PROTECT, related_name="+",
                               verbose_name=_("vendor"))
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["project_id", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gte=1),
                                   name="equipment_line_quantity_positive"),
        ]

    def __str__(self):
        return f"{self.name} × {self.quantity}"


class ProcurementOrder(models.Model):
    """A purchase of equipment from a terminal vendor (采购单) for one equipment line.

    Invariants: the order numbers of a project are unique; the quantities ordered for a line
    never exceed the line's quantity (checked by the action under the project lock).
    """

    project = models.ForeignKey(Project, on_delete=models.PROTECT,
                                related_name="procurement_orders")
    equipment_line = models.ForeignKey(EquipmentLine, on_delete=models.PROTECT,
                                       related_name="orders", verbose_name=_("equipment"))
    vendor = models.ForeignKey("organizations.TerminalVendor", on_delete=models.PROTECT,
                               related_name="procurement_orders", verbose_name=_("vendor"))
    order_number = models.CharField(_("order number"), max_length=64)
    quantity = models.PositiveIntegerField(_("quantity"))
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["project_id", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["project", "order_number"], name="procurement_order_unique_number",
                violation_error_message=_("This project already has an order with this number."),
            ),
            models.CheckConstraint(condition=Q(quantity__gte=1),
                                   name="procurement_order_quantity_positive"),
        ]

    def __str__(self):
        return self.order_number


class ProjectEvent(models.Model):
    """One transition of a project or one of its stages, with who, when and a note.
    Append-only."""

    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="events")
    stage = models.ForeignKey(ProjectStage, null=True, blank=True, on_delete=models.PROTECT,
                              related_name="events")
    kind = models.CharField(max_length=32, choices=EventKind.choices)
    from_status = models.CharField(max_length=16, blank=True, default="")
    to_status = models.CharField(max_length=16, blank=True, default="")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT,
                              related_name="+")
    note = models.TextField(blank=True, default="")
    # When it happened (normally now; a paper record entered later keeps its own date).
    occurred_at = models.DateTimeField(default=timezone.now)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["occurred_at", "id"]

    def __str__(self):
        return f"{self.project_id}: {self.kind}"
