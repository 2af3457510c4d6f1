"""The ledger reports against one hand-worked business day (Asia/Shanghai), built through the
real actions with the clock set for each step.

The day D = 2026-03-10. Before it, Alice tops up ¥100. During it (local times):

    07:00  t-2   Bob tops up ¥20 at the counter
    08:00  p-1   Alice lunch ¥12.50 at POS-1 (all from the purse)
    12:00  s-1   Alice gets a ¥30 subsidy
    12:30  p-2   Alice ¥40 at POS-1: ¥30 subsidy + ¥10 purse (two legs, one purchase)
    13:00  rf-1  ¥2.50 of p-1 refunded
    18:00  p-3   Bob ¥5 at POS-2
    20:00  fee-1 ¥1 fee on POS-1
    23:59:59 p-4 Alice ¥3 at the canteen's main account
    D+1 00:00:00 p-5 Alice ¥2 at POS-1 (the next day)
    D+1 10:00    po-1 the canteen is paid out to the bank
"""

import io
from datetime import date, datetime, time, timedelta
from decimal import Decimal

import openpyxl
import pytest
from django.utils import timezone

from onecard.wallet import actions, reports
from onecard.wallet.models import Account

pytestmark = pytest.mark.django_db

D = date(2026, 3, 10)


class Clock:
    """``timezone.now()`` answers ``at`` (a local time) while set."""

    def __init__(self):
        self.now = None

    def at(self, day, hour, minute=0, second=0):
        self.now = reports.day_start(day) + timedelta(hours=hour, minutes=minute, seconds=second)
        return self.now


@pytest.fixture(name="clock")
def clock_fixture(monkeypatch):
    real_now = timezone.now
    c = Clock()
    monkeypatch.setattr(timezone, "now", lambda: c.now or real_now())
    return c


def build_day(books, clock):
    """The worked day above; the clock is left at D+1 10:00 (so D+1 is "today")."""
    admin = books.admin
    clock.at(D - timedelta(days=1), 9)
    actions.top_up(actor=admin, member=books.alice, amount=10000, client_id="t-1",
                   source=books.drawer)
    clock.at(D, 7)
    actions.top_up(actor=admin, member=books.bob, amount=2000, client_id="t-2",
                   source=books.drawer)
    clock.at(D, 8)
    actions.purchase(member=books.alice, merchant_account=books.pos1, amount=1250,
                     client_id="p-1", terminal_code="POS-1")
    clock.at(D, 12)
    actions.grant_subsidy(actor=admin, member=books.alice, amount=3000, client_id="s-1")
    clock.at(D, 12, 30)
    actions.purchase(member=books.alice, merchant_account=books.pos1, amount=4000,
                     client_id="p-2", terminal_code="POS-1")
    clock.at(D, 13)
    actions.refund_purchase(actor=admin, purchase_client_id="p-1", group_customer=books.customer,
                            amount=250, client_id="rf-1", reason="wrong dish")
    clock.at(D, 18)
    actions.purchase(member=books.bob, merchant_account=books.pos2, amount=500, client_id="p-3")
    clock.at(D, 20)
    actions.charge_fee(actor=admin, merchant_account=books.pos1, amount=100, client_id="fee-1")
    clock.at(D, 23, 59, 59)
    actions.purchase(member=books.alice, merchant_account=books.canteen_main, amount=300,
                     client_id="p-4")
    clock.at(D + timedelta(days=1), 0)
    actions.purchase(member=books.alice, merchant_account=books.pos1, amount=200,
                     client_id="p-5")
    clock.at(D + timedelta(days=1), 10)
    actions.pay_out_merchant(actor=admin, merchant=books.canteen, client_id="po-1")


def local(day, hour, minute=0, second=0):
    return timezone.make_aware(datetime.combine(day, time(hour, minute, second)),
                               reports.business_timezone())


# --- Member statement ---------------------------------------------------------------------------


