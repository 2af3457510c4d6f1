"""Service desk actions: the ticket's walk from intake to close, SLA timers, and every refusal
(each one also checks that nothing changed: tickets, history, work orders, audit log)."""

from datetime import timedelta

import pytest

from onecard.audit.models import AuditRecord
from onecard.core.errors import InvalidInput, NotAllowed, TransitionRefused
from onecard.organizations import actions as org
from onecard.service import actions
from onecard.service.errors import (
    AlreadyEscalated,
    NotConfirmed,
    NotCustomerSide,
    WorkOrderStillOpen,
)
from onecard.service.models import Ticket, TicketEvent

from .helpers import clock, dispatched, later, open_for, resolved, state


def history(ticket):
    return list(ticket.events.values_list("kind", "from_status", "to_status", "tier"))


# --- The walk ---------------------------------------------------------------------------------


def test_ticket_walks_from_intake_through_dispatch_to_close(world):
    audit_before = AuditRecord.objects.count()
    ticket = open_for(world, priority="p2", member=world.members_a[1])
    assert (ticket.status, ticket.tier, ticket.channel, ticket.branch) == (
        "new", 1, "hotline", world.county_a)
    assert ticket.response_due_at - ticket.created_at == timedelta(minutes=30)
    assert ticket.on_site_due_at - ticket.created_at == timedelta(hours=4)
    assert ticket.resolution_due_at - ticket.created_at == timedelta(days=1)
    assert [i.name for i in actions.suggested_integrators(ticket)] == ["Integrator"]

    actions.acknowledge_ticket(actor=world.agent1, ticket=ticket)
    work_order = actions.dispatch_ticket(actor=world.agent1, ticket=ticket,
                                         integrator=world.integrator, instructions="Gate 3")
    assert (work_order.status, work_order.assignee) == ("dispatched", world.integrator)
    actions.accept_work_order(actor=world.integrator_engineer, work_order=work_order)
    actions.arrive_on_site(actor=world.integrator_engineer, work_order=work_order)
    actions.report_work_order(actor=world.integrator_engineer, work_order=work_order,
                              outcome="fixed", result="Replaced the power supply.")
    ticket.refresh_from_db()
    work_order.refresh_from_db()
    assert (ticket.status, ticket.resolution) == ("resolved", "Replaced the power supply.")
    assert (work_order.status, work_order.outcome, work_order.engineer) == (
        "completed", "fixed", world.integrator_engineer)

    actions.confirm_resolution(actor=world.ent_admin_a, ticket=ticket, satisfaction=5,
                               comment="Quick, thanks")
    actions.close_ticket(actor=world.agent1, ticket=ticket)
    ticket.refresh_from_db()
    assert (ticket.status, ticket.satisfaction, ticket.confirmed_by) == (
        "closed", 5, world.ent_admin_a)
    assert ticket.sla_breaches() == []
    assert history(ticket) == [
        ("opened", "", "new", 1),
        ("acknowledged", "new", "acknowledged", 1),
        ("dispatched", "acknowledged", "dispatched", 1),
        ("work_order_accepted", "", "", 1),
        ("arrived", "dispatched", "on_site", 1),
        ("work_order_reported", "on_site", "resolved", 1),
        ("confirmed", "resolved", "confirmed", 1),
        ("closed", "confirmed", "closed", 1),
    ]
    actions_logged = list(AuditRecord.objects.order_by("pk").values_list("action", flat=True))[
        audit_before - AuditRecord.objects.count():]
    assert actions_logged == [
        "ticket.opened", "ticket.acknowledged", "work_order.dispatched", "ticket.dispatched",
        "work_order.accepted", "work_order.arrived", "ticket.on_site", "work_order.reported",
        "ticket.resolved", "ticket.confirmed", "ticket.closed",
    ]
    assert set(AuditRecord.objects.filter(action__startswith="ticket.").values_list(
        "group_customer_id", flat=True)) == {world.customer_a.pk}


