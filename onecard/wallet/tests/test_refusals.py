"""Every refusal of every money action leaves no trace.

Each test snapshots the whole ledger (every account's totals and state, the transfers, the audit
record count), makes a request the rules refuse, checks the refusal names the rule, and checks
the snapshot is unchanged. Where a refusal needs a positive control (the same request but
allowed), the test makes it too, so a rule that refused everything would be caught.
"""

import datetime as dt
from types import SimpleNamespace

import pytest
from django.utils import timezone

from onecard.core.errors import DomainError, InvalidInput, NotFound
from onecard.core.money import MAX_TRANSFER_FEN
from onecard.wallet import actions
from onecard.wallet.choices import Refusal
from onecard.wallet.errors import IdempotencyConflict, LedgerRefused
from onecard.wallet.models import Transfer
from onecard.wallet.verify import verify_ledger

from .ledger_snapshot import assert_unchanged, snapshot

pytestmark = pytest.mark.django_db

BAD_AMOUNTS = [
    pytest.param(0, id="zero"),
    pytest.param(-1, id="negative"),
    pytest.param(12.5, id="float"),
    pytest.param(1.0, id="whole-float"),
    pytest.param(True, id="bool"),
    pytest.param("100", id="str"),
    pytest.param(None, id="none"),
    pytest.param(MAX_TRANSFER_FEN + 1, id="over-max"),
]
BAD_CLIENT_IDS = [
    pytest.param("", id="empty"),
    pytest.param("x" * 65, id="too-long"),
    pytest.param(None, id="none"),
    pytest.param(7, id="int"),
    pytest.param("line\nbreak", id="unprintable"),
    pytest.param(b"bytes", id="bytes"),
]


def refused(call, error=LedgerRefused, *, code=None, field=None):
    """Call, expect ``error`` (with ``code``/``field`` if given) and no change at all."""
    before = snapshot()
    with pytest.raises(error) as info:
        call()
    if code is not None:
        assert info.value.code == code, info.value
    if field is not None:
        assert info.value.field == field, info.value
    assert_unchanged(before)
    assert verify_ledger().ok
    return info.value


@pytest.fixture
def led(books):
    """Alice has ¥100 topped up, a ¥30 purchase at POS-1 and a ¥10 hold at POS-2."""
    admin = books.admin
    actions.top_up(actor=admin, member=books.alice, amount=10000, client_id="t-1",
                   source=books.drawer)
    books.p1 = actions.purchase(member=books.alice, merchant_account=books.pos1, amount=3000,
                                client_id="p-1").transfers[0]
    books.h1 = actions.hold(member=books.alice, merchant_account=books.pos2, amount=1000,
                            client_id="h-1").transfers[0]
    return books


def _offline(b, record, **kwargs):
    return actions.ingest_offline_purchases(group_customer_id=b.customer.pk,
                                            merchant_account=b.pos1, records=[record], **kwargs)


# Every action that takes an amount, called with ``amount`` and ``client_id``.
AMOUNT_CALLS = {
    "top_up": lambda b, v, c="new": actions.top_up(actor=b.admin, member=b.alice, amount=v,
                                                   client_id=c, source=b.drawer),
    "purchase": lambda b, v, c="new": actions.purchase(member=b.alice, merchant_account=b.pos1,
                                                       amount=v, client_id=c),
    "grant_subsidy": lambda b, v, c="new": actions.grant_subsidy(actor=b.admin, member=b.alice,
                                                                 amount=v, client_id=c),
    "charge_fee": lambda b, v, c="new": actions.charge_fee(actor=b.admin,
                                                           merchant_account=b.pos1, amount=v,
                                                           client_id=c),
    "hold": lambda b, v, c="new": actions.hold(member=b.alice, merchant_account=b.pos1,
                                               amount=v, client_id=c),
    "reverse_transfer": lambda b, v, c="new": actions.reverse_transfer(
        actor=b.admin, transfer=b.p1, amount=v, client_id=c),
    "refund_purchase": lambda b, v, c="new": actions.refund_purchase(
        actor=b.admin, purchase_client_id="p-1", group_customer=b.customer, amount=v,
        client_id=c),
    "settle_hold": lambda b, v, c="new": actions.settle_hold(pending=b.h1, amount=v,
                                                             client_id=c),
}


