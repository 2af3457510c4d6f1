"""A month of one member's money, step by step, asserting every account after each step
(the way django-hordak's worked examples read)."""

import datetime as dt

import pytest
from django.utils import timezone

from onecard.wallet import actions
from onecard.wallet.models import Transfer
from onecard.wallet.verify import verify_ledger

pytestmark = pytest.mark.django_db


def balances(books, *names):
    return {name: books.balance(getattr(books, name)) for name in names}


ACCOUNTS = ("purse", "subsidy", "pos1", "drawer", "equity", "refunds", "bank", "fees")


def test_top_up_meal_refund_subsidy_expiry_month_end(books):
    admin = books.admin
    # 1. Alice pays ¥100 in cash at the counter.
    r = actions.top_up(actor=admin, member=books.alice, amount=10000, client_id="t-1",
                       source=books.drawer)
    assert r.status == "ok"
    assert balances(books, *ACCOUNTS) == {
        "purse": 10000, "subsidy": 0, "pos1": 0, "drawer": -10000, "equity": 0, "refunds": 0,
        "bank": 0, "fees": 0}

    # 2. Lunch, ¥12.50 at POS-1: no subsidy yet, all from the purse.
    r = actions.purchase(member=books.alice, merchant_account=books.pos1, amount=1250,
                         client_id="p-1", terminal_code="POS-1")
    assert [(t.debit_account_id, t.amount) for t in r.transfers] == [(books.purse.pk, 1250)]
    assert balances(books, "purse", "pos1", "drawer") == {
        "purse": 8750, "pos1": 1250, "drawer": -10000}

    # 3. The canteen refunds ¥2.50 of it (wrong dish).
    r = actions.refund_purchase(actor=admin, purchase_client_id="p-1",
                                group_customer=books.customer, amount=250, client_id="rf-1")
    assert r.transfers[0].reverses.client_id == "p-1"
    assert balances(books, "purse", "pos1") == {"purse": 9000, "pos1": 1000}

    # 4. The enterprise grants a ¥30 meal subsidy, expiring at month end.
    month_end = timezone.now() + dt.timedelta(days=30)
    actions.grant_subsidy(actor=admin, member=books.alice, amount=3000, client_id="s-1",
                          expires_at=month_end)
    assert balances(books, "purse", "subsidy", "equity") == {
        "purse": 9000, "subsidy": 3000, "equity": -3000}

    # 5. Dinner ¥40: ¥30 from the subsidy first, ¥10 from the purse, as one linked request.
    r = actions.purchase(member=books.alice, merchant_account=books.pos1, amount=4000,
                         client_id="p-2")
    assert [(t.leg, t.debit_account_id, t.amount) for t in r.transfers] == [
        (0, books.subsidy.pk, 3000), (1, books.purse.pk, 1000)]
    assert balances(books, "purse", "subsidy", "pos1") == {
        "purse": 8000, "subsidy": 0, "pos1": 5000}

    # 6. Another ¥5 subsidy, then the month ends: what is left expires back to equity.
    actions.grant_subsidy(actor=admin, member=books.alice, amount=500, client_id="s-2")
    assert actions.expire_subsidies(actor=None, group_customer=books.customer,
                                    now=month_end - dt.timedelta(days=1)) == []
    [expired] = actions.expire_subsidies(actor=None, group_customer=books.customer,
                                         now=month_end)
    assert expired.transfers[0].amount == 500
    assert balances(books, "subsidy", "equity") == {"subsidy": 0, "equity": -3000}
    # Running it again does nothing.
    assert actions.expire_subsidies(actor=None, group_customer=books.customer,
                                    now=month_end) == []

    # 7. Month end: the canteen is paid out to the bank, less a ¥1 fee.
    actions.charge_fee(actor=admin, merchant_account=books.pos1, amount=100, client_id="fee-1")
    actions.pay_out_merchant(actor=admin, merchant=books.canteen, client_id="po-1")
    assert balances(books, *ACCOUNTS) == {
        "purse": 8000, "subsidy": 0, "pos1": 0, "drawer": -10000, "equity": -3000,
        "refunds": 0, "bank": 4900, "fees": 100}
    report = verify_ledger()
    assert report.ok, report
    assert report.total_debits == report.total_credits