def test_escalated_ticket_is_worked_by_tier_2(world):
    ticket = open_for(world, ticket_class="business", actor=world.manager)
    assert ticket.channel == "customer_manager"
    actions.escalate_ticket(actor=world.manager, ticket=ticket, reason="Billing rule question")
    ticket.refresh_from_db()
    assert (ticket.status, ticket.tier, ticket.escalated_by) == ("escalated", 2, world.manager)
    assert ticket.acknowledged_at == ticket.escalated_at  # escalating answered the customer
    actions.acknowledge_ticket(actor=world.agent2, ticket=ticket)
    actions.resolve_ticket(actor=world.agent2, ticket=ticket, resolution="Explained the tariff.")
    actions.confirm_resolution(actor=world.ent_admin_a, ticket=ticket)
    actions.close_ticket(actor=world.agent2, ticket=ticket)
    ticket.refresh_from_db()
    assert (ticket.status, ticket.satisfaction) == ("closed", None)
    assert [row[0] for row in history(ticket)] == [
        "opened", "escalated", "acknowledged", "resolved", "confirmed", "closed"]
    assert [row[3] for row in history(ticket)] == [1, 2, 2, 2, 2, 2]


def test_member_raises_rejects_and_then_confirms(world):
    ticket = open_for(world, actor=world.member_user_a, ticket_class="business",
                      title="Balance wrong", description="My balance is 10 yuan short.")
    assert (ticket.channel, ticket.member) == ("self_service", world.members_a[0])
    actions.acknowledge_ticket(actor=world.manager, ticket=ticket)
    actions.resolve_ticket(actor=world.manager, ticket=ticket, resolution="Refunded.")
    actions.reject_resolution(actor=world.member_user_a, ticket=ticket, reason="Not refunded.")
    ticket.refresh_from_db()
    assert (ticket.status, ticket.resolved_at) == ("reopened", None)
    actions.acknowledge_ticket(actor=world.manager, ticket=ticket)
    actions.resolve_ticket(actor=world.manager, ticket=ticket, resolution="Refunded, really.")
    actions.confirm_resolution(actor=world.member_user_a, ticket=ticket, satisfaction=3)
    ticket.refresh_from_db()
    assert (ticket.status, ticket.satisfaction, ticket.resolution) == (
        "confirmed", 3, "Refunded, really.")


def test_declined_and_unfixed_work_orders_return_the_ticket_to_its_queue(world):
    ticket, work_order = dispatched(world)
    actions.decline_work_order(actor=world.integrator_engineer, work_order=work_order,
                               reason="No spare parts")
    ticket.refresh_from_db()
    assert ticket.status == "acknowledged"
    vendor_order = actions.dispatch_ticket(actor=world.agent1, ticket=ticket, vendor=world.vendor)
    actions.accept_work_order(actor=world.vendor_engineer, work_order=vendor_order)
    actions.report_work_order(actor=world.vendor_engineer, work_order=vendor_order,
                              outcome="not_fixed", result="Firmware bug, patch next week.")
    ticket.refresh_from_db()
    assert (ticket.status, ticket.resolved_at) == ("acknowledged", None)
    assert list(ticket.work_orders.values_list("status", flat=True).order_by("pk")) == [
        "declined", "completed"]


def test_customer_who_raised_it_may_cancel(world):
    ticket = open_for(world, actor=world.ent_admin_a)
    assert ticket.channel == "enterprise_admin"
    actions.cancel_ticket(actor=world.ent_admin_a, ticket=ticket, reason="Works again")
    ticket.refresh_from_db()
    assert ticket.status == "cancelled"
    assert ticket.sla_breaches(later(days=30)) == []


# --- SLA ---------------------------------------------------------------------------------------


def test_sla_breaches_are_computed_and_recorded_once(world):
    start = later()
    with clock(start):
        ticket = open_for(world, priority="p1")
    assert ticket.sla_breaches(later(minutes=10, start=start)) == []
    assert ticket.sla_breaches(later(minutes=16, start=start)) == ["response"]
    with clock(later(minutes=20, start=start)):
        actions.acknowledge_ticket(actor=world.agent1, ticket=ticket)
        actions.dispatch_ticket(actor=world.agent1, ticket=ticket, integrator=world.integrator)
    ticket.refresh_from_db()
    three_hours = later(hours=3, start=start)
    assert ticket.sla_breaches(three_hours) == ["response", "on_site"]
    five_hours = later(hours=5, start=start)
    assert ticket.sla_breaches(five_hours) == ["response", "on_site", "resolution"]
    annotated = Ticket.objects.with_sla(five_hours).get(pk=ticket.pk)
    assert (annotated.response_breached, annotated.on_site_breached,
            annotated.resolution_breached, annotated.sla_breached) == (True, True, True, True)

    audit_before = AuditRecord.objects.count()
    assert actions.record_sla_breaches(now=three_hours) == 2
    assert actions.record_sla_breaches(now=three_hours) == 0
    assert actions.record_sla_breaches(now=five_hours) == 1
    assert list(ticket.events.filter(kind="sla_breached").values_list("note", flat=True)) == [
        "response", "on_site", "resolution"]
    assert AuditRecord.objects.count() == audit_before + 3
    fresh = open_for(world)
    assert Ticket.objects.with_sla(later()).get(pk=fresh.pk).sla_breached is False


