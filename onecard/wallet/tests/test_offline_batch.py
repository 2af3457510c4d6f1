"""An offline batch stores each record as it came: on PostgreSQL the rows travel as one array per
column that varies and one value per column that does not (``ledger._unnest_source``), so a
batch mixing constant and varying columns must come back field for field."""

from datetime import UTC, datetime, timedelta

from onecard.wallet import actions
from onecard.wallet.choices import AccountKind
from onecard.wallet.ledger import transfer_of
from onecard.wallet.models import Transfer

AT = datetime(2026, 11, 25, 4, 0, tzinfo=UTC)
FIELDS = ("client_id", "leg", "debit_account_id", "credit_account_id", "amount", "kind",
          "phase", "terminal_code", "card_number", "offline", "memo", "created_at",
          "pending_id", "reverses_id", "actor_id", "timeout_at")


def _stored(client_ids):
    return {(t.client_id, t.leg): tuple(getattr(t, name) for name in FIELDS)
            for t in Transfer.objects.filter(client_id__in=client_ids)}


def test_a_batch_stores_every_record_field_for_field(books):
    actions.top_up(actor=books.admin, member=books.alice, amount=5000, client_id="t-1",
                   source=books.drawer)
    actions.top_up(actor=books.admin, member=books.bob, amount=5000, client_id="t-2",
                   source=books.drawer)
    actions.grant_subsidy(actor=books.admin, member=books.bob, amount=150, client_id="s-1")
    overdraft = actions.customer_account(books.customer, AccountKind.OFFLINE_OVERDRAFT)
    records = [
        {"client_id": "off-1", "member": books.alice, "amount": 300, "created_at": AT,
         "card_number": "A-1"},
        # Bob's subsidy pays first: two legs, so the leg and debit columns vary.
        {"client_id": "off-2", "member": books.bob, "amount": 400,
         "created_at": AT + timedelta(minutes=1), "card_number": "B-1"},
        {"client_id": "off-3", "member": books.carol, "amount": 250,
         "created_at": AT + timedelta(minutes=2), "card_number": "C-1", "flagged": True},
    ]
    results = actions.ingest_offline_purchases(group_customer_id=books.customer.pk,
                                               merchant_account=books.pos1, records=records,
                                               terminal_code="T-9")
    assert [r.status for r in results] == ["ok", "ok", "ok"]

    def row(client_id, leg, debit, amount, card, minutes, memo=""):
        return (client_id, leg, debit, books.pos1.pk, amount, "purchase", "posted", "T-9",
                card, True, memo, AT + timedelta(minutes=minutes), None, None, None, None)

    assert _stored(["off-1", "off-2", "off-3"]) == {
        ("off-1", 0): row("off-1", 0, books.purse.pk, 300, "A-1", 0),
        ("off-2", 0): row("off-2", 0, books.bob_subsidy.pk, 150, "B-1", 1),
        ("off-2", 1): row("off-2", 1, books.bob_purse.pk, 250, "B-1", 1),
        ("off-3", 0): row("off-3", 0, overdraft.pk, 250, "C-1", 2,
                          memo=f"flagged:member {books.carol.pk}"),
    }
    assert [t.pk for r in results for t in r.transfers] == sorted(
        Transfer.objects.filter(client_id__in=["off-1", "off-2", "off-3"])
        .values_list("pk", flat=True))


def test_a_batch_of_identical_rows_but_the_client_id(books):
    """Every column but the client id is constant: one array, the rest single values."""
    actions.top_up(actor=books.admin, member=books.alice, amount=5000, client_id="t-1",
                   source=books.drawer)
    records = [{"client_id": f"same-{i}", "member": books.alice, "amount": 100,
                "created_at": AT, "card_number": "A-1"} for i in range(3)]
    results = actions.ingest_offline_purchases(group_customer_id=books.customer.pk,
                                               merchant_account=books.pos1, records=records)
    assert [r.status for r in results] == ["ok"] * 3
    stored = _stored([r["client_id"] for r in records])
    assert sorted(stored) == [(f"same-{i}", 0) for i in range(3)]
    assert {values[1:] for values in stored.values()} == {
        (0, books.purse.pk, books.pos1.pk, 100, "purchase", "posted", "", "A-1", True, "", AT,
         None, None, None, None)}
    assert books.balance(books.purse) == 4700


def test_transfer_of_makes_the_model_init_would(books):
    actions.top_up(actor=books.admin, member=books.alice, amount=500, client_id="t-1",
                   source=books.drawer)
    stored = Transfer.objects.get(client_id="t-1")
    values = tuple(getattr(stored, f.attname) for f in Transfer._meta.concrete_fields)
    made, unsaved = transfer_of(values), transfer_of((None, *values[1:]))
    assert {f.attname: getattr(made, f.attname) for f in Transfer._meta.concrete_fields} == {
        f.attname: getattr(stored, f.attname) for f in Transfer._meta.concrete_fields}
    assert made == stored and str(made) == str(stored)
    assert (made._state.adding, unsaved._state.adding) == (False, True)
    assert made.credit_account == books.purse  # relations load as on any instance
