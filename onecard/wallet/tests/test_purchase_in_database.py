"""PostgreSQL's one-statement purchase (``wallet_purchase``, migration 0004) against the posting
engine: the same script of purchases, on two customers set up alike, once through each path,
must give the same answers, refusals, messages and account totals.

Customer A's purchases go through the database function, customer B's through ``ledger.post``
(``PURCHASE_IN_DATABASE`` switched off). Account ids differ between the customers, so answers
are compared by role ("m0.purse", "pos"...).
"""

from datetime import timedelta

import pytest
from django.db import connection

from onecard.core.errors import DomainError, NotFound
from onecard.people.actions import create_member
from onecard.wallet import actions
from onecard.wallet.choices import AccountKind
from onecard.wallet.models import Account, Transfer
from onecard.wallet.verify import verify_ledger

pytestmark = pytest.mark.postgres

# (member index, amount, client id, pin verified, merchant: "own" or "foreign")
SCRIPT = [
    (0, 500, "c1", False, "own"),        # the subsidy pays it all
    (0, 800, "c2", False, "own"),        # 500 subsidy + 300 purse
    (0, 800, "c2", False, "own"),        # a retry: exists
    (0, 700, "c2", False, "own"),        # exists_with_different_amount
    (0, 20_001, "c3", False, "own"),     # limit_per_transaction
    (0, 10_000, "c4", False, "own"),     # pin_required
    (0, 10_000, "c4", True, "own"),      # insufficient_funds (the purse holds 4,700)
    (1, 400, "c5", False, "own"),        # insufficient_funds (the purse holds 300)
    (2, 100, "c6", False, "own"),        # account_closed (deregistered)
    (0, 25_000, "c1", False, "own"),     # a retry over the limit: exists_with_different_amount
    (1, 300, "c7", False, "own"),        # the purse pays it all, down to zero
    (1, 400, "c5", False, "own"),        # still insufficient_funds: a refusal stores nothing
    (0, 1_800, "c8", True, "own"),       # limit_daily: 1,300 spent + 1,800 > 3,000
    (0, 1_700, "c9", False, "own"),      # exactly up to the daily limit
    (0, 1, "c10", False, "own"),         # limit_daily
    (1, 100, "c1", False, "own"),        # another member's client id: ..._different_payer
    (0, 100, "c11", False, "foreign"),   # another customer's merchant account: not found
    (3, 100, "c12", False, "own"),       # a member without purses: invalid input
    (0, 100, "c9", False, "foreign"),    # a retry at a foreign merchant: not found first
]


def _set_up(world, tag):
    customer = getattr(world, f"customer_{tag}")
    admin = getattr(world, f"ent_admin_{tag}")
    members = list(getattr(world, f"members_{tag}"))
    actions.open_ledger(actor=admin, group_customer=customer)
    roles = {}
    for index, member in enumerate(members):
        purse, subsidy = actions.open_purses(actor=admin, member=member)
        roles[purse.pk], roles[subsidy.pk] = f"m{index}.purse", f"m{index}.subsidy"
    members.append(create_member(actor=world.manager, group_customer=customer,
                                 name=f"No purse {tag}", phone=f"1390000000{ord(tag) % 10}",
                                 employee_number=f"NP{tag}"))
    merchant = actions.create_merchant(actor=admin, group_customer=customer, name="Canteen",
                                       code="canteen")
    pos = actions.open_merchant_terminal_account(actor=admin, merchant=merchant, code="POS-1")
    drawer = actions.open_cash_drawer(actor=admin, group_customer=customer, code="COUNTER-1")
    roles[pos.pk], roles[drawer.pk] = "pos", "drawer"
    actions.set_spending_policy(actor=admin, group_customer=customer,
                                category=members[0].category, per_transaction_limit=20_000,
                                daily_limit=3_000, pin_threshold=10_000)
    actions.top_up(actor=None, member=members[0], amount=5_000, client_id="t0", source=drawer)
    actions.top_up(actor=None, member=members[1], amount=300, client_id="t1", source=drawer)
    actions.grant_subsidy(actor=admin, member=members[0], amount=1_000, client_id="s0",
                          expires_at=None)
    actions.deregister_purses(actor=admin, member=members[2], client_id="d2")
    for account in Account.objects.filter(group_customer=customer):
        roles.setdefault(account.pk, f"{account.kind}:{account.code}")
    return members, pos, roles


