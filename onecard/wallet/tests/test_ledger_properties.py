"""A hypothesis state machine drives the ledger through random sequences of money actions and
checks, after every step, what must always hold:

* the books balance: Σ debits == Σ credits and ``verify_ledger()`` recomputes every account;
* no purse below its floor (0 online; offline down to minus its overdraft limit);
* every acknowledged client id is stored exactly once, with the legs and amount the model
  expects, and nothing else is stored;
* every account holds what an independent model of the rules says it should.

The model decides by itself whether each request must be accepted or refused (subsidy first,
then purse; floors; closed accounts; reversed at most once) and what every account holds after
it; the code under test is only asked, never copied. Two bugs this machine found (a purchase paid
by the subsidy alone refused while the purse was overdrawn, and a stale subsidy-expiry client id)
are pinned by the regression tests at the end of this file.

Runs inside one ``db`` test: each example is a savepoint, rolled back at teardown, so examples
start from the same ``books``. The default is quick; set ``ONECARD_HYPOTHESIS_EXAMPLES`` (and
optionally ``ONECARD_HYPOTHESIS_STEPS``) for a long run, e.g.::

    ONECARD_HYPOTHESIS_EXAMPLES=1000 ONECARD_HYPOTHESIS_STEPS=100 \\
        .venv/bin/python -m pytest onecard/wallet/tests/test_ledger_properties.py
"""

import datetime as dt
import os
from collections import Counter, defaultdict
from dataclasses import dataclass, field

import pytest
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from onecard.wallet import actions
from onecard.wallet.choices import Refusal
from onecard.wallet.errors import IdempotencyConflict, LedgerRefused
from onecard.wallet.models import Account, Transfer
from onecard.wallet.verify import verify_ledger

pytestmark = pytest.mark.django_db

# The default run is derandomized (the same steps every time, so CI is stable and the check
# that every kind of step was reached cannot flake); a long run explores at random.
LONG_RUN = "ONECARD_HYPOTHESIS_EXAMPLES" in os.environ
EXAMPLES = int(os.environ.get("ONECARD_HYPOTHESIS_EXAMPLES", "40"))
STEPS = int(os.environ.get("ONECARD_HYPOTHESIS_STEPS", "40"))
# What the rules did over a run (so a run that never reached a path is noticed).
OUTCOMES = Counter()
OVERDRAFT = 500  # Alice's offline overdraft limit; the others have none.


@dataclass
class Ack:
    """An acknowledged request: what the model expects stored, and how to send it again."""

    amounts: list  # the expected amount of each stored leg, in leg order
    transfer_ids: list
    redo: object = None  # redo(amount) -> Result (raises on an online conflict)
    amount: int = 0
    offline: bool = False
    most: int | None = None  # the largest amount the request may carry (a refund's purchase)


@dataclass
class Purchase:
    client_id: str
    member: int  # index
    merchant: int  # account pk
    subsidy_part: int
    purse_part: int
    refunded: bool = False


@dataclass
class Model:
    balance: dict = field(default_factory=lambda: defaultdict(int))  # account pk -> balance
    closed: set = field(default_factory=set)  # member indexes whose purses are closed
    expires: dict = field(default_factory=dict)  # subsidy pk -> expiry (datetime)
    acked: dict = field(default_factory=dict)  # client id -> Ack
    purchases: list = field(default_factory=list)
    top_ups: list = field(default_factory=list)  # (client id, member index, amount, reversed)