def test_member_statement_of_the_day(books, clock):
    build_day(books, clock)
    statement = reports.member_statement(books.alice, D, D + timedelta(days=1))
    assert (statement.start, statement.end) == (local(D, 0), local(D + timedelta(days=1), 0))
    purse, subsidy = books.purse.pk, books.subsidy.pk
    assert [(line.client_id, line.leg, line.purse_account, line.change, line.balance)
            for line in statement.lines] == [
        ("p-1", 0, purse, -1250, 8750),
        ("s-1", 0, subsidy, 3000, 3000),
        ("p-2", 0, subsidy, -3000, 0),
        ("p-2", 1, purse, -1000, 7750),
        ("rf-1", 0, purse, 250, 8000),
        ("p-4", 0, purse, -300, 7700),
    ]
    assert [(p.kind, p.opening, p.credits, p.debits, p.closing) for p in statement.purses] == [
        ("member_purse", 10000, 250, 2550, 7700), ("subsidy_purse", 0, 3000, 3000, 0)]
    assert (statement.opening, statement.closing) == (10000, 7700)
    first = statement.lines[0]
    assert (first.kind, first.counterparty, first.amount, first.created_at) == (
        "purchase", "Canteen POS-1", 1250, local(D, 8))
    assert statement.lines[4].reverses is not None
    assert statement.lines[4].memo == "wrong dish"


def test_statement_over_several_days_ends_at_the_stored_balance(books, clock):
    build_day(books, clock)
    statement = reports.member_statement(books.alice, D - timedelta(days=5),
                                         D + timedelta(days=2))
    assert statement.opening == 0
    assert [line.client_id for line in statement.lines] == [
        "t-1", "p-1", "s-1", "p-2", "p-2", "rf-1", "p-4", "p-5"]
    assert statement.closing == books.balance(books.purse) + books.balance(books.subsidy) == 7500
    # An empty range: opening = closing, no lines.
    quiet = reports.member_statement(books.alice, D + timedelta(days=3), D + timedelta(days=4))
    assert (quiet.opening, quiet.closing, quiet.lines) == (7500, 7500, [])


def test_holds_show_on_the_statement_without_moving_the_balance(books, clock):
    clock.at(D, 9)
    actions.top_up(actor=books.admin, member=books.alice, amount=5000, client_id="t",
                   source=books.drawer)
    held = actions.hold(member=books.alice, merchant_account=books.pos1, amount=3000,
                        client_id="h").transfers[0]
    clock.at(D, 9, 5)
    actions.settle_hold(pending=held, client_id="h-post", amount=2000)
    statement = reports.member_statement(books.alice, D, D + timedelta(days=1))
    assert [(line.client_id, line.phase, line.amount, line.change, line.balance)
            for line in statement.lines] == [
        ("t", "posted", 5000, 5000, 5000),
        ("h", "pending", 3000, 0, 5000),
        ("h-post", "post_pending", 2000, -2000, 3000),
    ]
    assert statement.closing == books.balance(books.purse) == 3000


def test_statement_refuses_naive_datetimes_and_backward_ranges(books):
    with pytest.raises(ValueError):
        reports.member_statement(books.alice, datetime(2026, 3, 10), D)
    with pytest.raises(ValueError):
        reports.member_statement(books.alice, D, D - timedelta(days=1))


# --- Merchant daily statement ---------------------------------------------------------------


def rows_of(statement):
    return {row.label: (row.opening, row.purchases_count, row.purchases, row.refunds_count,
                        row.refunds, row.fees, row.payouts, row.other, row.net, row.closing)
            for row in [*statement.rows, statement.total]}


def test_merchant_daily_statement(books, clock):
    build_day(books, clock)
    statement = reports.merchant_daily_statement(books.canteen, D)
    assert [row.account for row in statement.rows] == [
        books.canteen_main.pk, books.pos1.pk, books.pos2.pk]
    assert rows_of(statement) == {
        # opening, purchases (n, ¥), refunds (n, ¥), fees, payouts, other, net, closing
        "Canteen": (0, 1, 300, 0, 0, 0, 0, 0, 300, 300),
        "Canteen POS-1": (0, 2, 5250, 1, 250, 100, 0, 0, 4900, 4900),
        "Canteen POS-2": (0, 1, 500, 0, 0, 0, 0, 0, 500, 500),
        "Total": (0, 4, 6050, 1, 250, 100, 0, 0, 5700, 5700),
    }
    next_day = reports.merchant_daily_statement(books.canteen, D + timedelta(days=1))
    assert rows_of(next_day) == {
        "Canteen": (300, 0, 0, 0, 0, 0, 300, 0, -300, 0),
        "Canteen POS-1": (4900, 1, 200, 0, 0, 0, 5100, 0, -4900, 0),
        "Canteen POS-2": (500, 0, 0, 0, 0, 0, 500, 0, -500, 0),
        "Total": (5700, 1, 200, 0, 0, 0, 5900, 0, -5700, 0),
    }
    # Closing of the last day = what the accounts hold now.
    assert [books.balance(a) for a in (books.canteen_main, books.pos1, books.pos2)] == [0, 0, 0]