def _run(members, pos, roles, foreign):
    labels = {str(Account.objects.get(pk=pk)): role for pk, role in roles.items()}
    answers = []
    for index, amount, client_id, pin, merchant in SCRIPT:
        try:
            result = actions.purchase(
                member=members[index], merchant_account=pos if merchant == "own" else foreign,
                amount=amount, client_id=client_id, pin_verified=pin, terminal_code="T1",
                card_number="C1")
        except DomainError as error:
            message = str(error.message)
            for label, role in labels.items():
                message = message.replace(label, role)
            answers.append((type(error).__name__, error.code, error.field, message))
            continue
        except NotFound:
            answers.append(("NotFound",))
            continue
        answers.append((result.status, [(t.leg, roles[t.debit_account_id],
                                         roles[t.credit_account_id], t.amount, t.kind)
                                        for t in result.transfers]))
    return answers


def _totals(roles):
    return {role: Account.objects.filter(pk=pk).values_list(
        "debits_posted", "credits_posted", "debits_pending", "credits_pending", "status",
        "spent_on", "spent_that_day").get() for pk, role in roles.items()}


def test_the_database_function_answers_as_the_engine(world, monkeypatch):
    assert connection.vendor == "postgresql"
    members_a, pos_a, roles_a = _set_up(world, "a")
    members_b, pos_b, roles_b = _set_up(world, "b")
    before = Transfer.objects.count()

    in_database = _run(members_a, pos_a, roles_a, foreign=pos_b)
    monkeypatch.setattr(actions, "PURCHASE_IN_DATABASE", False)
    in_engine = _run(members_b, pos_b, roles_b, foreign=pos_a)

    assert in_database == in_engine
    assert [answer[0] for answer in in_database] == [
        "ok", "ok", "exists", "IdempotencyConflict", "LedgerRefused", "LedgerRefused",
        "LedgerRefused", "LedgerRefused", "LedgerRefused", "IdempotencyConflict", "ok",
        "LedgerRefused", "LedgerRefused", "ok", "LedgerRefused", "IdempotencyConflict",
        "NotFound", "InvalidInput", "NotFound"]
    assert [answer[1] for answer in in_database if answer[0] == "LedgerRefused"] == [
        "limit_per_transaction", "pin_required", "insufficient_funds", "insufficient_funds",
        "account_closed", "insufficient_funds", "limit_daily", "limit_daily"]
    assert in_database[1][1] == [(0, "m0.subsidy", "pos", 500, "purchase"),
                                 (1, "m0.purse", "pos", 300, "purchase")]
    assert _totals(roles_a) == _totals(roles_b)
    # Four purchases, five legs, on each customer; refusals stored nothing.
    assert Transfer.objects.count() - before == 2 * 5
    assert verify_ledger().ok


def test_the_database_function_answers_the_balances_after(books):
    actions.top_up(actor=None, member=books.alice, amount=1_000, client_id="t",
                   source=books.drawer)
    actions.grant_subsidy(actor=books.admin, member=books.alice, amount=150, client_id="s",
                          expires_at=None)
    result = actions.purchase(member=books.alice, merchant_account=books.pos1, amount=400,
                              client_id="p1")
    assert result.balances == {AccountKind.MEMBER_PURSE: 750, AccountKind.SUBSIDY_PURSE: 0}
    assert (books.balance(books.purse), books.balance(books.subsidy)) == (750, 0)
    retry = actions.purchase(member=books.alice, merchant_account=books.pos1, amount=400,
                             client_id="p1")
    assert retry.status == "exists" and retry.balances is None
    assert [t.pk for t in retry.transfers] == [t.pk for t in result.transfers]


def test_the_daily_counter_starts_again_the_next_day(books):
    actions.top_up(actor=None, member=books.alice, amount=1_000, client_id="t",
                   source=books.drawer)
    actions.purchase(member=books.alice, merchant_account=books.pos1, amount=100,
                     client_id="p1")
    tomorrow = actions.timezone.now() + timedelta(days=1)
    actions.purchase(member=books.alice, merchant_account=books.pos1, amount=100,
                     client_id="p2", created_at=tomorrow)
    books.purse.refresh_from_db()
    assert (books.purse.spent_on, books.purse.spent_that_day) == (
        actions.timezone.localdate(tomorrow), 100)
