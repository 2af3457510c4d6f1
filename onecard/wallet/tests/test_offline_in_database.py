"""PostgreSQL's one-statement offline batch (``wallet_ingest_offline``, migration 0008) against
the posting engine: every batch is posted twice from the same state, once through the engine
(``OFFLINE_IN_DATABASE`` off) in a savepoint that is then rolled back, and once with the
database function on; answers, stored transfers and account states must be the same.

The batches are random (seeded): members with and without subsidy, overdraft limits, a closed
purse, a member without purses, daily and per-transaction offline limits, records on both sides
of a business-day boundary, client ids repeated within a batch and retries of stored ones. The
function posts only batches whose every record posts and otherwise hands the batch to the
engine; the test counts how many batches the function itself posted, so it cannot pass by the
function always declining.
"""

import random
from datetime import UTC, datetime, timedelta

import pytest
from django.db import transaction

from onecard.people.actions import create_member
from onecard.wallet import actions
from onecard.wallet.models import Account, Transfer
from onecard.wallet.verify import verify_ledger

pytestmark = pytest.mark.postgres

# 15:50 UTC is 23:50 in Shanghai: records up to 20 minutes later fall on the next business day.
# Batch n's records are n days later.
START = datetime(2026, 11, 24, 15, 50, tzinfo=UTC)


class _Undo(Exception):
    pass


def _members(books):
    admin, world = books.admin, books.world
    members = [books.alice, books.bob, books.carol]
    for index, category in enumerate(["staff", "student", "student", "staff", "contractor"]):
        members.append(create_member(actor=world.manager, group_customer=books.customer,
                                     name=f"Extra {index}", phone=f"1391111{index:04d}",
                                     employee_number=f"X{index:03d}", category=category))
    for member in members[3:-1]:  # the last one has no purses
        actions.open_purses(actor=admin, member=member)
    for member, amount in zip(members[:6], [500_000, 800, 0, 500_000, 200, 1_000], strict=True):
        if amount:
            actions.top_up(actor=admin, member=member, amount=amount, client_id=f"t-{member.pk}",
                           source=books.drawer)
    for member, amount in zip(members[:6], [500, 0, 300, 0, 1_000, 0], strict=True):
        if amount:
            actions.grant_subsidy(actor=admin, member=member, amount=amount,
                                  client_id=f"s-{member.pk}")
    purse_of = {a.member_id: a for a in Account.objects.filter(kind="member_purse")}
    actions.set_overdraft_limit(actor=admin, account=purse_of[members[1].pk], limit=500)
    actions.set_overdraft_limit(actor=admin, account=purse_of[members[4].pk], limit=2_000)
    actions.set_spending_policy(actor=admin, group_customer=books.customer, category="student",
                                offline_per_transaction_limit=1_500, offline_daily_limit=2_500)
    actions.set_spending_policy(actor=admin, group_customer=books.customer, category="staff",
                                offline_daily_limit=6_000)
    actions.deregister_purses(actor=admin, member=members[5], client_id="d-5")
    return members


def _batch(rng, members, stored, number):
    # Half the batches keep to two well-funded members, small amounts and their own business
    # days (one batch a day), so that every record posts.
    clean = rng.random() < 0.5
    pool = members[:1] + members[3:4] if clean else members
    records = []
    for index in range(rng.randint(1, 12)):
        if not clean and stored and rng.random() < 0.1:
            record = dict(rng.choice(stored))  # a retry, sometimes changed
            if rng.random() < 0.5:
                record["amount"] += 1
        elif not clean and records and rng.random() < 0.1:
            record = dict(rng.choice(records))  # the same client id twice in one batch
        else:
            record = {"client_id": f"b{number}-{index}", "member": rng.choice(pool),
                      "amount": rng.randint(1, 40) if clean else rng.randint(1, 2_000),
                      "card_number": f"C{rng.randint(1, 3)}",
                      "created_at": (None if not clean and rng.random() < 0.2 else
                                     START + timedelta(days=number,
                                                       minutes=rng.randint(0, 20)))}
        records.append(record)
    return records


def _answers(results):
    return [(r.client_id, r.status, r.message,
             [(t.leg, t.debit_account_id, t.credit_account_id, t.amount, t.kind, t.phase,
               t.terminal_code, t.card_number, t.offline, t.memo, t.actor_id)
              for t in r.transfers]) for r in results]


