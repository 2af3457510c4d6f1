"""Helpers for the projects tests: walk a project through the real actions; snapshot its state."""

from onecard.audit.models import AuditRecord
from onecard.projects import actions
from onecard.projects.choices import STAGE_ORDER
from onecard.projects.models import (
    ChecklistItem,
    EquipmentLine,
    ProcurementOrder,
    Project,
    ProjectEvent,
    ProjectStage,
    StageAttachment,
)


def stage(project, kind):
    return ProjectStage.objects.select_related("project").get(project=project, kind=kind)


def tick_all(project, kind, actor, at=None):
    for item in ChecklistItem.objects.filter(stage__project=project, stage__kind=kind):
        actions.set_checklist_item(actor=actor, item=item, done=True, at=at)


def walk(project, *, until, actor, at=None):
    """Start and sign off every stage before ``until`` (a StageKind), then start ``until``;
    ``at`` dates every step (a paper record entered later)."""
    for kind in STAGE_ORDER:
        actions.start_stage(actor=actor, stage=stage(project, kind), at=at)
        if kind == until:
            return
        tick_all(project, kind, actor, at=at)
        actions.sign_off_stage(actor=actor, stage=stage(project, kind), at=at)


def state_of(project):
    """Everything a refusal must leave unchanged: the project, its stages, items, documents,
    equipment, orders, events, and the audit log's length."""
    project_id = project.pk
    return (
        Project.objects.filter(pk=project_id).values().get(),
        list(ProjectStage.objects.filter(project_id=project_id).order_by("pk").values()),
        list(ChecklistItem.objects.filter(stage__project_id=project_id).order_by("pk").values()),
        StageAttachment.objects.filter(stage__project_id=project_id).count(),
        EquipmentLine.objects.filter(project_id=project_id).count(),
        ProcurementOrder.objects.filter(project_id=project_id).count(),
        ProjectEvent.objects.filter(project_id=project_id).count(),
        Project.objects.count(),
        AuditRecord.objects.count(),
    )
