"""The database has the last word: what Python might get wrong, the store refuses.

Both databases: transfers cannot be updated or deleted (triggers), a purse cannot be written
below its floor (check constraint), a client id cannot be stored twice (unique constraint).
PostgreSQL also refuses, at COMMIT, a transaction whose account-total changes do not match the
transfers it inserted (a deferred constraint trigger).
"""

import pytest
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.utils import timezone

from onecard.wallet import actions
from onecard.wallet.models import Account, Transfer
from onecard.wallet.verify import verify_ledger

from .ledger_snapshot import assert_unchanged, snapshot

pytestmark = pytest.mark.django_db


def sql(statement, params=()):
    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        return cursor.rowcount


def refused_by_database(statement, params=(), *, match=None):
    """Run one statement in its own savepoint; it must fail and change nothing."""
    before = snapshot()
    with pytest.raises(DatabaseError) as info, transaction.atomic():
        sql(statement, params)
    if match is not None:
        assert match in str(info.value).lower(), info.value
    assert_unchanged(before)
    return info.value


@pytest.fixture
def funded(books):
    actions.top_up(actor=books.admin, member=books.alice, amount=1000, client_id="t-1",
                   source=books.drawer)
    books.t1 = Transfer.objects.get(client_id="t-1")
    books.p1 = actions.purchase(member=books.alice, merchant_account=books.pos1, amount=300,
                                client_id="p-1").transfers[0]
    return books


# --- Immutable transfers ----------------------------------------------------------------------


@pytest.mark.parametrize("statement", [
    "UPDATE wallet_transfer SET amount = amount + 1 WHERE id = %s",
    "UPDATE wallet_transfer SET memo = 'edited' WHERE id = %s",
    "UPDATE wallet_transfer SET credit_account_id = debit_account_id, "
    "debit_account_id = credit_account_id WHERE id = %s",
    "DELETE FROM wallet_transfer WHERE id = %s",
])
def test_raw_sql_cannot_edit_or_delete_a_transfer(funded, statement):
    refused_by_database(statement, [funded.p1.pk], match="immutable")
    assert Transfer.objects.get(pk=funded.p1.pk).amount == 300


def test_the_orm_cannot_edit_or_delete_a_transfer_either(funded):
    before = snapshot()
    with pytest.raises(RuntimeError):
        funded.p1.save()
    with pytest.raises(RuntimeError):
        funded.p1.delete()
    with pytest.raises(DatabaseError), transaction.atomic():
        Transfer.objects.filter(pk=funded.p1.pk).update(amount=1)
    with pytest.raises(DatabaseError), transaction.atomic():
        Transfer.objects.filter(pk=funded.p1.pk)._raw_delete(connection.alias)
    assert_unchanged(before)


def test_the_guards_do_not_refuse_everything(funded):
    # Control: the same kind of raw statements on an account do run (inside a savepoint that
    # we roll back), so the refusals above are about transfers, not about raw SQL.
    with transaction.atomic():
        assert sql("UPDATE wallet_account SET code = 'x' WHERE id = %s", [funded.pos1.pk]) == 1
        transaction.set_rollback(True)


# --- Floors and totals ------------------------------------------------------------------------


def test_a_purse_cannot_be_written_below_its_floor(funded):
    purse = funded.purse.pk  # 700 fen: credits 1000, debits 300
    refused_by_database("UPDATE wallet_account SET debits_posted = debits_posted + 701 "
                        "WHERE id = %s", [purse], match="wallet_account_floor")
    refused_by_database("UPDATE wallet_account SET debits_pending = 701 WHERE id = %s", [purse],
                        match="wallet_account_floor")
    refused_by_database("UPDATE wallet_account SET credits_posted = 0 WHERE id = %s", [purse],
                        match="wallet_account_floor")
    # Exactly to the floor is allowed (control), inside a savepoint rolled back.
    with transaction.atomic():
        assert sql("UPDATE wallet_account SET debits_posted = debits_posted + 700 "
                   "WHERE id = %s", [purse]) == 1
        transaction.set_rollback(True)