def make_machine(b):
    members = [b.alice, b.bob, b.carol]
    purses = [p for p, _s in b.purses_a]
    subsidies = [s for _p, s in b.purses_a]
    merchants = [b.pos1, b.pos2, b.canteen_main]
    overdraft = [OVERDRAFT, 0, 0]
    base = timezone.now() + dt.timedelta(days=1)
    member_index = st.integers(0, 2)
    merchant_index = st.integers(0, 2)
    pick = st.integers(0, 10**6)  # an index into a list the model keeps, modulo its length

    class LedgerMachine(RuleBasedStateMachine):
        def __init__(self):
            super().__init__()
            self.atomic = transaction.atomic()
            self.atomic.__enter__()
            self.model = Model()
            self.serial = 0
            self.minutes = 0  # the machine's clock: minutes after ``base``
            self.last_expiry = 0
            actions.set_overdraft_limit(actor=b.admin, account=purses[0], limit=OVERDRAFT)
            baseline = set(Transfer.objects.values_list("client_id", flat=True))
            assert not baseline, "books start empty"

        def teardown(self):
            transaction.set_rollback(True)
            self.atomic.__exit__(None, None, None)

        # --- helpers ----------------------------------------------------------------------

        def new_id(self, prefix):
            self.serial += 1
            return f"{prefix}-{self.serial}"

        def acknowledge(self, client_id, result, amounts, **kwargs):
            assert result.status == "ok", result
            assert [t.amount for t in result.transfers] == amounts, (result, amounts)
            assert [t.leg for t in result.transfers] == list(range(len(amounts)))
            assert client_id not in self.model.acked
            OUTCOMES[client_id.split("-")[0].split(":")[0] + ":ok"] += 1
            self.model.acked[client_id] = Ack(amounts, [t.pk for t in result.transfers],
                                              **kwargs)

        def move(self, debit, credit, amount):
            self.model.balance[debit] -= amount
            self.model.balance[credit] += amount

        def split(self, m, amount, *, offline):
            """Subsidy first, then the purse: (subsidy part, purse part, accepted?, corner?)."""
            sub = min(amount, max(self.model.balance[subsidies[m].pk], 0))
            rest = amount - sub
            purse_after = self.model.balance[purses[m].pk] - rest
            floor = -overdraft[m] if offline else 0
            corner = not offline and rest == 0 and purse_after < 0
            # A purse that pays nothing is not asked (the rule; the core's corner differs).
            return sub, rest, rest == 0 or purse_after >= floor, corner

        def count(self):
            return Transfer.objects.count()

        # --- rules ------------------------------------------------------------------------

        @initialize(amounts=st.lists(st.integers(0, 20_000), min_size=3, max_size=3))
        def opening_top_ups(self, amounts):
            for m, amount in enumerate(amounts):
                if amount:
                    self.top_up(m, amount, bank=False)

        @rule(m=member_index, amount=st.integers(1, 10_000), bank=st.booleans())
        def top_up(self, m, amount, bank):
            client_id = self.new_id("top")
            source = b.bank if bank else b.drawer

            def redo(value, m=m, source=source, client_id=client_id):
                return actions.top_up(actor=b.admin, member=members[m], amount=value,
                                      client_id=client_id, source=source)
            if m in self.model.closed:
                before = self.count()
                with pytest.raises(LedgerRefused) as info:
                    redo(amount)
                assert info.value.code == Refusal.ACCOUNT_CLOSED
                assert self.count() == before
                OUTCOMES[f"{info.value.code}"] += 1
                return
            result = redo(amount)
            self.acknowledge(client_id, result, [amount], redo=redo, amount=amount)
            self.move(source.pk, purses[m].pk, amount)
            self.model.top_ups.append([client_id, m, amount, False, source.pk])

        @rule(m=member_index, k=merchant_index, amount=st.integers(1, 5_000))
        def purchase(self, m, k, amount):
            client_id = self.new_id("buy")
            merchant = merchants[k]

            def redo(value, m=m, merchant=merchant, client_id=client_id):
                return actions.purchase(member=members[m], merchant_account=merchant,
                                        amount=value, client_id=client_id)
            sub, rest, ok, _corner = self.split(m, amount, offline=False)
            before = self.count()
            if m in self.model.closed or not ok:
                with pytest.raises(LedgerRefused) as info:
                    redo(amount)
                assert info.value.code == (Refusal.ACCOUNT_CLOSED if m in self.model.closed
                                           else Refusal.INSUFFICIENT_FUNDS)
                assert self.count() == before
                OUTCOMES[f"{info.value.code}"] += 1
                return
            result = redo(amount)
            amounts = [a for a in (sub, rest) if a]
            self.acknowledge(client_id, result, amounts, redo=redo, amount=amount)
            self.move(subsidies[m].pk, merchant.pk, sub)
            self.move(purses[m].pk, merchant.pk, rest)
            self.model.purchases.append(Purchase(client_id, m, merchant.pk, sub, rest))

        @rule(records=st.lists(st.tuples(member_index, st.integers(1, 3_000),
                                         st.sampled_from(["new", "same", "changed"])),
                               min_size=1, max_size=8))
        def offline_batch(self, records):
            """A terminal's upload, with duplicates (same or changed amount) inside it."""
            batch, expect = [], []
            first_in_batch = {}  # client id -> (member, amount, accepted?)
            for m, amount, dup in records:
                if dup != "new" and first_in_batch:
                    client_id = list(first_in_batch)[amount % len(first_in_batch)]
                    fm, famount, faccepted = first_in_batch[client_id]
                    if dup == "same":
                        batch.append({"client_id": client_id, "member": members[fm],
                                      "amount": famount})
                        expect.append(("exists" if faccepted else "refused", client_id))
                    else:
                        batch.append({"client_id": client_id, "member": members[fm],
                                      "amount": famount + 1})
                        expect.append(("exists_with_different_amount", client_id))
                    continue
                client_id = self.new_id("off")
                batch.append({"client_id": client_id, "member": members[m], "amount": amount})
                sub, rest, ok = self.split(m, amount, offline=True)[:3]
                accepted = ok and m not in self.model.closed
                first_in_batch[client_id] = (m, amount, accepted)
                if accepted:
                    self.move(subsidies[m].pk, b.pos1.pk, sub)
                    self.move(purses[m].pk, b.pos1.pk, rest)
                    self.model.purchases.append(Purchase(client_id, m, b.pos1.pk, sub, rest))
                    expect.append(("ok", client_id, [a for a in (sub, rest) if a], amount, m))
                else:
                    expect.append(("refused", client_id))
            results = actions.ingest_offline_purchases(
                group_customer_id=b.customer.pk, merchant_account=b.pos1, records=batch)
            assert len(results) == len(batch)
            for result, expected in zip(results, expect, strict=True):
                status, client_id = expected[:2]
                assert result.client_id == client_id
                if status == "ok":
                    amounts, amount, m = expected[2:]

                    def redo(value, m=m, client_id=client_id):
                        [again] = actions.ingest_offline_purchases(
                            group_customer_id=b.customer.pk, merchant_account=b.pos1,
                            records=[{"client_id": client_id, "member": members[m],
                                      "amount": value}])
                        return again
                    self.acknowledge(client_id, result, amounts, redo=redo, amount=amount,
                                     offline=True)
                elif status == "exists":
                    assert result.status == "exists", result
                    assert [t.pk for t in result.transfers] == \
                        self.model.acked[client_id].transfer_ids
                    OUTCOMES["offline_duplicate_exists"] += 1
                elif status == "refused":
                    assert result.status.startswith("rejected:"), result
                    assert not result.accepted
                    OUTCOMES["offline_" + result.status] += 1
                else:
                    assert result.status == status, result
                    OUTCOMES["offline_duplicate_changed"] += 1

        @precondition(lambda self: self.model.acked)
        @rule(i=pick)
        def retry_same(self, i):
            """The same request again: answered with the first transfers, nothing new."""
            retryable = [c for c, a in self.model.acked.items() if a.redo]
            if not retryable:
                return
            client_id = retryable[i % len(retryable)]
            ack = self.model.acked[client_id]
            before = self.count()
            result = ack.redo(ack.amount)
            assert result.status == "exists", result
            assert [t.pk for t in result.transfers] == ack.transfer_ids
            assert self.count() == before
            OUTCOMES["retry_same"] += 1

        @precondition(lambda self: self.model.acked)
        @rule(i=pick, delta=st.sampled_from([-1, 1, 100]))
        def retry_changed_amount(self, i, delta):
            """The same id with another amount: refused naming the amount, nothing new."""
            retryable = [c for c, a in self.model.acked.items()
                         if a.redo and 1 <= a.amount + delta <= (a.most or 10**9)]
            if not retryable:
                return
            client_id = retryable[i % len(retryable)]
            ack = self.model.acked[client_id]
            before = self.count()
            if ack.offline:
                result = ack.redo(ack.amount + delta)
                assert result.status == "exists_with_different_amount", result
            else:
                with pytest.raises(IdempotencyConflict) as info:
                    ack.redo(ack.amount + delta)
                assert info.value.code == "exists_with_different_amount"
            assert self.count() == before
            OUTCOMES["retry_changed_amount_offline" if ack.offline else "retry_changed_amount"] += 1

        @precondition(lambda self: self.model.purchases)
        @rule(i=pick, share=st.floats(0.01, 1.0))
        def refund(self, i, share):
            p = self.model.purchases[i % len(self.model.purchases)]
            total = p.subsidy_part + p.purse_part
            amount = max(1, int(total * share))
            client_id = self.new_id("refund")

            def redo(value, p=p, client_id=client_id):
                return actions.refund_purchase(actor=b.admin, purchase_client_id=p.client_id,
                                               group_customer=b.customer, amount=value,
                                               client_id=client_id)
            before = self.count()
            if p.refunded or p.member in self.model.closed:
                with pytest.raises(LedgerRefused) as info:
                    redo(amount)
                # A closed account is checked before the reversed-once rule.
                assert info.value.code == (Refusal.ACCOUNT_CLOSED if p.member in self.model.closed
                                           else Refusal.ALREADY_REVERSED)
                assert self.count() == before
                OUTCOMES[f"{info.value.code}"] += 1
                return
            result = redo(amount)
            to_purse = min(amount, p.purse_part)
            to_subsidy = amount - to_purse
            self.acknowledge(client_id, result, [a for a in (to_purse, to_subsidy) if a],
                             redo=redo, amount=amount, most=total)
            self.move(p.merchant, purses[p.member].pk, to_purse)
            self.move(p.merchant, subsidies[p.member].pk, to_subsidy)
            p.refunded = True

        @precondition(lambda self: self.model.top_ups)
        @rule(i=pick)
        def reverse_top_up(self, i):
            entry = self.model.top_ups[i % len(self.model.top_ups)]
            client_id, m, amount, reversed_, source = entry
            top_up = Transfer.objects.get(client_id=client_id, leg=0)
            new_id = self.new_id("rev")
            before = self.count()
            if reversed_ or m in self.model.closed or \
                    self.model.balance[purses[m].pk] - amount < 0:
                with pytest.raises(LedgerRefused) as info:
                    actions.reverse_transfer(actor=b.admin, transfer=top_up, client_id=new_id)
                assert info.value.code == (
                    Refusal.ACCOUNT_CLOSED if m in self.model.closed else
                    Refusal.ALREADY_REVERSED if reversed_ else Refusal.INSUFFICIENT_FUNDS)
                assert self.count() == before
                OUTCOMES[f"{info.value.code}"] += 1
                return
            result = actions.reverse_transfer(actor=b.admin, transfer=top_up, client_id=new_id)
            self.acknowledge(new_id, result, [amount])
            self.move(purses[m].pk, source, amount)
            entry[3] = True

        @rule(m=member_index, amount=st.integers(1, 3_000), delay=st.integers(1, 30))
        def grant_subsidy(self, m, amount, delay):
            # Expiries only move forward (see test_a_subsidy_granted_after_an_expiry_run_...):
            # every grant expires after every earlier one.
            self.last_expiry = max(self.last_expiry, self.minutes) + delay
            expires_at = base + dt.timedelta(minutes=self.last_expiry)
            client_id = self.new_id("grant")
            before = self.count()
            if m in self.model.closed:
                with pytest.raises(LedgerRefused) as info:
                    actions.grant_subsidy(actor=b.admin, member=members[m], amount=amount,
                                          client_id=client_id, expires_at=expires_at)
                assert info.value.code == Refusal.ACCOUNT_CLOSED
                assert self.count() == before
                OUTCOMES[f"{info.value.code}"] += 1
                return
            result = actions.grant_subsidy(actor=b.admin, member=members[m], amount=amount,
                                           client_id=client_id, expires_at=expires_at)
            self.acknowledge(client_id, result, [amount])
            self.move(b.equity.pk, subsidies[m].pk, amount)
            pk = subsidies[m].pk
            self.model.expires[pk] = max(self.model.expires.get(pk, expires_at), expires_at)

        @rule(minutes=st.integers(0, 40))
        def expire_subsidies(self, minutes):
            self.minutes += minutes
            now = base + dt.timedelta(minutes=self.minutes)
            due = {pk for m, s in enumerate(subsidies) for pk in [s.pk]
                   if m not in self.model.closed and pk in self.model.expires
                   and self.model.expires[pk] <= now and self.model.balance[pk] > 0}
            results = actions.expire_subsidies(actor=None, group_customer=b.customer, now=now)
            assert sorted(r.transfers[0].debit_account_id for r in results) == sorted(due)
            for result in results:
                pk = result.transfers[0].debit_account_id
                assert result.status == "ok", result
                self.acknowledge(result.client_id, result, [self.model.balance[pk]])
                self.move(pk, b.equity.pk, self.model.balance[pk])

        # Closing purses ends most of what a member can do: these two act one time in four.
        @rule(source=member_index, to=member_index, rare=st.integers(0, 3))
        def move_balance(self, source, to, rare):
            if source == to or rare:
                return
            client_id = self.new_id("move")
            before = self.count()
            call = lambda: actions.move_balance(  # noqa: E731
                actor=b.admin, source_member=members[source], target_member=members[to],
                client_id=client_id)
            if source in self.model.closed or to in self.model.closed or \
                    self.model.balance[purses[source].pk] < 0:
                # An overdrawn purse cannot be moved (its debt would be left on a closed
                # purse); the ledger refuses it as insufficient funds.
                with pytest.raises(LedgerRefused) as info:
                    call()
                closed = source in self.model.closed or to in self.model.closed
                assert info.value.code == (Refusal.ACCOUNT_CLOSED if closed
                                           else Refusal.INSUFFICIENT_FUNDS)
                assert self.count() == before
                OUTCOMES[f"{info.value.code}"] += 1
                return
            amounts = [self.model.balance[purses[source].pk],
                       self.model.balance[subsidies[source].pk]]
            result = call()
            self.acknowledge(client_id, result, amounts, redo=None)
            self.move(purses[source].pk, purses[to].pk, amounts[0])
            self.move(subsidies[source].pk, subsidies[to].pk, amounts[1])
            self.model.closed.add(source)

        @rule(m=member_index, rare=st.integers(0, 3))
        def deregister(self, m, rare):
            if rare:
                return
            client_id = self.new_id("dereg")
            before = self.count()
            call = lambda: actions.deregister_purses(  # noqa: E731
                actor=b.admin, member=members[m], client_id=client_id)
            if m in self.model.closed or self.model.balance[purses[m].pk] < 0:
                with pytest.raises(LedgerRefused) as info:
                    call()
                assert info.value.code == (Refusal.ACCOUNT_CLOSED if m in self.model.closed
                                           else Refusal.INSUFFICIENT_FUNDS)
                assert self.count() == before
                OUTCOMES[f"{info.value.code}"] += 1
                return
            amounts = [self.model.balance[purses[m].pk], self.model.balance[subsidies[m].pk]]
            result = call()
            self.acknowledge(client_id, result, amounts)
            self.move(purses[m].pk, b.refunds.pk, amounts[0])
            self.move(subsidies[m].pk, b.equity.pk, amounts[1])
            self.model.closed.add(m)

        # --- invariants -------------------------------------------------------------------

        @invariant()
        def books_balance(self):
            totals = Account.objects.aggregate(d=Sum("debits_posted"), c=Sum("credits_posted"))
            assert totals["d"] == totals["c"], totals
            report = verify_ledger()
            assert report.ok, report

        @invariant()
        def no_purse_below_its_floor(self):
            for m, purse in enumerate(purses):
                current = Account.objects.get(pk=purse.pk)
                assert current.available >= -overdraft[m], (m, current.available)
                assert current.overdraft_limit == overdraft[m]
            for subsidy in subsidies:
                assert Account.objects.get(pk=subsidy.pk).available >= 0

        @invariant()
        def accounts_hold_what_the_model_says(self):
            stored = dict(Account.objects.filter(group_customer=b.customer)
                          .values_list("pk", "credits_posted"))
            debits = dict(Account.objects.filter(group_customer=b.customer)
                          .values_list("pk", "debits_posted"))
            for pk in stored:
                assert stored[pk] - debits[pk] == self.model.balance[pk], pk
            closed = set(Account.objects.filter(status="closed").values_list("pk", flat=True))
            assert closed == {a.pk for m in self.model.closed
                              for a in (purses[m], subsidies[m])}

        @invariant()
        def every_acknowledged_client_id_is_stored_exactly_once(self):
            stored = defaultdict(list)
            for client_id, leg, amount, pk in Transfer.objects.order_by(
                    "client_id", "leg").values_list("client_id", "leg", "amount", "pk"):
                stored[client_id].append((leg, amount, pk))
            assert set(stored) == set(self.model.acked), \
                set(stored) ^ set(self.model.acked)
            for client_id, ack in self.model.acked.items():
                legs = stored[client_id]
                assert [leg for leg, _a, _p in legs] == list(range(len(ack.amounts)))
                assert [a for _l, a, _p in legs] == ack.amounts, client_id
                assert [p for _l, _a, p in legs] == ack.transfer_ids, client_id

    return LedgerMachine


