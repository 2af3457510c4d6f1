"""Actions on implementation projects. Every state change of this app goes through one of these.

Each action is atomic, takes ``actor=`` keyword-only, locks the project row first (then the stage
or item it changes, always in that order), re-reads state under the lock, checks the rules named
in ``errors.py`` and the explicit tables in ``choices.py``, and writes its audit record (and a
``ProjectEvent`` per transition) in the same transaction. Object access (may this person touch
this project at all?) is the gatekeepers' job at the entry point.

Some actions take ``at=``: when it happened, for paper records entered later (and the demo).
It is never in the future and never before the step it follows; the API and console do not
offer it.
"""

import calendar
import os

from django.conf import settings
from django.core.exceptions import SuspiciousFileOperation
from django.db import transaction
from django.utils import timezone
from django.utils.text import get_valid_filename
from django.utils.translation import gettext as _

from onecard.accounts.choices import Role
from onecard.audit.actions import write_audit
from onecard.core.errors import Conflict, InvalidInput, NotAllowed
from onecard.core.locks import lock_one
from onecard.core.transitions import require_transition
from onecard.core.validation import clean_or_refuse, snapshot
from onecard.organizations.models import GroupCustomer

from .choices import (
    DEFAULT_CHECKLISTS,
    PROJECT_TRANSITIONS,
    STAGE_ORDER,
    STAGE_POSITION,
    STAGE_TRANSITIONS,
    EventKind,
    ProjectStatus,
    SignatureSide,
    StageKind,
    StageStatus,
)
from .errors import AttachmentTooLarge, NotStageOwner, ProjectRuleBroken
from .models import (
    ChecklistItem,
    EquipmentLine,
    ProcurementOrder,
    Project,
    ProjectEvent,
    ProjectStage,
    StageAttachment,
)

# Who runs projects: creates, cancels, assigns owners, and may work on any stage.
PROJECT_MANAGER_ROLES = {Role.OPERATOR_ADMIN, Role.CUSTOMER_MANAGER}
# Who may own a stage.
OWNER_ROLES = {Role.CUSTOMER_MANAGER, Role.INTEGRATOR_ENGINEER}
# Final acceptance signatures, by side.
OPERATOR_SIGNER_ROLES = {Role.OPERATOR_ADMIN, Role.CUSTOMER_MANAGER}
CUSTOMER_SIGNER_ROLES = {Role.ENTERPRISE_ADMIN}
DEFAULT_ATTACHMENT_MAX_BYTES = 10 * 1024 * 1024


def attachment_max_bytes():
    return getattr(settings, "ONECARD_PROJECT_ATTACHMENT_MAX_BYTES", DEFAULT_ATTACHMENT_MAX_BYTES)


def one_month_after(moment):
    """The same local day and time one calendar month later (31 Jan → 28/29 Feb)."""
    local = timezone.localtime(moment)
    year, month = (local.year + 1, 1) if local.month == 12 else (local.year, local.month + 1)
    day = min(local.day, calendar.monthrange(year, month)[1])
    return local.replace(year=year, month=month, day=day)


# --- Rule helpers ------------------------------------------------------------------------------


def _role(actor):
    return getattr(actor, "role", None)


def _require_manager(actor):
    if _role(actor) not in PROJECT_MANAGER_ROLES:
        raise NotAllowed(_("Only a customer manager or an operator admin may do this."))


def _require_worker(actor, stage):
    """The stage's owner, or a customer manager / operator admin, may work on a stage."""
    if _role(actor) in PROJECT_MANAGER_ROLES:
        return
    if actor is not None and stage.owner_id == actor.pk:
        return
    raise NotAllowed(_("Only the owner of the stage “%(stage)s”, a customer manager or an "
                       "operator admin may do this.") % {"stage": stage.get_kind_display()})


def _lock_open_project(project):
    """Re-read the project under its lock; refuse anything on a closed project."""
    current = lock_one(Project.objects.all(), project.pk)
    if current.is_closed:
        raise ProjectRuleBroken(
            _("The project is %(status)s: nothing on it can change.")
            % {"status": current.get_status_display().lower()},
            code="project_closed",
        )
    return current


def _lock_stage(project, kind):
    stage = ProjectStage.objects.select_for_update().get(project=project, kind=kind)
    stage.project = project
    return stage