def test_the_floor_of_an_overdraft_purse_is_minus_its_limit(funded):
    actions.set_overdraft_limit(actor=funded.admin, account=funded.purse, limit=200)
    purse = funded.purse.pk
    refused_by_database("UPDATE wallet_account SET debits_posted = debits_posted + 901 "
                        "WHERE id = %s", [purse], match="wallet_account_floor")
    refused_by_database("UPDATE wallet_account SET overdraft_limit = -1 WHERE id = %s", [purse],
                        match="wallet_account_totals_not_negative")
    with transaction.atomic():
        sql("UPDATE wallet_account SET debits_posted = debits_posted + 900 WHERE id = %s",
            [purse])
        transaction.set_rollback(True)


def test_account_totals_are_never_negative(funded):
    refused_by_database("UPDATE wallet_account SET credits_posted = -5 WHERE id = %s",
                        [funded.drawer.pk], match="wallet_account_totals_not_negative")


# --- Unique client ids and the other transfer constraints -------------------------------------


def _copy(transfer, **changes):
    values = {name: getattr(transfer, name) for name in (
        "group_customer_id", "client_id", "leg", "debit_account_id", "credit_account_id",
        "amount", "kind", "phase", "terminal_code", "card_number", "offline", "memo")}
    values["created_at"] = timezone.now()
    values.update(changes)
    return Transfer(**values)


def test_a_client_id_is_stored_once_per_customer_and_leg(funded):
    before = snapshot()
    with pytest.raises(IntegrityError), transaction.atomic():
        _copy(funded.p1, amount=1).save(force_insert=True)
    with pytest.raises(IntegrityError), transaction.atomic():
        Transfer.objects.bulk_create([_copy(funded.p1, amount=1, kind="top_up")])
    with pytest.raises(IntegrityError), transaction.atomic():
        sql("INSERT INTO wallet_transfer (group_customer_id, client_id, leg, debit_account_id, "
            "credit_account_id, amount, kind, phase, terminal_code, card_number, offline, memo,"
            " created_at) SELECT group_customer_id, client_id, leg, debit_account_id, "
            "credit_account_id, amount, kind, phase, terminal_code, card_number, offline, memo,"
            " created_at FROM wallet_transfer WHERE id = %s", [funded.p1.pk])
    assert_unchanged(before)
    # Controls: another leg, or the same id in another group customer, is a different key.
    with transaction.atomic():
        _copy(funded.p1, leg=1).save(force_insert=True)
        other = funded.world.customer_b
        b_accounts = list(Account.objects.filter(group_customer=other).order_by("pk")[:2])
        _copy(funded.p1, group_customer_id=other.pk, debit_account_id=b_accounts[0].pk,
              credit_account_id=b_accounts[1].pk).save(force_insert=True)
        transaction.set_rollback(True)


@pytest.mark.parametrize("changes,constraint", [
    ({"amount": -1}, "wallet_transfer_amount_in_range"),
    ({"amount": 10**12 + 1}, "wallet_transfer_amount_in_range"),
    ({"credit_account_id": "debit"}, "wallet_transfer_two_accounts"),
])
def test_transfer_check_constraints(funded, changes, constraint):
    if changes.get("credit_account_id") == "debit":
        changes = {"credit_account_id": funded.p1.debit_account_id}
    before = snapshot()
    with pytest.raises(IntegrityError) as info, transaction.atomic():
        _copy(funded.p1, client_id="new", **changes).save(force_insert=True)
    assert constraint in str(info.value) or connection.vendor == "sqlite"
    assert_unchanged(before)


def test_a_transfer_is_reversed_and_a_hold_settled_at_most_once_in_the_store(funded):
    reversal = actions.reverse_transfer(actor=funded.admin, transfer=funded.p1, amount=100,
                                        client_id="r-1").transfers[0]
    before = snapshot()
    with pytest.raises(IntegrityError), transaction.atomic():
        _copy(reversal, client_id="r-2", reverses_id=funded.p1.pk).save(force_insert=True)
    hold = actions.hold(member=funded.alice, merchant_account=funded.pos1, amount=100,
                        client_id="h-1").transfers[0]
    settled = actions.settle_hold(pending=hold, client_id="h-1-post").transfers[0]
    before = snapshot()
    with pytest.raises(IntegrityError), transaction.atomic():
        _copy(settled, client_id="h-1-again", pending_id=hold.pk).save(force_insert=True)
    assert_unchanged(before)