def test_the_ledger_keeps_its_invariants_under_random_steps(books):
    OUTCOMES.clear()
    machine = make_machine(books)
    run_state_machine_as_test(machine, settings=settings(
        max_examples=EXAMPLES, stateful_step_count=STEPS, deadline=None, database=None,
        derandomize=not LONG_RUN,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    ))
    print("ledger state machine outcomes:", dict(sorted(OUTCOMES.items())))  # noqa: T201
    # The run reached every kind of step, accepted and refused (else it proved little).
    wanted = {"top:ok", "buy:ok", "off:ok", "refund:ok", "rev:ok", "grant:ok", "expiry:ok",
              "move:ok", "dereg:ok", "retry_same", "retry_changed_amount",
              "offline_duplicate_exists", "offline_duplicate_changed", "insufficient_funds",
              "account_closed"}
    assert wanted <= set(OUTCOMES), wanted - set(OUTCOMES)


# --- Regressions: bugs this machine found in the core, fixed -----------------------------------


def test_a_subsidy_granted_after_an_expiry_run_expires_too(books):
    admin = books.admin
    month_end = timezone.now() + dt.timedelta(days=30)
    actions.grant_subsidy(actor=admin, member=books.alice, amount=3000, client_id="s-1",
                          expires_at=month_end)
    [first] = actions.expire_subsidies(actor=None, group_customer=books.customer, now=month_end)
    assert first.status == "ok"
    actions.grant_subsidy(actor=admin, member=books.alice, amount=500, client_id="s-2")
    results = actions.expire_subsidies(actor=None, group_customer=books.customer,
                                       now=month_end + dt.timedelta(hours=1))
    assert [r.status for r in results] == ["ok"]
    assert books.balance(books.subsidy) == 0