@pytest.mark.parametrize("amount", BAD_AMOUNTS)
@pytest.mark.parametrize("action", sorted(AMOUNT_CALLS))
def test_bad_amounts_are_refused_by_every_action(led, action, amount):
    if amount is None and action in ("reverse_transfer", "settle_hold"):
        pytest.skip("amount=None means all of it here")
    if action == "settle_hold" and amount == 0 and not isinstance(amount, bool):
        pytest.skip("posting 0 of a hold is allowed: it releases the hold")
    refused(lambda: AMOUNT_CALLS[action](led, amount), InvalidInput, field="amount")


@pytest.mark.parametrize("action", sorted(AMOUNT_CALLS))
def test_the_amount_calls_above_do_post_with_a_good_amount(led, action):
    # Positive control for the table above: 100 fen goes through each of them.
    result = AMOUNT_CALLS[action](led, 100)
    assert result.status == "ok"
    assert Transfer.objects.filter(client_id="new").exists()
    assert verify_ledger().ok


@pytest.mark.parametrize("amount", BAD_AMOUNTS)
def test_bad_amounts_in_an_offline_batch_post_nothing(led, amount):
    """A bad record of a terminal's batch is refused (the batch raises InvalidInput, or the
    record answers ``rejected:...``) and nothing at all is written."""
    before = snapshot()
    try:
        [result] = _offline(led, {"client_id": "off-1", "member": led.alice, "amount": amount})
    except InvalidInput:
        pass
    else:
        assert result.status.startswith("rejected:"), result
    assert_unchanged(before)
    assert verify_ledger().ok


# Every action that takes a client id, called with ``client_id``.
def _with_good_amount(call):
    return lambda b, c: call(b, 100, c)


CLIENT_ID_CALLS = {
    **{name: _with_good_amount(call) for name, call in AMOUNT_CALLS.items()},
    "move_balance": lambda b, c: actions.move_balance(actor=b.admin, source_member=b.alice,
                                                      target_member=b.bob, client_id=c),
    "deregister_purses": lambda b, c: actions.deregister_purses(actor=b.admin, member=b.bob,
                                                                client_id=c),
    "pay_out_merchant": lambda b, c: actions.pay_out_merchant(actor=b.admin, merchant=b.canteen,
                                                              client_id=c),
}


@pytest.mark.parametrize("client_id", BAD_CLIENT_IDS)
@pytest.mark.parametrize("action", sorted(CLIENT_ID_CALLS))
def test_bad_client_ids_are_refused_by_every_action(led, action, client_id):
    refused(lambda: CLIENT_ID_CALLS[action](led, client_id), InvalidInput, field="client_id")


@pytest.mark.parametrize("client_id", BAD_CLIENT_IDS)
def test_bad_client_ids_in_an_offline_batch_post_nothing(led, client_id):
    before = snapshot()
    try:
        [result] = _offline(led, {"client_id": client_id, "member": led.alice, "amount": 100})
    except InvalidInput:
        pass
    else:
        assert result.status.startswith("rejected:"), result
    assert_unchanged(before)


# --- Funds and limits -------------------------------------------------------------------------


def test_insufficient_funds_online(led):
    # Alice has 10000 - 3000 - 1000 (held) = 6000 available.
    refused(lambda: actions.purchase(member=led.alice, merchant_account=led.pos1, amount=6001,
                                     client_id="p-2"), code=Refusal.INSUFFICIENT_FUNDS)
    refused(lambda: actions.hold(member=led.alice, merchant_account=led.pos1, amount=6001,
                                 client_id="h-2"), code=Refusal.INSUFFICIENT_FUNDS)
    # Reversing the top-up would take the purse below zero.
    top_up = Transfer.objects.get(client_id="t-1")
    refused(lambda: actions.reverse_transfer(actor=led.admin, transfer=top_up, client_id="r-1"),
            code=Refusal.INSUFFICIENT_FUNDS)
    # Subsidy first, then purse: 500 subsidy + 6000 purse is all there is.
    actions.grant_subsidy(actor=led.admin, member=led.alice, amount=500, client_id="s-1")
    refused(lambda: actions.purchase(member=led.alice, merchant_account=led.pos1, amount=6501,
                                     client_id="p-2"), code=Refusal.INSUFFICIENT_FUNDS)
    # Control: exactly what is available goes through and leaves the purse at zero.
    actions.purchase(member=led.alice, merchant_account=led.pos1, amount=6500, client_id="p-2")
    led.purse.refresh_from_db()
    assert led.purse.available == 0
    refused(lambda: actions.purchase(member=led.alice, merchant_account=led.pos1, amount=1,
                                     client_id="p-3"), code=Refusal.INSUFFICIENT_FUNDS)