def test_sla_table_comes_from_settings(world, settings):
    settings.ONECARD_SERVICE_SLA = {
        "p3": {"response": 1, "on_site": 2, "resolution": 3},
    }
    ticket = open_for(world, priority="p3")
    assert ticket.resolution_due_at - ticket.created_at == timedelta(minutes=3)


def test_resolved_in_time_is_not_a_breach_after_the_deadline(world):
    ticket = resolved(world, priority="p1")
    assert ticket.sla_breaches(later(days=3)) == []
    assert not Ticket.objects.with_sla(later(days=3)).get(pk=ticket.pk).sla_breached


# --- Refusals: each changes nothing ------------------------------------------------------------


def refused(error, call, match=None):
    before = state()
    with pytest.raises(error) as caught:
        call()
    assert state() == before
    if match:
        assert match in str(caught.value.message if hasattr(caught.value, "message")
                            else caught.value)
    return caught.value


def test_dispatch_to_an_integrator_not_serving_the_county_is_refused(world):
    ticket = open_for(world, customer=world.customer_b, actor=world.manager_b)
    actions.acknowledge_ticket(actor=world.manager_b, ticket=ticket)
    error = refused(InvalidInput, lambda: actions.dispatch_ticket(
        actor=world.manager_b, ticket=ticket, integrator=world.integrator))
    assert error.errors == {"integrator": [
        "Integrator does not serve County B: a work order goes to an integrator serving the "
        "customer's county."]}
    assert error.code == "integrator_not_serving_county"
    assert list(actions.suggested_integrators(ticket)) == []


def test_dispatch_refusals(world):
    ticket = open_for(world)
    actions.acknowledge_ticket(actor=world.agent1, ticket=ticket)
    refused(InvalidInput, lambda: actions.dispatch_ticket(actor=world.agent1, ticket=ticket))
    refused(InvalidInput, lambda: actions.dispatch_ticket(
        actor=world.agent1, ticket=ticket, integrator=world.integrator, vendor=world.vendor))
    org.update_integrator(actor=world.admin, integrator=world.integrator, is_active=False)
    refused(InvalidInput, lambda: actions.dispatch_ticket(
        actor=world.agent1, ticket=ticket, integrator=world.integrator), "not active")
    business = open_for(world, ticket_class="business")
    actions.acknowledge_ticket(actor=world.agent1, ticket=business)
    error = refused(InvalidInput, lambda: actions.dispatch_ticket(
        actor=world.agent1, ticket=business, vendor=world.vendor))
    assert list(error.errors) == ["ticket_class"]
    # Only the queue dispatches; and from "new" the table says no.
    fresh = open_for(world)
    refused(TransitionRefused, lambda: actions.dispatch_ticket(
        actor=world.agent1, ticket=fresh, vendor=world.vendor))
    refused(NotAllowed, lambda: actions.dispatch_ticket(
        actor=world.ent_admin_a, ticket=ticket, vendor=world.vendor))


def test_second_dispatch_while_one_is_in_progress_is_refused(world):
    ticket, _work_order = dispatched(world)
    refused(TransitionRefused, lambda: actions.dispatch_ticket(
        actor=world.agent1, ticket=ticket, vendor=world.vendor))


def test_closing_an_unconfirmed_ticket_is_refused(world):
    ticket = resolved(world)
    error = refused(NotConfirmed, lambda: actions.close_ticket(actor=world.agent1,
                                                               ticket=ticket))
    assert error.message == ("The customer has not confirmed the resolution: a ticket is closed "
                             "only after the customer confirms it.")
    fresh = open_for(world)
    refused(NotConfirmed, lambda: actions.close_ticket(actor=world.agent1, ticket=fresh))


