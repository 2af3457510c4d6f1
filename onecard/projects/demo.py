"""Demo implementation projects (演示项目): one per demo group customer, at different stages.

* 重庆示例科技有限公司: in card swap and activation, with an equipment list, procurement orders
  and 120 of its members swapped;
* 重庆示例大学: past initial acceptance and overdue for final acceptance (initial acceptance was
  signed off more than a month ago and final acceptance was never requested).

Built only through the actions, with ``at=`` dating each step in the past (as paper records
entered later would be). Idempotent: a customer that already has a project is left alone.
"""

from dataclasses import dataclass
from datetime import timedelta

from django.utils import timezone, translation

from onecard.accounts.models import User

from . import actions
from .choices import STAGE_ORDER, StageKind
from .models import ChecklistItem, Project, ProjectStage

TECH, UNIVERSITY = "DEMO-CQ-TECH", "DEMO-CQ-UNIV"
EQUIPMENT = (
    ("门禁控制器", "DC-200", 6), ("考勤机", "AT-30", 4), ("消费 POS", "POS-8", 8),
    ("发卡机", "IS-1", 1), ("距离校准器", "CAL-2", 2),
)


@dataclass
class Walk:
    """How far to take one demo project, and when its steps happened."""

    project: Project
    owners: dict
    vendor: object
    start_days_ago: int
    days_per_stage: int


def _stage(project, kind):
    return ProjectStage.objects.select_related("project").get(project=project, kind=kind)


def _equipment(walk, actor):
    for number, (name, model, quantity) in enumerate(EQUIPMENT, start=1):
        line = actions.add_equipment_line(actor=actor, project=walk.project, name=name,
                                          model_number=model, quantity=quantity,
                                          vendor=walk.vendor)
        actions.add_procurement_order(actor=actor, project=walk.project, equipment_line=line,
                                      vendor=walk.vendor, quantity=quantity,
                                      order_number=f"CQ-PO-{walk.project.pk}-{number:02d}")


def _walk(walk, *, stop_at, sign_last):
    """Start and sign off each stage in order up to ``stop_at``: started only, or signed off
    too when ``sign_last``."""
    now, day = timezone.now(), walk.start_days_ago
    project = walk.project
    for kind in STAGE_ORDER:
        actor = walk.owners.get(kind, walk.owners["default"])
        actions.start_stage(actor=actor, stage=_stage(project, kind),
                            at=now - timedelta(days=day))
        if kind == StageKind.CONSTRUCTION_PREPARATION:
            _equipment(walk, actor)
        if kind == stop_at and not sign_last:
            return
        if kind == StageKind.CARD_SWAP:
            project.refresh_from_db()
            actions.record_swap_progress(actor=actor, project=project,
                                         swapped=project.swap_total)
        signed = now - timedelta(days=day - walk.days_per_stage + 1)
        for item in ChecklistItem.objects.filter(stage__project=project, stage__kind=kind):
            actions.set_checklist_item(actor=actor, item=item, done=True, at=signed)
        actions.sign_off_stage(actor=actor, stage=_stage(project, kind), at=signed)
        if kind == stop_at:
            return
        day -= walk.days_per_stage


def _tech(builder, customer, engineer):
    manager = customer.customer_manager
    project = builder.made("project", actions.create_project(
        actor=manager, group_customer=customer, name="重庆示例科技 一卡通实施",
        integrator=builder.integrator,
    ))
    owners = {"default": manager}
    if engineer is not None:
        actions.assign_stage_owner(actor=manager, stage=_stage(project, StageKind.CONSTRUCTION),
                                   owner=engineer)
        owners[StageKind.CONSTRUCTION] = engineer
    _walk(Walk(project, owners, builder.vendor, start_days_ago=40, days_per_stage=7),
          stop_at=StageKind.CARD_SWAP, sign_last=False)
    project.refresh_from_db()
    actions.record_swap_progress(actor=manager, project=project,
                                 swapped=min(120, project.swap_total))


def _university(builder, customer):
    manager = customer.customer_manager
    project = builder.made("project", actions.create_project(
        actor=manager, group_customer=customer, name="重庆示例大学 校园一卡通实施",
        integrator=builder.integrator,
    ))
    # Initial acceptance signed off about 50 days ago: final acceptance is overdue.
    _walk(Walk(project, {"default": manager}, builder.vendor, start_days_ago=120,
               days_per_stage=10),
          stop_at=StageKind.INITIAL_ACCEPTANCE, sign_last=True)


def load(builder):
    """Give each demo customer its project, once."""
    engineer = User.objects.filter(username="demo_integrator").first()
    # Checklist items are stored text: write them in the demo's language.
    with translation.override("zh-hans"):
        tech = builder.customers.get(TECH)
        if tech is not None and not Project.objects.filter(group_customer=tech).exists():
            _tech(builder, tech, engineer)
        university = builder.customers.get(UNIVERSITY)
        if university is not None and not Project.objects.filter(
            group_customer=university
        ).exists():
            _university(builder, university)