def test_a_reversed_fee_counts_as_other(books, clock):
    clock.at(D, 9)
    actions.top_up(actor=books.admin, member=books.alice, amount=1000, client_id="t",
                   source=books.drawer)
    actions.purchase(member=books.alice, merchant_account=books.pos1, amount=1000,
                     client_id="p")
    fee = actions.charge_fee(actor=books.admin, merchant_account=books.pos1, amount=30,
                             client_id="fee").transfers[0]
    actions.reverse_transfer(actor=books.admin, transfer=fee, client_id="fee-back")
    row = reports.merchant_daily_statement(books.canteen, D).rows[1]
    assert (row.purchases, row.fees, row.other, row.net, row.closing) == (1000, 30, 30, 1000,
                                                                           1000)


# --- Reconciliation -----------------------------------------------------------------------------


def kinds_of(report):
    return {row.kind or "total": (row.accounts, row.opening, row.debits, row.credits,
                                  row.closing) for row in [*report.rows, report.total]}


def test_reconciliation_of_a_past_day(books, clock):
    build_day(books, clock)
    report = reports.reconciliation(books.customer, D)
    assert kinds_of(report) == {
        # accounts, opening, debits, credits, closing
        "member_purse": (3, 10000, 3050, 2250, 9200),
        "subsidy_purse": (3, 0, 3000, 3000, 0),
        "merchant": (1, 0, 0, 300, 300),
        "merchant_terminal": (2, 0, 350, 5750, 5400),
        "cash_drawer": (1, -10000, 2000, 0, -12000),
        "external_clearing": (2, 0, 0, 0, 0),
        "refunds_payable": (1, 0, 0, 0, 0),
        "fee_income": (1, 0, 0, 100, 100),
        "offline_overdraft": (1, 0, 0, 0, 0),
        "equity": (1, 0, 3000, 0, -3000),
        "total": (16, 0, 11400, 11400, 0),
    }
    assert report.transfers == 9
    assert not report.is_today
    assert all(row.stored is None and row.balanced for row in report.rows)
    assert report.balanced
    # Customer B's books are empty and balanced too; A's figures are not in them.
    other = reports.reconciliation(books.world.customer_b, D)
    assert other.total.debits == 0 and other.transfers == 0 and other.balanced


def test_reconciliation_of_today_matches_the_stored_balances(books, clock):
    build_day(books, clock)
    today = D + timedelta(days=1)
    assert reports.business_today() == today
    report = reports.reconciliation(books.customer, today)
    assert report.is_today
    figures = {row.kind: (row.opening, row.closing, row.stored) for row in report.rows}
    assert figures["member_purse"] == (9200, 9000, 9000)
    assert figures["merchant_terminal"] == (5400, 0, 0)
    assert figures["external_clearing"] == (0, 5900, 5900)
    assert all(row.matches_stored for row in report.rows)
    assert report.balanced


def test_reconciliation_finds_a_stored_balance_that_drifted(books, clock):
    build_day(books, clock)
    # Simulate drift that only a bug or a hand edit could cause (no transfer behind it). On
    # PostgreSQL the commit-time balance trigger would refuse to commit this, so it is undone
    # before the test's transaction ends.
    Account.objects.filter(pk=books.drawer.pk).update(credits_posted=1)
    report = reports.reconciliation(books.customer, D + timedelta(days=1))
    Account.objects.filter(pk=books.drawer.pk).update(credits_posted=0)
    drawer = next(row for row in report.rows if row.kind == "cash_drawer")
    assert (drawer.closing, drawer.stored, drawer.balanced, drawer.matches_stored) == (
        -12000, -11999, True, False)
    assert not report.balanced
    assert reports.reconciliation(books.customer, D + timedelta(days=1)).balanced