def test_subsidy_credited_again_after_an_expiry_run_expires_too(books):
    admin = books.admin
    month_end = timezone.now() + dt.timedelta(days=30)
    actions.grant_subsidy(actor=admin, member=books.alice, amount=3000, client_id="s-1",
                          expires_at=month_end)
    actions.purchase(member=books.alice, merchant_account=books.pos1, amount=1000,
                     client_id="p-1")  # paid by the subsidy
    [first] = actions.expire_subsidies(actor=None, group_customer=books.customer, now=month_end)
    assert first.transfers[0].amount == 2000
    actions.refund_purchase(actor=admin, purchase_client_id="p-1",
                            group_customer=books.customer, amount=1000, client_id="rf-1")
    assert books.balance(books.subsidy) == 1000
    results = actions.expire_subsidies(actor=None, group_customer=books.customer,
                                       now=month_end + dt.timedelta(hours=1))
    assert [r.status for r in results] == ["ok"]
    assert books.balance(books.subsidy) == 0


def test_a_purchase_paid_by_subsidy_alone_does_not_need_the_purse(books):
    actions.set_overdraft_limit(actor=books.admin, account=books.purse, limit=1000)
    [off] = actions.ingest_offline_purchases(
        group_customer_id=books.customer.pk, merchant_account=books.pos1,
        records=[{"client_id": "off-1", "member": books.alice, "amount": 500}])
    assert off.status == "ok"
    actions.grant_subsidy(actor=books.admin, member=books.alice, amount=3000, client_id="s-1")
    result = actions.purchase(member=books.alice, merchant_account=books.pos1, amount=1000,
                              client_id="p-1")
    assert [(t.debit_account_id, t.amount) for t in result.transfers] == [
        (books.subsidy.pk, 1000)]