# --- PostgreSQL: the commit-time balance check ------------------------------------------------


def _commit_refused(work):
    """Run ``work`` in a transaction of its own; its COMMIT must be refused, nothing kept."""
    before = snapshot()
    with pytest.raises(DatabaseError) as info, transaction.atomic():
        work()
    assert "do not balance" in str(info.value), info.value
    assert_unchanged(before)
    assert verify_ledger().ok


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
class TestCommitTimeBalanceCheck:
    def test_changing_one_accounts_totals_without_a_transfer_is_refused(self, funded):
        purse = funded.purse.pk
        _commit_refused(lambda: sql(
            "UPDATE wallet_account SET credits_posted = credits_posted + 100 WHERE id = %s",
            [purse]))
        # The statement itself ran: it is the COMMIT that refused.
        with pytest.raises(DatabaseError), transaction.atomic():
            assert sql("UPDATE wallet_account SET credits_posted = credits_posted + 100 "
                       "WHERE id = %s", [purse]) == 1

    def test_a_balanced_change_of_two_accounts_without_a_transfer_is_refused(self, funded):
        def work():
            sql("UPDATE wallet_account SET debits_posted = debits_posted + 100 WHERE id = %s",
                [funded.drawer.pk])
            sql("UPDATE wallet_account SET credits_posted = credits_posted + 100 "
                "WHERE id = %s", [funded.purse.pk])
        _commit_refused(work)

    def test_a_hold_without_a_pending_transfer_is_refused(self, funded):
        def work():
            sql("UPDATE wallet_account SET debits_pending = debits_pending + 50 WHERE id = %s",
                [funded.purse.pk])
            sql("UPDATE wallet_account SET credits_pending = credits_pending + 50 "
                "WHERE id = %s", [funded.pos1.pk])
        _commit_refused(work)

    def test_a_transfer_without_account_changes_is_refused(self, funded):
        _commit_refused(lambda: _copy(funded.p1, client_id="forged").save(force_insert=True))

    def test_a_transfer_with_half_the_account_changes_is_refused(self, funded):
        def work():
            _copy(funded.p1, client_id="forged", amount=100).save(force_insert=True)
            sql("UPDATE wallet_account SET debits_posted = debits_posted + 100 WHERE id = %s",
                [funded.purse.pk])
        _commit_refused(work)

    def test_a_transfer_with_matching_account_changes_commits(self, funded):
        # Control: the same hand-written posting, complete, is accepted by the trigger.
        with transaction.atomic():
            _copy(funded.p1, client_id="by-hand", amount=100).save(force_insert=True)
            sql("UPDATE wallet_account SET debits_posted = debits_posted + 100 WHERE id = %s",
                [funded.purse.pk])
            sql("UPDATE wallet_account SET credits_posted = credits_posted + 100 "
                "WHERE id = %s", [funded.pos1.pk])
        assert Transfer.objects.filter(client_id="by-hand").exists()
        assert verify_ledger().ok

    def test_normal_actions_commit(self, funded):
        admin = funded.admin
        actions.grant_subsidy(actor=admin, member=funded.alice, amount=200, client_id="s-1")
        actions.purchase(member=funded.alice, merchant_account=funded.pos1, amount=450,
                         client_id="p-2")
        held = actions.hold(member=funded.alice, merchant_account=funded.pos2, amount=100,
                            client_id="h-1").transfers[0]
        actions.settle_hold(pending=held, amount=60, client_id="h-1-post")
        actions.refund_purchase(actor=admin, purchase_client_id="p-2",
                                group_customer=funded.customer, amount=450, client_id="rf-1")
        actions.deregister_purses(actor=admin, member=funded.alice, client_id="d-1")
        # All committed (this test's transactions are real): seen from a fresh connection.
        connection.close()
        assert Transfer.objects.filter(client_id__in=["t-1", "p-1", "s-1", "p-2", "h-1",
                                                      "h-1-post", "rf-1", "d-1"]) \
            .values("client_id").distinct().count() == 8
        report = verify_ledger()
        assert report.ok, report

    def test_a_rolled_back_savepoint_does_not_poison_the_commit(self, funded):
        with transaction.atomic():
            try:
                with transaction.atomic():
                    sql("UPDATE wallet_account SET credits_posted = credits_posted + 100 "
                        "WHERE id = %s", [funded.purse.pk])
                    raise RuntimeError("changed my mind")
            except RuntimeError:
                pass
            actions.top_up(actor=funded.admin, member=funded.alice, amount=100,
                           client_id="t-2", source=funded.drawer)
        funded.purse.refresh_from_db()
        assert funded.purse.balance == 800
        assert verify_ledger().ok

    def test_account_changes_on_other_accounts_than_the_transfer_are_refused(self, funded):
        def work():
            _copy(funded.p1, client_id="misdirected", amount=100).save(force_insert=True)
            sql("UPDATE wallet_account SET debits_posted = debits_posted + 100 WHERE id = %s",
                [funded.drawer.pk])
            sql("UPDATE wallet_account SET credits_posted = credits_posted + 100 "
                "WHERE id = %s", [funded.bank.pk])
        _commit_refused(work)

    def test_settlements_inserted_in_one_statement_release_their_holds(self, funded):
        """The tally finds each settlement's hold by its id (migration 0007): two settlements
        inserted together balance with the account changes that release both holds, and are
        refused at COMMIT when one release is missing."""
        holds = [actions.hold(member=funded.alice, merchant_account=funded.pos1, amount=amount,
                              client_id=f"h-{amount}").transfers[0] for amount in (100, 50)]

        def settle(release_both):
            settlements = [_copy(h, client_id=f"post-{i}", phase="post_pending", amount=posted,
                                 pending_id=h.pk)
                           for i, (h, posted) in enumerate(zip(holds, (80, 50), strict=True))]
            Transfer.objects.bulk_create(settlements)  # one multi-row INSERT
            released = 150 if release_both else 100
            for account, side in ((funded.purse, "debits"), (funded.pos1, "credits")):
                sql(f"UPDATE wallet_account SET {side}_pending = {side}_pending - %s, "
                    f"{side}_posted = {side}_posted + 130 WHERE id = %s", [released, account.pk])

        _commit_refused(lambda: settle(release_both=False))
        with transaction.atomic():
            settle(release_both=True)
        funded.purse.refresh_from_db()
        assert (funded.purse.balance, funded.purse.debits_pending) == (1000 - 300 - 130, 0)
        assert verify_ledger().ok

    def test_an_account_inserted_with_totals_is_refused(self, funded):
        before = snapshot()
        with pytest.raises(DatabaseError, match="zero totals"), transaction.atomic():
            Account.objects.create(group_customer=funded.customer, kind="cash_drawer",
                                   code="FORGED", credits_posted=5000)
        assert_unchanged(before)