def test_insufficient_funds_offline_beyond_the_overdraft(led):
    actions.set_overdraft_limit(actor=led.admin, account=led.purse, limit=500)
    before = snapshot()
    [result] = _offline(led, {"client_id": "off-1", "member": led.alice, "amount": 6501})
    assert result.status == f"rejected:{Refusal.INSUFFICIENT_FUNDS}"
    assert_unchanged(before)
    [result] = _offline(led, {"client_id": "off-1", "member": led.alice, "amount": 6500})
    assert result.status == "ok"
    led.purse.refresh_from_db()
    assert led.purse.available == -500


def test_paying_out_an_empty_merchant_is_refused(led):
    # The canteen holds POS-1's 3000 (POS-2's hold is not posted): the first payout takes it.
    result = actions.pay_out_merchant(actor=led.admin, merchant=led.canteen, client_id="po-1")
    assert sum(t.amount for t in result.transfers) == 3000
    refused(lambda: actions.pay_out_merchant(actor=led.admin, merchant=led.canteen,
                                             client_id="po-2"), code=Refusal.INSUFFICIENT_FUNDS)


def test_per_transaction_limit(led):
    actions.set_spending_policy(actor=led.admin, group_customer=led.customer, category="staff",
                                per_transaction_limit=1000, offline_per_transaction_limit=800)
    refused(lambda: actions.purchase(member=led.alice, merchant_account=led.pos1, amount=1001,
                                     client_id="p-2"),
            code=Refusal.LIMIT_PER_TRANSACTION, field="amount")
    before = snapshot()
    [result] = _offline(led, {"client_id": "off-1", "member": led.alice, "amount": 801})
    assert result.status == f"rejected:{Refusal.OFFLINE_LIMIT}"
    assert_unchanged(before)
    # Controls: at the limit both go through.
    assert actions.purchase(member=led.alice, merchant_account=led.pos1, amount=1000,
                            client_id="p-2").status == "ok"
    assert _offline(led, {"client_id": "off-1", "member": led.alice,
                          "amount": 800})[0].status == "ok"


def test_pin_required(led):
    actions.set_spending_policy(actor=led.admin, group_customer=led.customer, category="staff",
                                pin_threshold=500)
    refused(lambda: actions.purchase(member=led.alice, merchant_account=led.pos1, amount=500,
                                     client_id="p-2"), code=Refusal.PIN_REQUIRED, field="pin")
    assert actions.purchase(member=led.alice, merchant_account=led.pos1, amount=499,
                            client_id="p-3").status == "ok"
    assert actions.purchase(member=led.alice, merchant_account=led.pos1, amount=500,
                            client_id="p-2", pin_verified=True).status == "ok"


def test_daily_limit(led):
    # What the fixture's purchase (and hold) already counted today, then room for 1000 more.
    led.purse.refresh_from_db()
    spent = led.purse.spent_that_day
    assert spent >= 3000
    actions.set_spending_policy(actor=led.admin, group_customer=led.customer, category="staff",
                                daily_limit=spent + 1000, offline_daily_limit=700)
    assert actions.purchase(member=led.alice, merchant_account=led.pos1, amount=600,
                            client_id="p-2").status == "ok"
    refused(lambda: actions.purchase(member=led.alice, merchant_account=led.pos1, amount=401,
                                     client_id="p-3"), code=Refusal.LIMIT_DAILY)
    assert actions.purchase(member=led.alice, merchant_account=led.pos1, amount=400,
                            client_id="p-3").status == "ok"
    # Tomorrow the counter starts again.
    tomorrow = timezone.now() + dt.timedelta(days=1)
    assert actions.purchase(member=led.alice, merchant_account=led.pos1, amount=spent + 1000,
                            client_id="p-4", created_at=tomorrow).status == "ok"
    # Offline: its own daily limit, counted on the same purse and day.
    actions.top_up(actor=led.admin, member=led.alice, amount=5000, client_id="t-2",
                   source=led.drawer)
    day_after = timezone.now() + dt.timedelta(days=2)
    assert _offline(led, {"client_id": "off-1", "member": led.alice, "amount": 700,
                          "created_at": day_after})[0].status == "ok"
    before = snapshot()
    [result] = _offline(led, {"client_id": "off-2", "member": led.alice, "amount": 1,
                              "created_at": day_after})
    assert result.status == f"rejected:{Refusal.LIMIT_DAILY}"
    assert_unchanged(before)