def _lock_stage_of(stage_or_item_stage):
    """Lock the project of ``stage`` (refusing a closed one), then the stage itself."""
    project = _lock_open_project(stage_or_item_stage.project)
    return project, _lock_stage(project, stage_or_item_stage.kind)


def _previous_stage(stage):
    if stage.position <= 1:
        return None
    kind = STAGE_ORDER[stage.position - 2]
    return ProjectStage.objects.get(project_id=stage.project_id, kind=kind)


def _refuse_skipping(stage, verb):
    previous = _previous_stage(stage)
    if previous is not None and previous.status != StageStatus.SIGNED_OFF:
        raise ProjectRuleBroken(
            _("Stages go in order: “%(previous)s” must be signed off before “%(stage)s” can be "
              "%(verb)s.") % {"previous": previous.get_kind_display(),
                              "stage": stage.get_kind_display(), "verb": verb},
            code="stage_skipped",
        )
    return previous


def _require_in_progress(stage):
    if stage.status != StageStatus.IN_PROGRESS:
        raise ProjectRuleBroken(
            _("The stage “%(stage)s” is not in progress (it is %(status)s).")
            % {"stage": stage.get_kind_display(), "status": stage.get_status_display().lower()},
            code="stage_not_in_progress",
        )


def _when(at, *, not_before=None):
    now = timezone.now()
    if at is None:
        return now
    if at > now:
        raise InvalidInput({"at": [_("This cannot be in the future.")]})
    if not_before is not None and at < not_before:
        raise InvalidInput({"at": [_("This cannot be before the step it follows.")]})
    return at


def _event(project, kind, *, actor, stage=None, from_status="", to_status="", note="", at=None):
    return ProjectEvent.objects.create(
        project=project, stage=stage, kind=kind, from_status=from_status, to_status=to_status,
        actor=actor if getattr(actor, "pk", None) else None, note=note or "",
        occurred_at=at or timezone.now(),
    )


def _audit(actor, action, obj, project, *, before=None, after=None, reason=""):
    write_audit(actor=actor, action=action, obj=obj, group_customer_id=project.group_customer_id,
                before=before, after=after, reason=reason)


def _check_integrator(integrator, group_customer):
    if integrator is None:
        return
    if not integrator.is_active or not integrator.counties.filter(
        pk=group_customer.branch_id
    ).exists():
        raise InvalidInput({"integrator": [
            _("This integrator does not serve the customer's county (%(county)s).")
            % {"county": group_customer.branch.name}
        ]}, code="integrator_county")


def _check_owner(owner, group_customer):
    if owner is None:
        return
    if not owner.is_active or owner.role not in OWNER_ROLES:
        raise InvalidInput({"owner": [
            _("A stage owner must be an active customer manager or integrator engineer.")
        ]}, code="owner_role")
    if owner.role == Role.CUSTOMER_MANAGER and not GroupCustomer.objects.visible_to(owner).filter(
        pk=group_customer.pk
    ).exists():
        raise InvalidInput({"owner": [
            _("This customer manager does not look after the customer.")
        ]}, code="owner_scope")
    if owner.role == Role.INTEGRATOR_ENGINEER:
        _check_integrator_for_owner(owner, group_customer)


def _check_integrator_for_owner(owner, group_customer):
    try:
        _check_integrator(owner.integrator, group_customer)
    except InvalidInput:
        raise InvalidInput({"owner": [
            _("This engineer's integrator does not serve the customer's county.")
        ]}, code="integrator_county")


# --- Projects ----------------------------------------------------------------------------------