class _Undo(Exception):
    """Rolls a test's savepoint back: its unbalanced hand-written rows must never commit."""


@pytest.mark.postgres
def test_a_batch_insert_does_not_scan_the_transfer_table(funded):
    """Migration 0007: the transfer tally of a multi-row INSERT probes the holds it releases
    by primary key. Before, the planner hashed the whole table to join an offline batch's
    500 rows (41 ms per batch at 100,000 transfers, growing with the table)."""
    columns = ("group_customer_id, client_id, leg, debit_account_id, credit_account_id, amount, "
               "kind, phase, terminal_code, card_number, offline, memo, created_at")
    rows = ("SELECT %s, %s || n, 0, %s, %s, 1, 'purchase', 'posted', '', '', true, '', now() "
            "FROM generate_series(1, %s) AS n")
    insert = f"INSERT INTO wallet_transfer ({columns}) {rows}"  # noqa: S608
    payer, payee = funded.purse.pk, funded.pos1.pk

    def seq_scans():
        with connection.cursor() as cursor:
            cursor.execute("SELECT seq_scan FROM pg_stat_xact_user_tables "
                           "WHERE relname = 'wallet_transfer'")
            return cursor.fetchone()[0]

    with pytest.raises(_Undo), transaction.atomic():
        sql(insert, [funded.customer.pk, "grown-", payer, payee, 5000])
        sql("ANALYZE wallet_transfer")
        before = seq_scans()
        assert sql(insert, [funded.customer.pk, "batch-", payer, payee, 500]) == 500
        assert seq_scans() == before
        raise _Undo
