"""Card lifecycle actions: issue, loss report, un-report, suspend/resume, replace, delete an
application, deregister, recover. Every refusal is shown to change nothing."""

import pytest

from onecard.audit.models import AuditRecord
from onecard.cards.actions import lifecycle
from onecard.cards.models import (
    Card,
    CardApplication,
    CardEvent,
    CarrierBinding,
    CredentialChange,
    LocalCarrierRegister,
)
from onecard.core.errors import InvalidInput, NotAllowed, NotFound, TransitionRefused
from onecard.notifications.models import Notification

from .conftest import imsi


def state():
    """Everything a refused lifecycle action must leave untouched."""
    return (
        list(Card.objects.order_by("pk").values_list(
            "pk", "status", "member_id", "group_customer_id", "msisdn", "suspension_scope",
            "replaced_by_id", "recovered_at")),
        list(CardApplication.objects.order_by("pk").values_list("pk", "status")),
        list(CarrierBinding.objects.order_by("pk").values_list("pk", "status", "imsi")),
        list(LocalCarrierRegister.objects.order_by("msisdn").values_list("msisdn", "imsi")),
        CardEvent.objects.count(), AuditRecord.objects.count(),
        CredentialChange.objects.count(), Notification.objects.count(),
    )


def test_issue_binds_the_sim_opens_applications_and_publishes_once(world, cards):
    card = Card.objects.get(pk=cards.a0.pk)
    member = world.members_a[0]
    assert (card.status, card.member_id, card.group_customer_id, card.msisdn) == (
        "active", member.pk, world.customer_a.pk, member.phone)
    assert sorted(card.applications.values_list("kind", "status", "channel")) == [
        ("access", "active", "local"), ("attendance", "active", "local"),
        ("identity", "active", "local"), ("purse", "active", "local")]
    assert list(card.bindings.values_list("msisdn", "imsi", "status")) == [
        (member.phone, card.imsi, "bound")]
    assert LocalCarrierRegister.objects.get(msisdn=member.phone).imsi == card.imsi
    changes = CredentialChange.objects.filter(card=card)
    assert list(changes.values_list("state", "card_status", "applications")) == [
        ("allow", "active", ["access", "attendance", "identity", "purse"])]
    assert list(CardEvent.objects.filter(card=card).values_list("kind", flat=True)) == [
        "received", "issued", "application_opened", "application_opened",
        "application_opened", "application_opened", "bound"]
    assert AuditRecord.objects.filter(action="card.issued", object_id=str(card.pk)).count() == 1


def test_issue_by_phone_number_finds_the_member_in_the_roster(world, cards):
    from onecard.cards.actions import stock

    card = cards.stock_a[0]
    stock.assign_cards(actor=world.manager, cards=[card], group_customer=world.customer_a)
    issued = lifecycle.issue_card(actor=world.ent_admin_a, card=card,
                                  msisdn=world.members_a[2].phone)
    assert issued.member_id == world.members_a[2].pk


@pytest.mark.parametrize("case", [
    "member_has_card", "not_in_roster", "card_of_other_branch", "member_departed",
    "unknown_application", "m1_purse", "member_role", "already_issued", "number_bound",
])
def test_issue_refusals_change_nothing(world, cards, case):
    from onecard.people.actions import mark_member_departed

    actor, card, member, kwargs = world.manager, cards.stock_a[0], world.members_a[2], {}
    if case == "member_has_card":
        member = world.members_a[0]
    elif case == "not_in_roster":
        kwargs = {"msisdn": "13999999999"}
    elif case == "card_of_other_branch":
        card = cards.stock_b[0]
        actor = world.admin
    elif case == "member_departed":
        mark_member_departed(actor=world.manager, member=member)
    elif case == "unknown_application":
        kwargs = {"applications": ["teleport"]}
    elif case == "m1_purse":
        card, kwargs = cards.ic_a[1], {"applications": ["purse"]}
    elif case == "member_role":
        actor = world.member_user_a
    elif case == "already_issued":
        card = cards.a1
    elif case == "number_bound":
        # Another customer's member with the same phone number holds a bound card.
        from onecard.people.actions import create_member

        twin = create_member(actor=world.manager_b, group_customer=world.customer_b,
                             name="Twin", phone=member.phone)
        lifecycle.issue_card(actor=world.manager_b, card=cards.stock_b[0], member=twin)
    before = state()
    expected = {"member_has_card": "member_has_card", "not_in_roster": "number_not_in_roster",
                "card_of_other_branch": "card_elsewhere", "member_departed": "member_not_active",
                "unknown_application": "invalid", "m1_purse": "invalid",
                "member_role": "not_allowed", "already_issued": "transition_refused",
                "number_bound": "number_bound_elsewhere"}[case]
    with pytest.raises(Exception) as refused:
        lifecycle.issue_card(actor=actor, card=card, member=member if case != "not_in_roster"
                             else None, **kwargs)
    if case == "not_in_roster":
        # the card is in stock, not assigned: the member must be named
        assert refused.value.code == "invalid"
    else:
        assert refused.value.code == expected, refused.value
    assert state() == before