# --- Closed accounts --------------------------------------------------------------------------


def test_every_action_on_a_deregistered_member_is_refused_account_closed(led):
    admin = led.admin
    actions.settle_hold(pending=led.h1, client_id="h-1-void", void=True)
    actions.deregister_purses(actor=admin, member=led.alice, client_id="d-1")
    closed = Refusal.ACCOUNT_CLOSED
    refused(lambda: actions.top_up(actor=admin, member=led.alice, amount=100, client_id="x1",
                                   source=led.drawer), code=closed)
    refused(lambda: actions.purchase(member=led.alice, merchant_account=led.pos1, amount=100,
                                     client_id="x2"), code=closed)
    refused(lambda: actions.grant_subsidy(actor=admin, member=led.alice, amount=100,
                                          client_id="x3"), code=closed)
    refused(lambda: actions.hold(member=led.alice, merchant_account=led.pos1, amount=100,
                                 client_id="x4"), code=closed)
    refused(lambda: actions.move_balance(actor=admin, source_member=led.alice,
                                         target_member=led.bob, client_id="x5"), code=closed)
    refused(lambda: actions.move_balance(actor=admin, source_member=led.bob,
                                         target_member=led.alice, client_id="x6"), code=closed)
    refused(lambda: actions.deregister_purses(actor=admin, member=led.alice, client_id="x7"),
            code=closed)
    # Giving back the earlier purchase would credit the closed purse.
    refused(lambda: actions.refund_purchase(actor=admin, purchase_client_id="p-1",
                                            group_customer=led.customer, amount=100,
                                            client_id="x8"), code=closed)
    refused(lambda: actions.reverse_transfer(actor=admin, transfer=led.p1, client_id="x9"),
            code=closed)
    before = snapshot()
    [result] = _offline(led, {"client_id": "x10", "member": led.alice, "amount": 100})
    assert result.status == f"rejected:{closed}"
    assert_unchanged(before)
    # The deregistration itself answers its first result on a retry.
    assert actions.deregister_purses(actor=admin, member=led.alice,
                                     client_id="d-1").status == "exists"


def test_a_purse_with_an_open_hold_cannot_be_closed(led):
    refused(lambda: actions.deregister_purses(actor=led.admin, member=led.alice,
                                              client_id="d-1"),
            code=Refusal.PENDING_ALREADY_RESOLVED)


# --- Reversals and refunds --------------------------------------------------------------------


def test_a_transfer_is_reversed_at_most_once(led):
    assert actions.reverse_transfer(actor=led.admin, transfer=led.p1, amount=1000,
                                    client_id="r-1").status == "ok"
    for amount in (None, 1, 2000):
        refused(lambda amount=amount: actions.reverse_transfer(
            actor=led.admin, transfer=led.p1, amount=amount, client_id=f"r-2-{amount}"),
            code=Refusal.ALREADY_REVERSED)
    refused(lambda: actions.refund_purchase(actor=led.admin, purchase_client_id="p-1",
                                            group_customer=led.customer, amount=100,
                                            client_id="rf-1"), code=Refusal.ALREADY_REVERSED)


def test_a_hold_cannot_be_reversed_only_voided(led):
    error = refused(lambda: actions.reverse_transfer(actor=led.admin, transfer=led.h1,
                                                     client_id="r-1"))
    assert error.code == Refusal.NOT_POSTED


def test_a_reversal_never_moves_more_than_the_transfer(led):
    refused(lambda: actions.reverse_transfer(actor=led.admin, transfer=led.p1, amount=3001,
                                             client_id="r-1"),
            code=Refusal.REVERSAL_EXCEEDS_TRANSFER, field="amount")
    assert actions.reverse_transfer(actor=led.admin, transfer=led.p1, amount=3000,
                                    client_id="r-1").status == "ok"