@transaction.atomic
def create_project(*, actor, group_customer, name, integrator=None, swap_total=None):
    """Open the implementation project of a verified group customer, with its eight stages
    (owned by the customer's manager until reassigned) and their default checklists.

    ``swap_total`` (members to swap) defaults to the customer's active member count.
    """
    from onecard.people.choices import MemberStatus

    _require_manager(actor)
    customer = lock_one(GroupCustomer.objects.all(), group_customer.pk)
    if not customer.is_live:
        raise ProjectRuleBroken(_("Only a verified group customer can have a project."),
                                field="group_customer", code="customer_not_verified")
    if Project.objects.filter(group_customer=customer,
                              status=ProjectStatus.IN_PROGRESS).exists():
        raise Conflict(_("This customer already has a project in progress."),
                       field="group_customer", code="one_project_in_progress")
    _check_integrator(integrator, customer)
    if swap_total is None:
        swap_total = customer.members.filter(status=MemberStatus.ACTIVE).count()
    project = Project(group_customer=customer, name=(name or "").strip(), integrator=integrator,
                      swap_total=swap_total, current_stage=STAGE_ORDER[0],
                      created_by=actor if getattr(actor, "pk", None) else None)
    clean_or_refuse(project)
    project.save(force_insert=True)
    owner = customer.customer_manager
    if owner is None and _role(actor) == Role.CUSTOMER_MANAGER:
        owner = actor
    for kind in STAGE_ORDER:
        stage = ProjectStage.objects.create(project=project, kind=kind,
                                            position=STAGE_POSITION[kind], owner=owner)
        ChecklistItem.objects.bulk_create(
            ChecklistItem(stage=stage, title=str(title), position=index)
            for index, title in enumerate(DEFAULT_CHECKLISTS[kind], start=1)
        )
    _event(project, EventKind.PROJECT_CREATED, actor=actor, to_status=project.status)
    _audit(actor, "project.created", project, project, after=snapshot(project))
    return project


@transaction.atomic
def cancel_project(*, actor, project, reason):
    """in progress → cancelled: the project is abandoned; its history is kept read-only."""
    _require_manager(actor)
    if not (reason or "").strip():
        raise InvalidInput({"reason": [_("Give a reason.")]}, code="required")
    current = _lock_open_project(project)
    require_transition(PROJECT_TRANSITIONS, ProjectStatus, current.status,
                       ProjectStatus.CANCELLED)
    before = snapshot(current)
    previous = current.status
    current.status = ProjectStatus.CANCELLED
    current.closed_at = timezone.now()
    current.save(update_fields=["status", "closed_at"])
    _event(current, EventKind.PROJECT_CANCELLED, actor=actor, from_status=previous,
           to_status=current.status, note=reason)
    _audit(actor, "project.cancelled", current, current, before=before, after=snapshot(current),
           reason=reason)
    return current


# --- Stages ------------------------------------------------------------------------------------


@transaction.atomic
def assign_stage_owner(*, actor, stage, owner):
    """Make ``owner`` (a customer manager who looks after the customer, or an engineer of an
    integrator serving its county) responsible for a stage that is not signed off yet."""
    _require_manager(actor)
    project, current = _lock_stage_of(stage)
    if current.status == StageStatus.SIGNED_OFF:
        raise ProjectRuleBroken(_("The stage “%(stage)s” is signed off; its owner is final.")
                                % {"stage": current.get_kind_display()},
                                code="stage_signed_off")
    _check_owner(owner, project.group_customer)
    before = snapshot(current, ["owner"])
    current.owner = owner
    current.save(update_fields=["owner"])
    _audit(actor, "project.stage_owner_assigned", current, project, before=before,
           after=snapshot(current, ["owner"]))
    return current


@transaction.atomic
def start_stage(*, actor, stage, note="", at=None):
    """pending → in progress, once the stage before it is signed off.

    Starting final acceptance is requesting it: the request date is recorded against the due
    date (one month after initial acceptance). Starting card swap fills in the total of members
    to swap from the customer's active members when none was set.
    """
    project, current = _lock_stage_of(stage)
    previous = _refuse_skipping(current, _("started"))
    _require_worker(actor, current)
    require_transition(STAGE_TRANSITIONS, StageStatus, current.status, StageStatus.IN_PROGRESS)
    at = _when(at, not_before=previous.signed_off_at if previous else None)
    before = snapshot(current)
    current.status = StageStatus.IN_PROGRESS
    current.started_at = at
    current.started_by = actor if getattr(actor, "pk", None) else None
    current.save(update_fields=["status", "started_at", "started_by"])
    project_fields = []
    if current.kind == StageKind.FINAL_ACCEPTANCE:
        project.final_acceptance_requested_at = at
        project_fields.append("final_acceptance_requested_at")
    if current.kind == StageKind.CARD_SWAP and not project.swap_total:
        from onecard.people.choices import MemberStatus

        project.swap_total = project.group_customer.members.filter(
            status=MemberStatus.ACTIVE).count()
        project_fields.append("swap_total")
    if project_fields:
        project.save(update_fields=project_fields)
    _event(project, EventKind.STAGE_STARTED, actor=actor, stage=current,
           from_status=StageStatus.PENDING, to_status=current.status, note=note, at=at)
    _audit(actor, "project.stage_started", current, project, before=before,
           after=snapshot(current), reason=note)
    return current


