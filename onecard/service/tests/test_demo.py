"""The demo's service tickets: one per interesting state, idempotent, every step audited."""

from onecard.audit.actions import verify_audit_log
from onecard.demo import load_demo
from onecard.service.models import Ticket


def test_demo_tickets(db):
    summary = load_demo(members_per_customer=10)
    assert summary.created["ticket"] == 4
    by_title = {t.title: t for t in Ticket.objects.all()}
    door = by_title["东门门禁控制器离线"]
    assert (door.status, door.work_orders.get().status,
            door.work_orders.get().integrator.name) == (
        "dispatched", "accepted", "重庆示例智能工程有限公司")
    billing = by_title["学生卡套餐资费咨询"]
    assert (billing.status, billing.tier) == ("escalated", 2)
    pos = by_title["食堂 2 号 POS 机无法读卡"]
    assert (pos.status, pos.satisfaction, pos.member.account.username) == (
        "confirmed", 5, "demo_member")
    late = by_title["图书馆考勤机时间不同步"]
    assert late.sla_breaches() == ["response", "resolution"]
    assert list(late.events.filter(kind="sla_breached").values_list("note", flat=True)) == [
        "response", "resolution"]
    assert verify_audit_log().ok

    again = load_demo(members_per_customer=10)
    assert again.created["ticket"] == 0
    assert Ticket.objects.count() == 4
    assert late.events.filter(kind="sla_breached").count() == 2