def test_a_refund_never_exceeds_the_purchase(led):
    # A purchase of two legs: 500 subsidy + 1500 purse.
    actions.grant_subsidy(actor=led.admin, member=led.alice, amount=500, client_id="s-1")
    actions.purchase(member=led.alice, merchant_account=led.pos1, amount=2000, client_id="p-2")
    refused(lambda: actions.refund_purchase(actor=led.admin, purchase_client_id="p-2",
                                            group_customer=led.customer, amount=2001,
                                            client_id="rf-1"),
            code=Refusal.REVERSAL_EXCEEDS_TRANSFER, field="amount")
    result = actions.refund_purchase(actor=led.admin, purchase_client_id="p-2",
                                     group_customer=led.customer, amount=1800, client_id="rf-1")
    assert sorted(t.amount for t in result.transfers) == [300, 1500]
    # Both legs are now reversed (partly): nothing more can be refunded.
    refused(lambda: actions.refund_purchase(actor=led.admin, purchase_client_id="p-2",
                                            group_customer=led.customer, amount=200,
                                            client_id="rf-2"), code=Refusal.ALREADY_REVERSED)
    refused(lambda: actions.refund_purchase(actor=led.admin, purchase_client_id="nope",
                                            group_customer=led.customer, amount=200,
                                            client_id="rf-3"), InvalidInput)


# --- Holds ------------------------------------------------------------------------------------


def test_posting_more_than_the_hold_is_refused(led):
    refused(lambda: actions.settle_hold(pending=led.h1, amount=1001, client_id="s-1"),
            code=Refusal.POST_EXCEEDS_PENDING, field="amount")
    assert actions.settle_hold(pending=led.h1, amount=1000, client_id="s-1").status == "ok"


def test_posting_a_timed_out_hold_is_refused_but_voiding_it_is_not(led):
    later = led.h1.timeout_at + dt.timedelta(seconds=1)
    refused(lambda: actions.settle_hold(pending=led.h1, amount=500, client_id="s-1", now=later),
            code=Refusal.PENDING_EXPIRED)
    refused(lambda: actions.settle_hold(pending=led.h1, client_id="s-1", now=led.h1.timeout_at),
            code=Refusal.PENDING_EXPIRED)
    assert actions.settle_hold(pending=led.h1, client_id="s-1", void=True,
                               now=later).status == "ok"


@pytest.mark.parametrize("first_void", [False, True])
@pytest.mark.parametrize("second_void", [False, True])
def test_a_hold_is_settled_at_most_once(led, first_void, second_void):
    actions.settle_hold(pending=led.h1, amount=None, void=first_void, client_id="s-1")
    refused(lambda: actions.settle_hold(pending=led.h1, void=second_void, client_id="s-2"),
            code=Refusal.PENDING_ALREADY_RESOLVED)
    # Expiring holds later does not touch it either.
    before = snapshot()
    assert actions.expire_holds(now=led.h1.timeout_at + dt.timedelta(days=1)) == []
    assert_unchanged(before)


def test_a_settlement_cannot_be_passed_off_as_a_hold(led):
    posted = actions.settle_hold(pending=led.h1, amount=400, client_id="s-1").transfers[0]
    refused(lambda: actions.settle_hold(pending=posted, client_id="s-2"), InvalidInput)
    refused(lambda: actions.settle_hold(pending=led.p1, client_id="s-3"), InvalidInput)


# --- Idempotency conflicts --------------------------------------------------------------------