@pytest.mark.parametrize("who", ["agent1", "manager", "admin", "ent_admin_b", "member_user_b",
                                 "integrator_engineer"])
def test_confirming_by_the_wrong_party_is_refused(world, who):
    ticket = resolved(world)
    error = refused(NotCustomerSide, lambda: actions.confirm_resolution(
        actor=getattr(world, who), ticket=ticket, satisfaction=5))
    assert "Only the customer confirms" in error.message
    refused(NotCustomerSide, lambda: actions.reject_resolution(
        actor=getattr(world, who), ticket=ticket, reason="No"))


def test_a_member_confirms_only_their_own_ticket(world):
    ticket = open_for(world, member=world.members_a[2])
    actions.acknowledge_ticket(actor=world.agent1, ticket=ticket)
    actions.resolve_ticket(actor=world.agent1, ticket=ticket, resolution="Done")
    refused(NotCustomerSide, lambda: actions.confirm_resolution(actor=world.member_user_a,
                                                                ticket=ticket))


@pytest.mark.parametrize("score", [0, 6, -1, 100, True])
def test_satisfaction_out_of_range_is_refused(world, score):
    ticket = resolved(world)
    error = refused(InvalidInput, lambda: actions.confirm_resolution(
        actor=world.ent_admin_a, ticket=ticket, satisfaction=score))
    assert list(error.errors) == ["satisfaction"]


def test_escalating_twice_is_refused(world):
    ticket = open_for(world)
    actions.escalate_ticket(actor=world.agent1, ticket=ticket, reason="Needs tier 2")
    error = refused(AlreadyEscalated, lambda: actions.escalate_ticket(
        actor=world.manager, ticket=ticket, reason="Again"))
    assert error.message == ("This ticket was already escalated to tier 2; a ticket is "
                             "escalated only once.")
    # Even after tier 2 took it and the customer reopened it.
    actions.acknowledge_ticket(actor=world.agent2, ticket=ticket)
    refused(AlreadyEscalated, lambda: actions.escalate_ticket(
        actor=world.agent1, ticket=ticket, reason="Again"))


@pytest.mark.parametrize("who", ["agent2", "admin", "ent_admin_a", "integrator_engineer"])
def test_only_tier_1_agents_and_customer_managers_escalate(world, who):
    ticket = open_for(world)
    refused(NotAllowed, lambda: actions.escalate_ticket(actor=getattr(world, who),
                                                        ticket=ticket, reason="Up"))


def test_escalation_needs_a_reason(world):
    ticket = open_for(world)
    error = refused(InvalidInput, lambda: actions.escalate_ticket(actor=world.agent1,
                                                                  ticket=ticket, reason="  "))
    assert list(error.errors) == ["reason"]


def test_queues_work_their_own_tier_only(world):
    tier1 = open_for(world)
    refused(NotAllowed, lambda: actions.acknowledge_ticket(actor=world.agent2, ticket=tier1))
    tier2 = open_for(world)
    actions.escalate_ticket(actor=world.agent1, ticket=tier2, reason="Up")
    refused(NotAllowed, lambda: actions.acknowledge_ticket(actor=world.agent1, ticket=tier2))
    refused(NotAllowed, lambda: actions.acknowledge_ticket(actor=world.manager, ticket=tier2))
    refused(NotAllowed, lambda: actions.acknowledge_ticket(actor=world.ent_admin_a,
                                                           ticket=tier1))


def test_transitions_from_the_wrong_state_are_refused(world):
    ticket = resolved(world)
    refused(TransitionRefused, lambda: actions.acknowledge_ticket(actor=world.agent1,
                                                                  ticket=ticket))
    refused(TransitionRefused, lambda: actions.resolve_ticket(actor=world.agent1, ticket=ticket,
                                                              resolution="Again"))
    refused(TransitionRefused, lambda: actions.cancel_ticket(actor=world.agent1, ticket=ticket,
                                                             reason="x"))
    fresh = open_for(world, member=world.members_a[0])
    refused(TransitionRefused, lambda: actions.confirm_resolution(actor=world.ent_admin_a,
                                                                  ticket=fresh))
    refused(TransitionRefused, lambda: actions.reject_resolution(actor=world.member_user_a,
                                                                 ticket=fresh, reason="x"))