def _state(customer):
    transfers = sorted(Transfer.objects.filter(group_customer=customer).values_list(
        "client_id", "leg", "debit_account_id", "credit_account_id", "amount", "kind", "phase",
        "terminal_code", "card_number", "offline", "memo"))
    accounts = sorted(Account.objects.filter(group_customer=customer).values_list(
        "id", "status", "debits_posted", "credits_posted", "debits_pending", "credits_pending",
        "spent_on", "spent_that_day"))
    return transfers, accounts


def test_the_database_function_posts_as_the_engine(books, monkeypatch):
    members = _members(books)
    rng = random.Random(20261125)
    in_database = []
    real = actions._ingest_in_database

    def spy(*args):
        results = real(*args)
        in_database.append(results is not None)
        return results

    monkeypatch.setattr(actions, "_ingest_in_database", spy)
    stored = []
    for number in range(60):
        records = _batch(rng, members, stored, number)

        def ingest(records=records):
            return actions.ingest_offline_purchases(
                group_customer_id=books.customer.pk, merchant_account=books.pos1,
                records=records, terminal_code="T-1")

        monkeypatch.setattr(actions, "OFFLINE_IN_DATABASE", False)
        with pytest.raises(_Undo), transaction.atomic():
            engine = (_answers(ingest()), _state(books.customer))
            raise _Undo
        monkeypatch.setattr(actions, "OFFLINE_IN_DATABASE", True)
        database = (_answers(ingest()), _state(books.customer))
        assert database == engine, f"batch {number}: {records}"
        stored.extend(r for r in records if r["client_id"] not in {s["client_id"] for s in stored})
    # Both paths were exercised: the function posted clean batches, the engine the others.
    assert in_database.count(True) >= 15, in_database
    assert in_database.count(False) >= 15, in_database
    report = verify_ledger()
    assert report.ok, report


def test_created_at_and_ids_come_back_as_stored(books):
    actions.top_up(actor=books.admin, member=books.alice, amount=1_000, client_id="t-1",
                   source=books.drawer)
    actions.grant_subsidy(actor=books.admin, member=books.alice, amount=100, client_id="s-1")
    records = [{"client_id": "o-1", "member": books.alice, "amount": 300, "card_number": "A",
                "created_at": START},
               {"client_id": "o-2", "member": books.alice, "amount": 50, "card_number": "A"}]
    results = actions.ingest_offline_purchases(group_customer_id=books.customer.pk,
                                               merchant_account=books.pos1, records=records)
    assert [[(t.leg, t.amount) for t in r.transfers] for r in results] == [
        [(0, 100), (1, 200)], [(0, 50)]]
    for result in results:
        for transfer in result.transfers:
            stored = Transfer.objects.get(pk=transfer.pk)
            assert (stored.client_id, stored.leg, stored.amount, stored.created_at) == (
                transfer.client_id, transfer.leg, transfer.amount, transfer.created_at)
    assert Transfer.objects.get(client_id="o-1", leg=0).created_at == START


def test_the_function_posts_down_to_the_overdraft_limit_and_no_further(books, monkeypatch):
    posted_by_function = []
    real = actions._ingest_in_database
    monkeypatch.setattr(actions, "_ingest_in_database",
                        lambda *args: posted_by_function.append(real(*args)) or
                        posted_by_function[-1])
    actions.top_up(actor=books.admin, member=books.bob, amount=800, client_id="t-1",
                   source=books.drawer)
    actions.set_overdraft_limit(actor=books.admin, account=books.bob_purse, limit=500)

    def upload(client_id, amount):
        [result] = actions.ingest_offline_purchases(
            group_customer_id=books.customer.pk, merchant_account=books.pos1,
            records=[{"client_id": client_id, "member": books.bob, "amount": amount,
                      "card_number": "B", "created_at": START}])
        return result.status

    assert upload("o-1", 1_200) == "ok"  # 800 - 1,200 = -400: within the limit of 500
    assert posted_by_function[-1] is not None
    assert books.balance(books.bob_purse) == -400
    assert upload("o-2", 200) == "rejected:insufficient_funds"  # -600: the engine refuses
    assert posted_by_function[-1] is None
    assert upload("o-3", 100) == "ok"  # exactly -500
    assert posted_by_function[-1] is not None
    assert books.balance(books.bob_purse) == -500
    assert verify_ledger().ok
