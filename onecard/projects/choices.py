"""Choice sets and lifecycle tables of implementation projects (项目实施)."""

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class ProjectStatus(models.TextChoices):
    # Stages are being worked through; at most one such project per group customer.
    IN_PROGRESS = "in_progress", pgettext_lazy("project", "In progress")
    # Final acceptance signed by both parties: read-only history.
    COMPLETED = "completed", pgettext_lazy("project", "Completed")
    # Abandoned (contract withdrawn): read-only history, no way back.
    CANCELLED = "cancelled", _("Cancelled")


PROJECT_TRANSITIONS = {
    ProjectStatus.IN_PROGRESS: {ProjectStatus.COMPLETED, ProjectStatus.CANCELLED},
    ProjectStatus.COMPLETED: set(),
    ProjectStatus.CANCELLED: set(),
}
CLOSED_PROJECT_STATUSES = {ProjectStatus.COMPLETED, ProjectStatus.CANCELLED}


class StageKind(models.TextChoices):
    """The stages of a project, in the only order they may be worked through."""

    SURVEY = "survey", _("Survey and solution")  # 勘察与方案
    BUSINESS_ACCEPTANCE = "business_acceptance", _("Business acceptance")  # 业务受理
    CONSTRUCTION_PREPARATION = "construction_preparation", _("Construction preparation")  # 施工准备
    CONSTRUCTION = "construction", _("Construction")  # 施工
    CARD_SWAP = "card_swap", _("Card swap and activation")  # 换卡与开通
    TRAINING = "training", _("Use and training")  # 使用与培训
    INITIAL_ACCEPTANCE = "initial_acceptance", _("Initial acceptance")  # 初验
    FINAL_ACCEPTANCE = "final_acceptance", _("Final acceptance")  # 终验


# The fixed order of stages: stage N may start only once stage N-1 is signed off.
STAGE_ORDER = list(StageKind)
STAGE_POSITION = {kind: index + 1 for index, kind in enumerate(STAGE_ORDER)}


class StageStatus(models.TextChoices):
    # Waiting for the stage before it to be signed off.
    PENDING = "pending", _("Not started")
    # Work under way: checklist, attachments, equipment and progress may change.
    IN_PROGRESS = "in_progress", pgettext_lazy("project", "In progress")
    # Signed off by its owner (final acceptance: also by both parties); no way back.
    SIGNED_OFF = "signed_off", _("Signed off")


STAGE_TRANSITIONS = {
    StageStatus.PENDING: {StageStatus.IN_PROGRESS},
    StageStatus.IN_PROGRESS: {StageStatus.SIGNED_OFF},
    StageStatus.SIGNED_OFF: set(),
}


class SignatureSide(models.TextChoices):
    """The two parties who sign final acceptance."""

    OPERATOR = "operator", _("Operator side")  # 运营商方
    CUSTOMER = "customer", _("Customer side")  # 客户方


class EventKind(models.TextChoices):
    PROJECT_CREATED = "project_created", _("Project created")
    PROJECT_COMPLETED = "project_completed", _("Project completed")
    PROJECT_CANCELLED = "project_cancelled", _("Project cancelled")
    STAGE_STARTED = "stage_started", _("Stage started")
    STAGE_SIGNED_OFF = "stage_signed_off", _("Stage signed off")
    FINAL_ACCEPTANCE_SIGNED = "final_acceptance_signed", _("Final acceptance signed by a party")


# The checklist each stage starts with; owners may add items while the stage is in progress.
DEFAULT_CHECKLISTS = {
    StageKind.SURVEY: [
        _("Site survey done (doors, canteen, network, power)"),
        _("Solution and equipment plan agreed with the customer"),
    ],
    StageKind.BUSINESS_ACCEPTANCE: [
        _("Service contract signed"),
        _("Business order entered"),
    ],
    StageKind.CONSTRUCTION_PREPARATION: [
        _("Equipment list confirmed"),
        _("Procurement orders placed"),
    ],
    StageKind.CONSTRUCTION: [
        _("Terminals installed and cabled"),
        _("Terminals online and tested"),
    ],
    StageKind.CARD_SWAP: [
        _("Cards swapped and calibrated on site"),
        _("Applications opened"),
    ],
    StageKind.TRAINING: [
        _("Enterprise admins trained"),
        _("Members' guide handed over"),
    ],
    StageKind.INITIAL_ACCEPTANCE: [
        _("Initial acceptance report signed"),
    ],
    StageKind.FINAL_ACCEPTANCE: [
        _("Final acceptance report prepared"),
    ],
}