def test_idempotency_conflicts_name_the_differing_field(led):
    b = led
    conflicts = [
        # Same id as the top-up t-1 (10000 from the drawer onto Alice's purse).
        (lambda: actions.top_up(actor=b.admin, member=b.alice, amount=9999, client_id="t-1",
                                source=b.drawer), "amount"),
        (lambda: actions.top_up(actor=b.admin, member=b.bob, amount=10000, client_id="t-1",
                                source=b.drawer), "credit_account"),
        (lambda: actions.top_up(actor=b.admin, member=b.alice, amount=10000, client_id="t-1",
                                source=b.bank), "debit_account"),
        (lambda: actions.purchase(member=b.alice, merchant_account=b.pos1, amount=10000,
                                  client_id="t-1"), "kind"),
        # Same id as the purchase p-1 (3000 from Alice to POS-1).
        (lambda: actions.purchase(member=b.alice, merchant_account=b.pos1, amount=3001,
                                  client_id="p-1"), "amount"),
        (lambda: actions.purchase(member=b.bob, merchant_account=b.pos1, amount=3000,
                                  client_id="p-1"), "payer"),
        (lambda: actions.purchase(member=b.alice, merchant_account=b.pos2, amount=3000,
                                  client_id="p-1"), "credit_account"),
        (lambda: actions.grant_subsidy(actor=b.admin, member=b.alice, amount=3000,
                                       client_id="p-1"), "kind"),
        # Same id as the hold h-1 (1000 from Alice to POS-2).
        (lambda: actions.hold(member=b.alice, merchant_account=b.pos2, amount=999,
                              client_id="h-1"), "amount"),
        (lambda: actions.hold(member=b.alice, merchant_account=b.pos1, amount=1000,
                              client_id="h-1"), "credit_account"),
    ]
    for call, name in conflicts:
        error = refused(call, IdempotencyConflict, code=f"exists_with_different_{name}")
        assert error.field == name
    # And the same request again is answered with the first transfers, adding nothing.
    before = snapshot()
    again = actions.purchase(member=b.alice, merchant_account=b.pos1, amount=3000,
                             client_id="p-1")
    assert again.status == "exists"
    assert [t.pk for t in again.transfers] == [b.p1.pk]
    assert_unchanged(before)


def test_idempotency_conflicts_of_staff_actions(led):
    b = led
    actions.grant_subsidy(actor=b.admin, member=b.alice, amount=300, client_id="s-1")
    actions.charge_fee(actor=b.admin, merchant_account=b.pos1, amount=10, client_id="fee-1")
    actions.reverse_transfer(actor=b.admin, transfer=b.p1, amount=100, client_id="r-1")
    p2 = actions.purchase(member=b.alice, merchant_account=b.pos1, amount=700,
                          client_id="p-2").transfers[0]
    actions.refund_purchase(actor=b.admin, purchase_client_id="p-2", group_customer=b.customer,
                            amount=200, client_id="rf-1")
    conflicts = [
        (lambda: actions.grant_subsidy(actor=b.admin, member=b.alice, amount=301,
                                       client_id="s-1"), "amount"),
        (lambda: actions.grant_subsidy(actor=b.admin, member=b.bob, amount=300,
                                       client_id="s-1"), "credit_account"),
        (lambda: actions.charge_fee(actor=b.admin, merchant_account=b.pos1, amount=11,
                                    client_id="fee-1"), "amount"),
        (lambda: actions.reverse_transfer(actor=b.admin, transfer=b.p1, amount=101,
                                          client_id="r-1"), "amount"),
        (lambda: actions.reverse_transfer(actor=b.admin, transfer=b.p1, amount=100,
                                          client_id="r-1", kind="refund"), "kind"),
        (lambda: actions.reverse_transfer(actor=b.admin, transfer=p2, amount=100,
                                          client_id="r-1"), "reverses"),
        (lambda: actions.refund_purchase(actor=b.admin, purchase_client_id="p-2",
                                         group_customer=b.customer, amount=201,
                                         client_id="rf-1"), "amount"),
        (lambda: actions.top_up(actor=b.admin, member=b.alice, amount=200, client_id="rf-1",
                                source=b.drawer), "kind"),
    ]
    for call, name in conflicts:
        refused(call, IdempotencyConflict, code=f"exists_with_different_{name}")


@pytest.mark.parametrize("retry", [{"amount": 500}, {"void": True}])
def test_a_settlement_retried_with_different_content_is_a_conflict(led, retry):
    actions.settle_hold(pending=led.h1, amount=400, client_id="s-1")
    refused(lambda: actions.settle_hold(pending=led.h1, client_id="s-1", **retry),
            IdempotencyConflict)