def test_issue_refuses_a_number_not_in_the_roster_for_an_assigned_card(world, cards):
    from onecard.cards.actions import stock

    card = cards.stock_a[0]
    stock.assign_cards(actor=world.manager, cards=[card], group_customer=world.customer_a)
    before = state()
    with pytest.raises(InvalidInput) as refused:
        lifecycle.issue_card(actor=world.manager, card=card, msisdn="13999999999")
    assert refused.value.code == "number_not_in_roster"
    assert refused.value.errors == {"msisdn": ["This number is not in the group customer's "
                                               "roster."]}
    assert state() == before


def test_a_card_of_another_tenant_is_not_found(world, cards):
    before = state()
    with pytest.raises(NotFound):
        lifecycle.suspend_card(actor=world.ent_admin_a, card=cards.b0)
    with pytest.raises(NotFound):
        lifecycle.report_card_lost(actor=world.member_user_a, card=cards.a1)
    assert state() == before


def test_loss_report_by_the_member_denies_the_card_and_tells_their_phone(world, cards):
    card = lifecycle.report_card_lost(actor=world.member_user_a, card=cards.a0,
                                      reason="left it on the bus")
    assert card.status == "lost"
    last = CredentialChange.objects.filter(card=card).last()
    assert (last.state, last.card_status) == ("deny", "lost")
    event = CardEvent.objects.filter(card=card).last()
    assert (event.kind, event.from_status, event.to_status, event.actor_id, event.reason,
            event.detail) == ("reported_lost", "active", "lost", world.member_user_a.pk,
                              "left it on the bus", {"self_service": True})
    note = Notification.objects.get(topic="card.reported_lost")
    assert (note.phone, note.member_id, note.status) == (world.members_a[0].phone,
                                                         world.members_a[0].pk, "queued")
    assert card.number[-4:] in note.body and "挂失" in note.body


def test_unreport_needs_the_identity_check(world, cards):
    lifecycle.report_card_lost(actor=world.ent_admin_a, card=cards.a0)
    before = state()
    with pytest.raises(Exception) as refused:
        lifecycle.unreport_card(actor=world.ent_admin_a, card=cards.a0, identity_checked=False)
    assert refused.value.code == "identity_not_checked"
    with pytest.raises(NotAllowed):
        lifecycle.unreport_card(actor=world.member_user_a, card=cards.a0, identity_checked=True)
    assert state() == before
    card = lifecycle.unreport_card(actor=world.ent_admin_a, card=cards.a0, identity_checked=True)
    assert card.status == "active"
    assert Notification.objects.filter(topic="card.unreported").count() == 1
    assert CredentialChange.objects.filter(card=card).last().state == "allow"


@pytest.mark.parametrize("action, status", [
    ("unreport", "active"), ("resume", "active"), ("suspend", "lost"), ("report", "replaced"),
])
def test_transitions_from_the_wrong_state_are_refused_naming_it(world, cards, action, status):
    card = cards.a0
    if status == "lost":
        lifecycle.report_card_lost(actor=world.manager, card=card)
    elif status == "replaced":
        lifecycle.replace_card(actor=world.manager, old_card=card, new_card=cards.stock_a[0])
    before = state()
    call = {
        "unreport": lambda: lifecycle.unreport_card(actor=world.manager, card=card,
                                                    identity_checked=True),
        "resume": lambda: lifecycle.resume_card(actor=world.manager, card=card),
        "suspend": lambda: lifecycle.suspend_card(actor=world.manager, card=card),
        "report": lambda: lifecycle.report_card_lost(actor=world.manager, card=card),
    }[action]
    with pytest.raises(TransitionRefused) as refused:
        call()
    label = {"active": "Active", "lost": "Reported lost", "replaced": "Replaced"}[status]
    assert f"“{label}”" in refused.value.message
    assert state() == before