def test_work_order_steps_out_of_order_are_refused(world):
    ticket, work_order = dispatched(world)
    refused(TransitionRefused, lambda: actions.arrive_on_site(
        actor=world.integrator_engineer, work_order=work_order))
    refused(TransitionRefused, lambda: actions.report_work_order(
        actor=world.integrator_engineer, work_order=work_order, outcome="fixed", result="x"))
    actions.accept_work_order(actor=world.integrator_engineer, work_order=work_order)
    refused(TransitionRefused, lambda: actions.accept_work_order(
        actor=world.integrator_engineer, work_order=work_order))
    refused(TransitionRefused, lambda: actions.decline_work_order(
        actor=world.integrator_engineer, work_order=work_order, reason="x"))
    refused(InvalidInput, lambda: actions.report_work_order(
        actor=world.integrator_engineer, work_order=work_order, outcome="maybe", result="x"))
    refused(WorkOrderStillOpen, lambda: actions.resolve_ticket(
        actor=world.agent1, ticket=ticket, resolution="Fixed remotely"))
    refused(TransitionRefused, lambda: actions.cancel_ticket(actor=world.agent1, ticket=ticket,
                                                             reason="x"))


@pytest.mark.parametrize("who", ["vendor_engineer", "agent1", "admin", "manager"])
def test_only_the_assignees_engineers_move_a_work_order(world, who):
    _ticket, work_order = dispatched(world)
    refused(NotAllowed, lambda: actions.accept_work_order(actor=getattr(world, who),
                                                          work_order=work_order))


def test_intake_refusals(world):
    fields = {"ticket_class": "terminal", "title": "t", "description": "d"}
    refused(NotAllowed, lambda: actions.open_ticket(
        actor=world.integrator_engineer, group_customer=world.customer_a, **fields))
    refused(NotAllowed, lambda: actions.open_ticket(
        actor=world.agent2, group_customer=world.customer_a, **fields))
    refused(InvalidInput, lambda: actions.open_ticket(
        actor=world.ent_admin_a, group_customer=world.customer_b, **fields))
    refused(InvalidInput, lambda: actions.open_ticket(
        actor=world.member_user_a, group_customer=world.customer_a,
        member=world.members_a[1], **fields))
    refused(InvalidInput, lambda: actions.open_ticket(
        actor=world.agent1, group_customer=world.customer_a, member=world.members_b[0],
        **fields))
    refused(InvalidInput, lambda: actions.open_ticket(
        actor=world.ent_admin_a, group_customer=world.customer_a, channel="hotline", **fields))
    error = refused(InvalidInput, lambda: actions.open_ticket(
        actor=world.agent1, group_customer=world.customer_a, ticket_class="nope", title="",
        description="d"))
    assert set(error.errors) == {"ticket_class", "title"}
    org.close_group_customer(actor=world.admin, group_customer=world.customer_b, reason="End")
    refused(InvalidInput, lambda: actions.open_ticket(
        actor=world.agent1, group_customer=world.customer_b, **fields))
    assert Ticket.objects.count() == 0 and TicketEvent.objects.count() == 0


def test_a_call_cannot_come_in_in_the_future(world):
    error = refused(InvalidInput, lambda: open_for(world, received_at=later(minutes=5)))
    assert list(error.errors) == ["received_at"]


def test_a_call_recorded_later_starts_its_clock_when_it_came_in(world):
    came_in = later(hours=-3)
    ticket = open_for(world, priority="p1", received_at=came_in)
    assert (ticket.created_at, ticket.response_due_at) == (came_in,
                                                          came_in + timedelta(minutes=15))
    assert ticket.sla_breaches() == ["response"]


def test_breach_command_records_once(world):
    from io import StringIO

    from django.core.management import call_command

    open_for(world, priority="p1", received_at=later(hours=-5))
    out = StringIO()
    call_command("service_flag_breaches", stdout=out)
    assert out.getvalue().strip() == "recorded 2 SLA breach(es)"
    call_command("service_flag_breaches", stdout=out)
    assert out.getvalue().strip().endswith("recorded 0 SLA breach(es)")
