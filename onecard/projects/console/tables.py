"""Read-side shaping for project pages. Only reads, through the gatekeepers."""

from django.db.models import Prefetch, Q

from onecard.accounts.choices import Role
from onecard.projects.actions import (
    CUSTOMER_SIGNER_ROLES,
    OPERATOR_SIGNER_ROLES,
    PROJECT_MANAGER_ROLES,
)
from onecard.projects.choices import STAGE_ORDER, ProjectStatus, StageKind, StageStatus
from onecard.projects.models import Project, ProjectStage
from onecard.projects.reports import with_progress


def projects(user, filters):
    """Projects ``user`` may see, narrowed by a valid ``ProjectFilterForm``'s data."""
    found = with_progress(Project.objects.visible_to(user))
    if filters.get("status"):
        found = found.filter(status=filters["status"])
    if filters.get("stage"):
        found = found.filter(current_stage=filters["stage"])
    if filters.get("overdue"):
        found = found.filter(pk__in=Project.objects.overdue().values("pk"))
    if filters.get("q"):
        text = filters["q"].strip()
        found = found.filter(Q(name__icontains=text) | Q(group_customer__name__icontains=text)
                             | Q(group_customer__code__icontains=text))
    return found.order_by("-created_at", "-id")


def may_change(user, project):
    return Project.objects.changeable_by(user).filter(pk=project.pk).exists()


def stages_of(user, project):
    """The project's stages, each with what ``user`` may do on it now."""
    stages = list(
        ProjectStage.objects.filter(project=project)
        .select_related("owner", "signed_off_by", "operator_signed_by", "customer_signed_by")
        .prefetch_related(Prefetch("checklist"), "checklist__done_by", "attachments")
        .order_by("position")
    )
    is_open = project.status == ProjectStatus.IN_PROGRESS
    is_manager = user.role in PROJECT_MANAGER_ROLES
    previous_signed = True
    for stage in stages:
        is_worker = is_manager or stage.owner_id == user.pk
        stage.may_start = (is_open and is_worker and previous_signed
                           and stage.status == StageStatus.PENDING)
        stage.may_sign_off = (is_open and stage.owner_id == user.pk
                              and stage.status == StageStatus.IN_PROGRESS)
        stage.may_tick = is_open and is_worker and stage.status == StageStatus.IN_PROGRESS
        stage.may_add = is_open and is_worker and stage.status != StageStatus.SIGNED_OFF
        stage.may_attach = is_open and is_worker
        stage.may_assign = is_open and is_manager and stage.status != StageStatus.SIGNED_OFF
        stage.is_current = stage.kind == project.current_stage
        stage.done_count = sum(1 for item in stage.checklist.all() if item.is_done)
        previous_signed = stage.status == StageStatus.SIGNED_OFF
    return stages


def may_sign_final(user, project, final_stage):
    """May ``user`` sign final acceptance for their side now?"""
    if project.status != ProjectStatus.IN_PROGRESS or final_stage.status != (
        StageStatus.IN_PROGRESS
    ):
        return False
    if user.role in OPERATOR_SIGNER_ROLES:
        return final_stage.operator_signed_by_id is None
    if user.role in CUSTOMER_SIGNER_ROLES and user.group_customer_id == project.group_customer_id:
        return final_stage.customer_signed_by_id is None
    return False


def stage_from(project, kind):
    if kind not in StageKind.values:
        return None
    return ProjectStage.objects.filter(project=project, kind=kind).first()


def dashboard_projects(user, branch=None):
    """Projects for the branch dashboard: those ``user`` sees, under ``branch`` if given (an
    operator admin may choose one; a customer manager sees their own scope)."""
    found = Project.objects.visible_to(user)
    if branch is not None:
        found = found.filter(group_customer__branch__path__startswith=branch.path)
    return found


STAGE_COUNT = len(STAGE_ORDER)
DASHBOARD_ROLES = (Role.OPERATOR_ADMIN, Role.CUSTOMER_MANAGER)
