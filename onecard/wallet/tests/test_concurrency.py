"""Many threads, one purse, one merchant: no overdraft, no lost update, no double posting.

PostgreSQL only (SQLite serialises writers anyway): every thread has its own connection and
really runs concurrently with the others; row locks in primary-key order and the unique client
id are what keep the books right.
"""

import random
import threading
from collections import defaultdict

import pytest
from django.db import connection

from onecard.wallet import actions
from onecard.wallet.errors import IdempotencyConflict, LedgerRefused
from onecard.wallet.models import Transfer
from onecard.wallet.verify import verify_ledger

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

THREADS = 8
PER_THREAD = 50


def run_threads(count, work):
    """Run ``work(index, barrier)`` in ``count`` threads, each on its own connection (closed at
    the end); re-raise the first exception a thread hit."""
    barrier = threading.Barrier(count)
    errors = []

    def main(index):
        try:
            work(index, barrier)
        except BaseException as error:  # noqa: BLE001 - reported to the test below
            errors.append(error)
            barrier.abort()
        finally:
            connection.close()

    threads = [threading.Thread(target=main, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(t.is_alive() for t in threads), "a thread hung"
    if errors:
        raise errors[0]


def amount_of(client_id):
    """Every caller of one client id sends the same amount (a retry is the same request)."""
    return random.Random(client_id).randint(1, 300)


def test_threads_spending_one_purse_at_one_merchant(books):
    funding = 30_000  # about half of what the threads try to spend
    actions.top_up(actor=None, member=books.alice, amount=funding, client_id="fund",
                   source=books.drawer)
    answers = defaultdict(list)  # client id -> [status or refusal code, transfer ids]
    lock = threading.Lock()

    def spend(client_id):
        try:
            result = actions.purchase(member=books.alice, merchant_account=books.pos1,
                                      amount=amount_of(client_id), client_id=client_id)
            answer = (result.status, tuple(t.pk for t in result.transfers))
        except LedgerRefused as refused:
            answer = (refused.code, ())
        with lock:
            answers[client_id].append(answer)

    def work(t, barrier):
        barrier.wait()
        for i in range(PER_THREAD):
            spend(f"c-{t}-{i}")
            # A concurrent retry of the neighbour's request (sometimes before the neighbour
            # sends it, so the "retry" is first and the original is the retry).
            spend(f"c-{(t + 1) % THREADS}-{i}")

    run_threads(THREADS, work)

    assert len(answers) == THREADS * PER_THREAD
    assert all(len(a) == 2 for a in answers.values())
    stored = defaultdict(list)
    for client_id, leg, amount, pk in Transfer.objects.filter(kind="purchase").values_list(
            "client_id", "leg", "amount", "pk"):
        stored[client_id].append((leg, amount, pk))
    approved = {c for c, a in answers.items() if any(s in ("ok", "exists") for s, _ in a)}
    assert set(stored) == approved
    for client_id, legs in stored.items():
        # Exactly once, with the request's amount; one caller posted it, the other was told
        # it exists, and both got the same transfer.
        assert [(leg, amount) for leg, amount, _pk in legs] == [(0, amount_of(client_id))]
        statuses = sorted(s for s, _ in answers[client_id])
        assert statuses == ["exists", "ok"], (client_id, answers[client_id])
        assert {ids for _s, ids in answers[client_id]} == {(legs[0][2],)}
    for client_id in set(answers) - approved:
        assert {s for s, _ in answers[client_id]} == {"insufficient_funds"}
    spent = sum(amount_of(c) for c in approved)
    assert 0 < len(approved) < len(answers), "the purse should run dry part way"
    books.purse.refresh_from_db()
    books.pos1.refresh_from_db()
    # No overdraft: what left the purse is exactly what was approved, and it had that much.
    assert books.purse.balance == funding - spent >= 0
    assert books.purse.debits_posted == spent
    # No lost update: the merchant got every approved purchase.
    assert books.pos1.balance == spent
    # Some request was refused for funds, so when it was the purse held less than its amount
    # (at most 300), and balances only fell afterwards.
    assert books.purse.balance < 300
    report = verify_ledger()
    assert report.ok, report


def _same_request_from_every_thread(call, rounds=15):
    """Each round, every thread sends the same request at once; return the answers."""
    answers = defaultdict(list)
    lock = threading.Lock()

    def work(t, barrier):
        for r in range(rounds):
            barrier.wait()
            result = call(f"same-{r}", t)
            with lock:
                answers[f"same-{r}"].append(
                    (result.status, tuple(x.pk for x in result.transfers)))

    run_threads(THREADS, work)
    for client_id, got in answers.items():
        assert sorted(s for s, _ in got) == ["exists"] * (THREADS - 1) + ["ok"], got
        assert len({ids for _s, ids in got}) == 1, got
        stored = list(Transfer.objects.filter(client_id=client_id).values_list("pk", flat=True))
        assert tuple(stored) == got[0][1]
    return answers


def test_identical_purchases_from_many_threads_post_once(books):
    actions.top_up(actor=None, member=books.alice, amount=100_000, client_id="fund",
                   source=books.drawer)
    actions.grant_subsidy(actor=books.admin, member=books.alice, amount=150, client_id="s")
    answers = _same_request_from_every_thread(lambda cid, t: actions.purchase(
        member=books.alice, merchant_account=books.pos1, amount=100, client_id=cid))
    books.purse.refresh_from_db()
    assert books.balance(books.pos1) == 100 * len(answers)
    assert books.purse.balance + books.balance(books.subsidy) == 100_150 - 100 * len(answers)
    assert verify_ledger().ok


def test_identical_top_ups_from_many_threads_post_once(books):
    answers = _same_request_from_every_thread(lambda cid, t: actions.top_up(
        actor=None, member=books.bob, amount=700, client_id=cid, source=books.bank))
    assert books.balance(books.bob_purse) == 700 * len(answers)
    assert verify_ledger().ok


def test_identical_offline_uploads_from_many_threads_post_once(books):
    actions.top_up(actor=None, member=books.alice, amount=100_000, client_id="fund",
                   source=books.drawer)
    answers = defaultdict(list)
    lock = threading.Lock()
    batch = [{"client_id": f"off-{i}", "member": m, "amount": 10 + i}
             for i, m in enumerate([books.alice, books.bob, books.alice] * 10)]
    actions.top_up(actor=None, member=books.bob, amount=100_000, client_id="fund-b",
                   source=books.drawer)

    def work(t, barrier):
        barrier.wait()
        results = actions.ingest_offline_purchases(
            group_customer_id=books.customer.pk, merchant_account=books.pos2,
            records=batch[t % 3:] + batch[:t % 3])  # the same records, in other orders
        with lock:
            for r in results:
                answers[r.client_id].append((r.status, tuple(x.pk for x in r.transfers)))

    run_threads(THREADS, work)
    assert len(answers) == len(batch)
    for got in answers.values():
        assert sorted(s for s, _ in got) == ["exists"] * (THREADS - 1) + ["ok"], got
        assert len({ids for _s, ids in got}) == 1
    assert Transfer.objects.filter(client_id__startswith="off-").count() == len(batch)
    assert books.balance(books.pos2) == sum(r["amount"] for r in batch)
    assert verify_ledger().ok


def test_one_client_id_for_different_requests_at_once_posts_one_of_them(books):
    """Top-ups onto different purses from different drawers share no row lock: only the
    unique client id decides. One wins; every other caller is refused naming the field."""
    drawers = [actions.open_cash_drawer(actor=None, group_customer=books.customer,
                                        code=f"D-{t}") for t in range(THREADS)]
    members = [books.alice, books.bob, books.carol]
    outcomes = defaultdict(list)
    lock = threading.Lock()
    rounds = 15

    def work(t, barrier):
        for r in range(rounds):
            barrier.wait()
            try:
                result = actions.top_up(actor=None, member=members[t % 3], amount=100 + t,
                                        client_id=f"race-{r}", source=drawers[t])
                outcome = (result.status, t)
            except IdempotencyConflict as conflict:
                outcome = (conflict.code, t)
            with lock:
                outcomes[r].append(outcome)

    run_threads(THREADS, work)
    for r, got in outcomes.items():
        winners = [t for status, t in got if status == "ok"]
        assert len(winners) == 1, got
        [stored] = Transfer.objects.filter(client_id=f"race-{r}")
        assert stored.amount == 100 + winners[0]
        for status, t in got:
            if t == winners[0]:
                continue
            # Same amount never happens (100 + t); the first differing field is named.
            assert status == "exists_with_different_amount", got
    assert verify_ledger().ok