def test_deregistration_empties_and_closes_both_purses_in_one_request(books):
    admin = books.admin
    actions.top_up(actor=admin, member=books.bob, amount=700, client_id="t", source=books.drawer)
    actions.grant_subsidy(actor=admin, member=books.bob, amount=300, client_id="s")
    r = actions.deregister_purses(actor=admin, member=books.bob, client_id="d")
    assert [(t.debit_account_id, t.credit_account_id, t.amount) for t in r.transfers] == [
        (books.bob_purse.pk, books.refunds.pk, 700), (books.bob_subsidy.pk, books.equity.pk, 300)]
    books.bob_purse.refresh_from_db()
    books.bob_subsidy.refresh_from_db()
    assert (books.bob_purse.status, books.bob_subsidy.status) == ("closed", "closed")
    assert books.balance(books.refunds) == 700
    # A retry answers the first result; nothing moves twice.
    again = actions.deregister_purses(actor=admin, member=books.bob, client_id="d")
    assert again.status == "exists"
    assert Transfer.objects.filter(client_id="d").count() == 2
    assert verify_ledger().ok


def test_deregistering_an_empty_purse_still_closes_it(books):
    r = actions.deregister_purses(actor=books.admin, member=books.carol, client_id="d0")
    assert [t.amount for t in r.transfers] == [0, 0]
    assert verify_ledger().ok


def test_balance_move_takes_everything_and_closes_the_source(books):
    admin = books.admin
    actions.top_up(actor=admin, member=books.alice, amount=1234, client_id="t",
                   source=books.drawer)
    actions.grant_subsidy(actor=admin, member=books.alice, amount=66, client_id="s")
    actions.move_balance(actor=admin, source_member=books.alice, target_member=books.bob,
                         client_id="mv")
    assert balances(books, "purse", "subsidy", "bob_purse", "bob_subsidy") == {
        "purse": 0, "subsidy": 0, "bob_purse": 1234, "bob_subsidy": 66}
    books.purse.refresh_from_db()
    assert books.purse.status == "closed"
    assert verify_ledger().ok


def test_hold_then_post_part_then_hold_then_void(books):
    admin = books.admin
    actions.top_up(actor=admin, member=books.alice, amount=5000, client_id="t",
                   source=books.drawer)
    held = actions.hold(member=books.alice, merchant_account=books.pos2, amount=3000,
                        client_id="h-1").transfers[0]
    books.purse.refresh_from_db()
    assert (books.purse.balance, books.purse.available) == (5000, 2000)
    actions.settle_hold(pending=held, client_id="h-1-post", amount=2200)
    books.purse.refresh_from_db()
    assert (books.purse.balance, books.purse.available) == (2800, 2800)
    assert books.balance(books.pos2) == 2200
    second = actions.hold(member=books.alice, merchant_account=books.pos2, amount=800,
                          client_id="h-2").transfers[0]
    actions.settle_hold(pending=second, client_id="h-2-void", void=True)
    books.purse.refresh_from_db()
    assert (books.purse.balance, books.purse.available) == (2800, 2800)
    assert verify_ledger().ok


def test_a_timed_out_hold_is_voided_by_expire_holds(books):
    actions.top_up(actor=books.admin, member=books.alice, amount=500, client_id="t",
                   source=books.drawer)
    held = actions.hold(member=books.alice, merchant_account=books.pos1, amount=400,
                        client_id="h", timeout_seconds=60).transfers[0]
    later = timezone.now() + dt.timedelta(seconds=61)
    [voided] = actions.expire_holds(now=later)
    assert voided.transfers[0].pending_id == held.pk
    books.purse.refresh_from_db()
    assert books.purse.available == 500
    assert actions.expire_holds(now=later) == []
    assert verify_ledger().ok