def test_reports_sum_integer_fen_on_amounts_that_floats_get_wrong(books, clock):
    # 0.1 + 0.2 != 0.3 in floats; in fen it is 10 + 20 = 30 exactly.
    clock.at(D, 9)
    for n, amount in enumerate([10, 20, 1, 1, 1]):
        actions.top_up(actor=books.admin, member=books.alice, amount=amount, client_id=f"t{n}",
                       source=books.drawer)
    statement = reports.member_statement(books.alice, D, D + timedelta(days=1))
    assert statement.closing == 33
    assert all(isinstance(line.balance, int) for line in statement.lines)
    content = reports.member_statement_xlsx(statement)
    sheet = openpyxl.load_workbook(io.BytesIO(content)).active
    values = [row for row in sheet.iter_rows(values_only=True)]
    assert values[4][0] == "Member purse"
    assert Decimal(str(values[4][4])) == Decimal("0.33")


# --- .xlsx --------------------------------------------------------------------------------------


def open_sheet(content):
    workbook = openpyxl.load_workbook(io.BytesIO(content))
    return [list(row) for row in workbook.active.iter_rows(values_only=True)]


def test_xlsx_exports_show_yuan_with_two_decimals(books, clock):
    build_day(books, clock)
    rows = open_sheet(reports.reconciliation_xlsx(reports.reconciliation(books.customer, D)))
    assert rows[0][:3] == ["Day-end reconciliation", "Customer A", "2026-03-10"]
    assert rows[1][0] == "Balanced"
    purse = next(r for r in rows if r[0] == "Member purse")
    assert purse[1:6] == [3, 100, 30.5, 22.5, 92]
    total = next(r for r in rows if r[0] == "Total")
    assert total[2:6] == [0, 114, 114, 0]

    workbook = openpyxl.load_workbook(io.BytesIO(reports.reconciliation_xlsx(
        reports.reconciliation(books.customer, D))))
    cell = workbook.active["C6"]
    assert cell.number_format == reports.MONEY_FORMAT

    rows = open_sheet(reports.merchant_daily_statement_xlsx(
        reports.merchant_daily_statement(books.canteen, D)))
    assert rows[3] == ["Canteen", 0, 1, 3, 0, 0, 0, 0, 0, 3, 3]
    assert rows[4] == ["Canteen POS-1", 0, 2, 52.5, 1, 2.5, 1, 0, 0, 49, 49]
    assert rows[6][0] == "Total" and rows[6][9] == 57

    statement = reports.member_statement(books.alice, D, D + timedelta(days=1))
    rows = open_sheet(reports.member_statement_xlsx(statement))
    assert rows[0] == ["Member statement", "Member a0", None, None, None, None, None, None, None]
    lines = rows[rows.index(next(r for r in rows if r[0] == "Time")) + 1:]
    assert [(r[3], r[5], r[6], r[7]) for r in lines] == [
        ("p-1", 12.5, -12.5, 87.5), ("s-1", 30, 30, 30), ("p-2", 30, -30, 0),
        ("p-2", 10, -10, 77.5), ("rf-1", 2.5, 2.5, 80), ("p-4", 3, -3, 77)]
    assert lines[0][0] == datetime(2026, 3, 10, 8, 0)


def test_xlsx_text_never_runs_as_a_formula(books, clock):
    clock.at(D, 9)
    actions.top_up(actor=books.admin, member=books.alice, amount=100, client_id="=1+1",
                   source=books.drawer)
    content = reports.member_statement_xlsx(
        reports.member_statement(books.alice, D, D + timedelta(days=1)))
    workbook = openpyxl.load_workbook(io.BytesIO(content))
    cells = [c for row in workbook.active.iter_rows() for c in row if c.value == "=1+1"]
    assert len(cells) == 1 and cells[0].data_type == "s"