def test_suspend_and_resume_one_card(world, cards):
    card = lifecycle.suspend_card(actor=world.ent_admin_a, card=cards.a0, reason="leave")
    assert (card.status, card.suspension_scope) == ("suspended", "member")
    card = lifecycle.resume_card(actor=world.ent_admin_a, card=card)
    assert (card.status, card.suspension_scope) == ("active", "")
    assert list(CredentialChange.objects.filter(card=card).values_list("state", flat=True)) == [
        "allow", "deny", "allow"]


def test_customer_suspension_resumes_only_what_it_suspended(world, cards):
    lifecycle.suspend_card(actor=world.manager, card=cards.a1, reason="leave")
    versions_before = CredentialChange.objects.filter(group_customer=world.customer_a).count()
    suspended = lifecycle.suspend_group_customer_cards(
        actor=world.manager, group_customer=world.customer_a, reason="arrears")
    assert [c.pk for c in suspended] == [cards.a0.pk]
    assert CredentialChange.objects.filter(
        group_customer=world.customer_a).count() == versions_before + 1
    before = state()
    with pytest.raises(Exception) as refused:
        lifecycle.resume_card(actor=world.manager, card=cards.a0)
    assert refused.value.code == "suspended_with_customer"
    assert state() == before
    resumed = lifecycle.resume_group_customer_cards(actor=world.manager,
                                                    group_customer=world.customer_a)
    assert [c.pk for c in resumed] == [cards.a0.pk]
    assert Card.objects.get(pk=cards.a1.pk).status == "suspended"
    assert Card.objects.get(pk=cards.b0.pk).status == "active"


def test_customer_suspension_refusals(world, cards):
    before = state()
    with pytest.raises(InvalidInput):
        lifecycle.suspend_group_customer_cards(actor=world.manager,
                                               group_customer=world.customer_a, reason=" ")
    with pytest.raises(NotFound):
        lifecycle.suspend_group_customer_cards(actor=world.ent_admin_a,
                                               group_customer=world.customer_b, reason="x")
    with pytest.raises(NotAllowed):
        lifecycle.suspend_group_customer_cards(actor=world.integrator_engineer,
                                               group_customer=world.customer_a, reason="x")
    assert state() == before


def test_replace_moves_member_applications_and_binding_but_no_money(world, cards, books):
    member = world.members_a[0]
    books.top_up(member, 2500)
    from onecard.wallet.models import Transfer

    transfers = Transfer.objects.count()
    old, new = cards.a0, cards.stock_a[0]
    result = lifecycle.replace_card(actor=world.manager, old_card=old, new_card=new,
                                    reason="broken")
    old = Card.objects.get(pk=old.pk)
    assert (old.status, old.replaced_by_id) == ("replaced", new.pk)
    assert (result.status, result.member_id, result.msisdn) == ("active", member.pk,
                                                                member.phone)
    assert sorted(result.applications.filter(status="active").values_list("kind", flat=True)) \
        == ["access", "attendance", "identity", "purse"]
    assert old.applications.exclude(status="deleted").count() == 0
    assert Transfer.objects.count() == transfers  # the purse belongs to the member
    assert LocalCarrierRegister.objects.get(msisdn=member.phone).imsi == new.imsi
    assert list(old.bindings.values_list("status", flat=True)) == ["unbound"]
    binding = new.bindings.get()
    assert (binding.status, binding.old_imsi) == ("bound", old.imsi)
    assert [c.state for c in CredentialChange.objects.filter(card__in=[old, new])
            .order_by("version")][-2:] == ["deny", "allow"]
    assert Notification.objects.filter(topic="card.replaced", member=member).count() == 1


def test_replace_refusals_change_nothing(world, cards):
    before = state()
    with pytest.raises(Exception) as refused:
        lifecycle.replace_card(actor=world.manager, old_card=cards.a0, new_card=cards.a1)
    assert refused.value.code == "transition_refused"
    with pytest.raises(Exception) as refused:
        lifecycle.replace_card(actor=world.manager, old_card=cards.a0, new_card=cards.stock_a[0],
                               identity_checked=False)
    assert refused.value.code == "identity_not_checked"
    with pytest.raises(InvalidInput) as refused:
        lifecycle.replace_card(actor=world.manager, old_card=cards.a0, new_card=cards.ic_a[1])
    assert "M1" in refused.value.message
    with pytest.raises(TransitionRefused):
        lifecycle.replace_card(actor=world.manager, old_card=cards.stock_a[1],
                               new_card=cards.stock_a[0])
    assert state() == before


