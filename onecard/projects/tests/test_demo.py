"""The demo's implementation projects: one per customer, at different stages, idempotent."""

from collections import Counter

from onecard.audit.actions import verify_audit_log
from onecard.demo import load_demo
from onecard.projects.models import Project


def test_demo_projects(db):
    summary = load_demo(members_per_customer=30)
    assert summary.created["project"] == 2
    tech = Project.objects.get(group_customer__code="DEMO-CQ-TECH")
    university = Project.objects.get(group_customer__code="DEMO-CQ-UNIV")
    assert (tech.current_stage, tech.swap_done, tech.swap_total) == ("card_swap", 30, 30)
    assert tech.equipment.count() == 5 and tech.procurement_orders.count() == 5
    assert tech.stages.get(kind="construction").owner.username == "demo_integrator"
    assert tech.is_overdue is False
    assert university.current_stage == "final_acceptance"
    assert university.is_overdue is True
    assert Counter(university.stages.values_list("status", flat=True)) == {
        "signed_off": 7, "pending": 1}
    assert verify_audit_log().ok

    again = load_demo(members_per_customer=30)
    assert again.created["project"] == 0
    assert Project.objects.count() == 2