def test_a_duplicate_inside_an_offline_batch_with_a_changed_amount_is_refused(led):
    before = snapshot()
    results = actions.ingest_offline_purchases(
        group_customer_id=led.customer.pk, merchant_account=led.pos1, records=[
            {"client_id": "off-1", "member": led.alice, "amount": 100},
            {"client_id": "off-1", "member": led.alice, "amount": 101},
            {"client_id": "off-1", "member": led.bob, "amount": 100},
            {"client_id": "off-1", "member": led.alice, "amount": 100},
        ])
    assert [r.status for r in results] == [
        "ok", "exists_with_different_amount", "exists_with_different_payer", "exists"]
    assert [t.pk for t in results[3].transfers] == [t.pk for t in results[0].transfers]
    assert Transfer.objects.filter(client_id="off-1").count() == 1
    after = snapshot()
    assert after.transfer_count == before.transfer_count + 1
    # Uploading the batch again posts nothing new.
    again = _offline(led, {"client_id": "off-1", "member": led.alice, "amount": 101})
    assert again[0].status == "exists_with_different_amount"
    assert_unchanged(after)


# --- Another customer's accounts --------------------------------------------------------------


@pytest.fixture
def other(led):
    """Customer B's merchant terminal, cash drawer and a member (with purses)."""
    w = led.world
    admin_b = w.ent_admin_b
    shop = actions.create_merchant(actor=admin_b, group_customer=w.customer_b, name="Shop",
                                   code="shop")
    return SimpleNamespace(
        member=w.members_b[0],
        pos=actions.open_merchant_terminal_account(actor=admin_b, merchant=shop, code="B-1"),
        drawer=actions.open_cash_drawer(actor=admin_b, group_customer=w.customer_b, code="B-D"),
    )


def test_another_customers_accounts_are_not_found(led, other):
    b = led
    refused(lambda: actions.purchase(member=b.alice, merchant_account=other.pos, amount=100,
                                     client_id="x1"), NotFound)
    refused(lambda: actions.purchase(member=other.member, merchant_account=b.pos1, amount=100,
                                     client_id="x2"), NotFound)
    refused(lambda: actions.top_up(actor=b.admin, member=b.alice, amount=100, client_id="x3",
                                   source=other.drawer), NotFound)
    refused(lambda: actions.hold(member=b.alice, merchant_account=other.pos, amount=100,
                                 client_id="x4"), NotFound)
    refused(lambda: actions.move_balance(actor=b.admin, source_member=b.alice,
                                         target_member=other.member, client_id="x5"),
            InvalidInput)
    refused(lambda: actions.refund_purchase(actor=b.admin, purchase_client_id="p-1",
                                            group_customer=b.world.customer_b, amount=100,
                                            client_id="x6"), InvalidInput)
    # An upload naming a member of another customer posts nothing.
    before = snapshot()
    try:
        results = _offline(led, {"client_id": "x7", "member": other.member, "amount": 100})
    except (NotFound, DomainError):
        pass
    else:
        assert not results[0].accepted, results
    assert_unchanged(before)
    refused(lambda: actions.ingest_offline_purchases(
        group_customer_id=b.customer.pk, merchant_account=other.pos,
        records=[{"client_id": "x8", "member": b.alice, "amount": 100}]), InvalidInput)


def test_top_ups_come_only_from_a_drawer_or_clearing(led):
    refused(lambda: actions.top_up(actor=led.admin, member=led.alice, amount=100, client_id="x",
                                   source=led.equity), InvalidInput)
    refused(lambda: actions.purchase(member=led.alice, merchant_account=led.drawer, amount=100,
                                     client_id="y"), InvalidInput)


def test_members_may_not_move_money_by_hand(led):
    member_user = led.world.member_user_a
    from onecard.core.errors import NotAllowed

    refused(lambda: actions.top_up(actor=member_user, member=led.alice, amount=100,
                                   client_id="x", source=led.drawer), NotAllowed)
    refused(lambda: actions.reverse_transfer(actor=member_user, transfer=led.p1,
                                             client_id="y"), NotAllowed)


def test_the_snapshot_sees_a_change(led):
    # Sanity for the snapshot itself: it sees a change when there is one.
    before = snapshot()
    actions.purchase(member=led.alice, merchant_account=led.pos1, amount=1, client_id="z")
    changes = before.differences(snapshot())
    assert any(f"account {led.purse.pk}" in c for c in changes)
    assert any("transfers" in c for c in changes)