def test_delete_purse_application_refused_while_the_purse_holds_money(world, cards, books):
    member = world.members_a[0]
    books.top_up(member, 1234)
    purse = cards.a0.applications.get(kind="purse")
    before = state()
    with pytest.raises(Exception) as refused:
        lifecycle.delete_application(actor=world.ent_admin_a, application=purse)
    assert refused.value.code == "purse_not_empty"
    assert "12.34" in refused.value.message
    assert state() == before
    access = cards.a0.applications.get(kind="access")
    lifecycle.delete_application(actor=world.ent_admin_a, application=access, reason="moved")
    assert CredentialChange.objects.filter(card=cards.a0).last().applications == [
        "attendance", "identity", "purse"]
    with pytest.raises(TransitionRefused):
        lifecycle.delete_application(actor=world.ent_admin_a, application=access)


def test_delete_an_empty_purse_application(world, cards, books):
    purse = cards.a1.applications.get(kind="purse")
    deleted = lifecycle.delete_application(actor=world.ent_admin_a, application=purse)
    assert deleted.status == "deleted" and deleted.deleted_at is not None


def test_deregister_refunds_through_one_linked_request_and_the_ledger_verifies(
        world, cards, books):
    from onecard.wallet.choices import AccountKind
    from onecard.wallet.models import Account, Transfer
    from onecard.wallet.verify import verify_ledger

    member = world.members_a[0]
    books.top_up(member, 5000)
    card = lifecycle.deregister_card(actor=world.ent_admin_a, card=cards.a0, client_id="dereg-1",
                                     reason="left the company", recovered=True)
    assert card.status == "deregistered" and card.recovered_at is not None
    assert card.applications.exclude(status="deleted").count() == 0
    legs = Transfer.objects.filter(client_id="dereg-1")
    refunds = Account.objects.get(group_customer=world.customer_a,
                                  kind=AccountKind.REFUNDS_PAYABLE)
    assert [(t.kind, t.credit_account_id, t.amount) for t in legs.order_by("leg")][0] == (
        "deregistration", refunds.pk, 5000)
    assert Account.objects.get(member=member, kind=AccountKind.MEMBER_PURSE).balance == 0
    assert verify_ledger().ok
    assert not LocalCarrierRegister.objects.filter(msisdn=member.phone).exists()
    assert list(card.bindings.values_list("status", flat=True)) == ["unbound"]
    assert CredentialChange.objects.filter(card=card).last().state == "deny"
    assert Notification.objects.filter(topic="card.deregistered").count() == 1
    event = CardEvent.objects.get(card=card, kind="deregistered")
    assert event.detail == {"client_id": "dereg-1", "refunded": 5000}


def test_deregister_refusals_change_nothing(world, cards, books):
    books.top_up(world.members_a[0], 100)
    before = state()
    with pytest.raises(InvalidInput):
        lifecycle.deregister_card(actor=world.ent_admin_a, card=cards.a0, client_id="")
    with pytest.raises(NotAllowed):  # engineers move no money
        lifecycle.deregister_card(actor=world.integrator_engineer, card=cards.a0,
                                  client_id="x")
    with pytest.raises(TransitionRefused):
        lifecycle.deregister_card(actor=world.manager, card=cards.stock_a[0], client_id="x")
    assert state() == before


def test_recover_a_replaced_card_and_the_old_sim(world, cards):
    old = cards.a0
    new = lifecycle.replace_card(actor=world.manager, old_card=old, new_card=cards.stock_a[0])
    card = lifecycle.recover_card(actor=world.manager, card=old)
    assert card.recovered_at is not None
    before = state()
    with pytest.raises(Exception) as refused:
        lifecycle.recover_card(actor=world.manager, card=old)
    assert refused.value.code == "already_recovered"
    with pytest.raises(Exception) as refused:
        lifecycle.recover_card(actor=world.manager, card=new)
    assert refused.value.code == "transition_refused" and "“Active”" in refused.value.message
    assert state() == before
    binding = lifecycle.record_old_sim_recovered(actor=world.manager,
                                                 binding=new.bindings.get())
    assert binding.old_sim_recovered_at is not None
    assert binding.old_imsi == imsi(1)
