"""Project actions called directly: dates, the database's last word, and what the API does not
reach (paper records entered with ``at=``)."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from onecard.core.errors import InvalidInput, NotAllowed
from onecard.projects import actions
from onecard.projects.choices import STAGE_ORDER, StageKind, StageStatus
from onecard.projects.errors import ProjectRuleBroken
from onecard.projects.models import Project, ProjectEvent, ProjectStage

from .helpers import stage, state_of, tick_all, walk

SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.mark.parametrize("start,due", [
    (datetime(2026, 1, 31, 10, 0, tzinfo=SHANGHAI), datetime(2026, 2, 28, 10, 0, tzinfo=SHANGHAI)),
    (datetime(2028, 1, 31, 10, 0, tzinfo=SHANGHAI), datetime(2028, 2, 29, 10, 0, tzinfo=SHANGHAI)),
    (datetime(2026, 12, 15, 9, 30, tzinfo=SHANGHAI), datetime(2027, 1, 15, 9, 30,
                                                              tzinfo=SHANGHAI)),
    (datetime(2026, 3, 31, 23, 59, tzinfo=SHANGHAI), datetime(2026, 4, 30, 23, 59,
                                                              tzinfo=SHANGHAI)),
])
def test_one_calendar_month_after(start, due):
    assert actions.one_month_after(start) == due


def test_creating_a_project_builds_eight_owned_stages_with_checklists(world, project_a):
    stages = list(project_a.stages.order_by("position"))
    assert [s.kind for s in stages] == STAGE_ORDER
    assert [s.position for s in stages] == list(range(1, 9))
    assert all(s.owner == world.manager and s.status == StageStatus.PENDING for s in stages)
    assert all(s.checklist.exists() for s in stages)
    assert project_a.swap_total == 3
    assert ProjectEvent.objects.get(project=project_a).kind == "project_created"


def test_at_is_never_in_the_future_nor_before_the_step_it_follows(world, project_a):
    survey = stage(project_a, StageKind.SURVEY)
    before = state_of(project_a)
    with pytest.raises(InvalidInput) as refusal:
        actions.start_stage(actor=world.manager, stage=survey,
                            at=timezone.now() + timedelta(hours=1))
    assert refusal.value.field == "at"
    assert state_of(project_a) == before
    started = timezone.now() - timedelta(days=3)
    actions.start_stage(actor=world.manager, stage=survey, at=started)
    tick_all(project_a, StageKind.SURVEY, world.manager)
    before = state_of(project_a)
    with pytest.raises(InvalidInput):
        actions.sign_off_stage(actor=world.manager, stage=stage(project_a, StageKind.SURVEY),
                               at=started - timedelta(days=1))
    assert state_of(project_a) == before


def test_initial_acceptance_sets_the_due_date_from_its_sign_off(world, project_a):
    signed = datetime(2026, 1, 31, 15, 0, tzinfo=SHANGHAI)
    walk(project_a, until=StageKind.INITIAL_ACCEPTANCE, actor=world.manager,
         at=signed - timedelta(days=1))
    tick_all(project_a, StageKind.INITIAL_ACCEPTANCE, world.manager, at=signed)
    actions.sign_off_stage(actor=world.manager,
                           stage=stage(project_a, StageKind.INITIAL_ACCEPTANCE), at=signed)
    project_a.refresh_from_db()
    assert project_a.final_acceptance_due_at == datetime(2026, 2, 28, 15, 0, tzinfo=SHANGHAI)
    assert project_a.is_overdue is True  # 2026-02-28 is in the past for this suite's clock
    assert list(Project.objects.overdue()) == [project_a]
    assert project_a.current_stage == StageKind.FINAL_ACCEPTANCE


def test_the_database_refuses_a_final_acceptance_without_both_parties(world, project_a):
    final = stage(project_a, StageKind.FINAL_ACCEPTANCE)
    with pytest.raises(IntegrityError), transaction.atomic():
        ProjectStage.objects.filter(pk=final.pk).update(
            status=StageStatus.SIGNED_OFF, signed_off_by=world.manager,
            signed_off_at=timezone.now(), operator_signed_by=world.manager)


def test_the_database_refuses_two_projects_in_progress(world, project_a):
    with pytest.raises(IntegrityError), transaction.atomic():
        Project.objects.create(group_customer=world.customer_a, name="Twin")


def test_the_database_refuses_more_swapped_than_the_total(world, project_a):
    with pytest.raises(IntegrityError), transaction.atomic():
        Project.objects.filter(pk=project_a.pk).update(swap_done=4)


@pytest.mark.parametrize("who", ["integrator_engineer", "ent_admin_a", "agent1", "vendor_engineer"])
def test_only_managers_create_and_cancel(world, project_a, who):
    actor = getattr(world, who)
    before = state_of(project_a)
    with pytest.raises(NotAllowed):
        actions.create_project(actor=actor, group_customer=world.customer_b, name="X")
    with pytest.raises(NotAllowed):
        actions.cancel_project(actor=actor, project=project_a, reason="no")
    assert state_of(project_a) == before


def test_card_swap_total_follows_active_members_when_unset(world):
    project = actions.create_project(actor=world.manager, group_customer=world.customer_a,
                                     name="A", swap_total=0)
    assert project.swap_total == 0
    walk(project, until=StageKind.CARD_SWAP, actor=world.manager)
    project.refresh_from_db()
    assert project.swap_total == 3


def test_added_checklist_items_must_be_done_too(world, project_a):
    actions.start_stage(actor=world.manager, stage=stage(project_a, StageKind.SURVEY))
    tick_all(project_a, StageKind.SURVEY, world.manager)
    extra = actions.add_checklist_item(actor=world.manager,
                                       stage=stage(project_a, StageKind.SURVEY),
                                       title="Network survey")
    assert extra.position == 3
    before = state_of(project_a)
    with pytest.raises(ProjectRuleBroken) as refusal:
        actions.sign_off_stage(actor=world.manager, stage=stage(project_a, StageKind.SURVEY))
    assert refusal.value.code == "checklist_incomplete"
    assert "Network survey" in refusal.value.message
    assert state_of(project_a) == before
    actions.set_checklist_item(actor=world.manager, item=extra, done=True)
    signed = actions.sign_off_stage(actor=world.manager,
                                    stage=stage(project_a, StageKind.SURVEY))
    assert signed.status == StageStatus.SIGNED_OFF
    with pytest.raises(ProjectRuleBroken) as refusal:
        actions.add_checklist_item(actor=world.manager, stage=signed, title="Late")
    assert refusal.value.code == "stage_signed_off"