@transaction.atomic
def sign_off_stage(*, actor, stage, note="", at=None):
    """in progress → signed off, by the stage's owner, with every checklist item done.

    Signing off initial acceptance sets the final acceptance due date (one calendar month on).
    Signing off final acceptance needs both parties' signatures and completes the project.
    """
    project, current = _lock_stage_of(stage)
    _refuse_skipping(current, _("signed off"))
    if current.owner_id is None:
        raise NotStageOwner(_("The stage “%(stage)s” has no owner; assign one first.")
                            % {"stage": current.get_kind_display()}, code="stage_has_no_owner")
    if actor is None or current.owner_id != actor.pk:
        raise NotStageOwner(_("Only the stage owner (%(owner)s) may sign off “%(stage)s”.")
                            % {"owner": current.owner, "stage": current.get_kind_display()})
    require_transition(STAGE_TRANSITIONS, StageStatus, current.status, StageStatus.SIGNED_OFF)
    open_items = [item.title for item in current.checklist.filter(is_done=False)]
    if open_items:
        raise ProjectRuleBroken(
            _("The checklist is not done: %(items)s.") % {"items": "; ".join(open_items)},
            code="checklist_incomplete",
        )
    if current.kind == StageKind.FINAL_ACCEPTANCE:
        missing = [str(label) for side, label in SignatureSide.choices
                   if getattr(current, f"{side}_signed_by_id") is None]
        if missing:
            raise ProjectRuleBroken(
                _("Final acceptance needs both parties' signatures; missing: %(sides)s.")
                % {"sides": ", ".join(missing)},
                code="final_acceptance_missing_party",
            )
    at = _when(at, not_before=current.started_at)
    before = snapshot(current)
    current.status = StageStatus.SIGNED_OFF
    current.signed_off_by, current.signed_off_at = actor, at
    current.sign_off_note = note or ""
    current.save(update_fields=["status", "signed_off_by", "signed_off_at", "sign_off_note"])
    _event(project, EventKind.STAGE_SIGNED_OFF, actor=actor, stage=current,
           from_status=StageStatus.IN_PROGRESS, to_status=current.status, note=note, at=at)
    _audit(actor, "project.stage_signed_off", current, project, before=before,
           after=snapshot(current), reason=note)
    project_before = snapshot(project)
    position = STAGE_POSITION[current.kind]
    project.current_stage = STAGE_ORDER[position] if position < len(STAGE_ORDER) else ""
    fields = ["current_stage"]
    if current.kind == StageKind.INITIAL_ACCEPTANCE:
        project.final_acceptance_due_at = one_month_after(at)
        fields.append("final_acceptance_due_at")
    if current.kind == StageKind.FINAL_ACCEPTANCE:
        require_transition(PROJECT_TRANSITIONS, ProjectStatus, project.status,
                           ProjectStatus.COMPLETED)
        project.status, project.closed_at = ProjectStatus.COMPLETED, at
        fields += ["status", "closed_at"]
        _event(project, EventKind.PROJECT_COMPLETED, actor=actor,
               from_status=ProjectStatus.IN_PROGRESS, to_status=project.status, at=at)
    project.save(update_fields=fields)
    if project.status == ProjectStatus.COMPLETED:
        _audit(actor, "project.completed", project, project, before=project_before,
               after=snapshot(project))
    return current


@transaction.atomic
def sign_final_acceptance(*, actor, project, note=""):
    """Record one party's signature of final acceptance, the side following the signer's role:
    an operator admin or customer manager signs for the operator, the customer's enterprise
    admin for the customer. Final acceptance must have been requested (started)."""
    current_project = _lock_open_project(project)
    stage = _lock_stage(current_project, StageKind.FINAL_ACCEPTANCE)
    role = _role(actor)
    if role in OPERATOR_SIGNER_ROLES:
        side = SignatureSide.OPERATOR
    elif role in CUSTOMER_SIGNER_ROLES and actor.group_customer_id == (
        current_project.group_customer_id
    ):
        side = SignatureSide.CUSTOMER
    else:
        raise NotStageOwner(
            _("Final acceptance is signed by the operator side (a customer manager or operator "
              "admin) and the customer side (the customer's enterprise admin) only."),
            code="not_a_signing_party",
        )
    _refuse_skipping(stage, _("signed"))
    _require_in_progress(stage)
    if getattr(stage, f"{side}_signed_by_id") is not None:
        raise ProjectRuleBroken(_("The %(side)s has already signed final acceptance.")
                                % {"side": SignatureSide(side).label.lower()},
                                code="already_signed")
    before = snapshot(stage)
    now = timezone.now()
    setattr(stage, f"{side}_signed_by", actor)
    setattr(stage, f"{side}_signed_at", now)
    setattr(stage, f"{side}_note", note or "")
    stage.save(update_fields=[f"{side}_signed_by", f"{side}_signed_at", f"{side}_note"])
    _event(current_project, EventKind.FINAL_ACCEPTANCE_SIGNED, actor=actor, stage=stage,
           to_status=side, note=note)
    _audit(actor, f"project.final_acceptance_signed_{side}", stage, current_project,
           before=before, after=snapshot(stage), reason=note)
    return stage


# --- Checklists and attachments ----------------------------------------------------------------


@transaction.atomic
def add_checklist_item(*, actor, stage, title):
    """Add an item to the checklist of a stage that is not signed off yet."""
    project, current = _lock_stage_of(stage)
    _require_worker(actor, current)
    if current.status == StageStatus.SIGNED_OFF:
        raise ProjectRuleBroken(_("The stage “%(stage)s” is signed off; its checklist is final.")
                                % {"stage": current.get_kind_display()},
                                code="stage_signed_off")
    last = current.checklist.order_by("-position").values_list("position", flat=True).first()
    item = ChecklistItem(stage=current, title=(title or "").strip(), position=(last or 0) + 1)
    clean_or_refuse(item)
    item.save(force_insert=True)
    _audit(actor, "project.checklist_item_added", item, project, after=snapshot(item))
    return item


@transaction.atomic
def set_checklist_item(*, actor, item, done, at=None):
    """Tick (``done=True``) or untick an item of a stage in progress; records who and when."""
    project, stage = _lock_stage_of(item.stage)
    _require_worker(actor, stage)
    _require_in_progress(stage)
    current = lock_one(ChecklistItem.objects.filter(stage=stage), item.pk)
    if current.is_done == bool(done):
        return current
    at = _when(at, not_before=stage.started_at)
    before = snapshot(current)
    current.is_done = bool(done)
    current.done_by = actor if done else None
    current.done_at = at if done else None
    current.save(update_fields=["is_done", "done_by", "done_at"])
    _audit(actor, "project.checklist_item_ticked" if done else "project.checklist_item_unticked",
           current, project, before=before, after=snapshot(current))
    return current


@transaction.atomic
def add_attachment(*, actor, stage, uploaded_file, description=""):
    """Attach a document to a stage of an open project. Files over the size limit (setting
    ``ONECARD_PROJECT_ATTACHMENT_MAX_BYTES``, 10 MiB by default) and empty files are refused.

    The file is written when the row is saved; if the transaction then rolls back the file stays
    on disk unreferenced (harmless, and never served).
    """
    project, current = _lock_stage_of(stage)
    _require_worker(actor, current)
    size = uploaded_file.size or 0
    limit = attachment_max_bytes()
    if size > limit:
        raise AttachmentTooLarge(
            _("The file is %(size)s bytes; attachments may be at most %(max)s bytes.")
            % {"size": size, "max": limit}
        )
    if size == 0:
        raise InvalidInput({"file": [_("The file is empty.")]})
    original = os.path.basename((uploaded_file.name or "").replace("\\", "/")).strip()
    original = original[-150:] or "attachment"
    stored_name = "attachment"
    if original.isascii():
        try:
            stored_name = get_valid_filename(original)[-100:]
        except SuspiciousFileOperation:  # names like ".."
            pass
    attachment = StageAttachment(stage=current, original_name=original, size=size,
                                 description=(description or "").strip(),
                                 uploaded_by=actor if getattr(actor, "pk", None) else None)
    clean_or_refuse(attachment, exclude=["file"])
    attachment.file.save(stored_name, uploaded_file, save=False)
    attachment.save(force_insert=True)
    after = {**snapshot(attachment, ["id", "stage", "original_name", "size", "description",
                                     "uploaded_by"]), "file": attachment.file.name}
    _audit(actor, "project.attachment_added", attachment, project, after=after)
    return attachment


# --- Construction preparation: equipment list and procurement -------------------------------


def _lock_preparation(actor, project):
    current = _lock_open_project(project)
    stage = _lock_stage(current, StageKind.CONSTRUCTION_PREPARATION)
    _require_worker(actor, stage)
    _require_in_progress(stage)
    return current, stage


def _check_vendor(vendor, field="vendor"):
    if vendor is not None and not vendor.is_active:
        raise InvalidInput({field: [_("This vendor is not active.")]})


@transaction.atomic
def add_equipment_line(*, actor, project, name, quantity, model_number="", vendor=None):
    """Add a line to the equipment list, while construction preparation is in progress."""
    current, _stage = _lock_preparation(actor, project)
    _check_vendor(vendor)
    line = EquipmentLine(project=current, name=(name or "").strip(), quantity=quantity,
                         model_number=(model_number or "").strip(), vendor=vendor,
                         created_by=actor if getattr(actor, "pk", None) else None)
    clean_or_refuse(line)
    if line.quantity < 1:
        raise InvalidInput({"quantity": [_("Ensure this value is at least 1.")]})
    line.save(force_insert=True)
    _audit(actor, "project.equipment_line_added", line, current, after=snapshot(line))
    return line


@transaction.atomic
def add_procurement_order(*, actor, project, equipment_line, vendor, order_number, quantity):
    """Order equipment of one line from a vendor, while construction preparation is in progress.
    The quantities ordered for a line never exceed the line's quantity."""
    current, _stage = _lock_preparation(actor, project)
    if equipment_line.project_id != current.pk:
        raise InvalidInput({"equipment_line": [_("This equipment line belongs to another "
                                                 "project.")]})
    _check_vendor(vendor)
    if quantity is None or quantity < 1:
        raise InvalidInput({"quantity": [_("Ensure this value is at least 1.")]})
    ordered = sum(equipment_line.orders.values_list("quantity", flat=True))
    if ordered + quantity > equipment_line.quantity:
        raise InvalidInput({"quantity": [
            _("Only %(left)s of %(total)s are left to order for this line.")
            % {"left": equipment_line.quantity - ordered, "total": equipment_line.quantity}
        ]}, code="over_ordered")
    number = (order_number or "").strip()
    if ProcurementOrder.objects.filter(project=current, order_number=number).exists():
        raise Conflict(_("This project already has an order with this number."),
                       field="order_number", code="duplicate")
    order = ProcurementOrder(project=current, equipment_line=equipment_line, vendor=vendor,
                             order_number=number, quantity=quantity,
                             created_by=actor if getattr(actor, "pk", None) else None)
    clean_or_refuse(order)
    order.save(force_insert=True)
    _audit(actor, "project.procurement_order_added", order, current, after=snapshot(order))
    return order


# --- Card swap progress ------------------------------------------------------------------------


@transaction.atomic
def record_swap_progress(*, actor, project, swapped, total=None):
    """Record how many members have swapped cards (and, optionally, a corrected total), while
    card swap and activation is in progress."""
    current = _lock_open_project(project)
    stage = _lock_stage(current, StageKind.CARD_SWAP)
    _require_worker(actor, stage)
    _require_in_progress(stage)
    total = current.swap_total if total is None else total
    if total < 0:
        raise InvalidInput({"total": [_("Ensure this value is at least 0.")]})
    if swapped < 0:
        raise InvalidInput({"swapped": [_("Ensure this value is at least 0.")]})
    if swapped > total:
        raise InvalidInput({"swapped": [
            _("Members swapped (%(swapped)s) cannot exceed the total (%(total)s).")
            % {"swapped": swapped, "total": total}
        ]})
    before = snapshot(current, ["swap_done", "swap_total"])
    current.swap_done, current.swap_total = swapped, total
    clean_or_refuse(current)
    current.save(update_fields=["swap_done", "swap_total"])
    after = snapshot(current, ["swap_done", "swap_total"])
    if after != before:
        _audit(actor, "project.swap_progress_recorded", current, current, before=before,
               after=after)
    return current
