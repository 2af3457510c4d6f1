"""Offline purchases flagged for review (a card already denied at upload time): charged to the
customer's offline-overdraft receivable, the merchant paid, the member's purses untouched."""

from datetime import UTC, datetime

from onecard.wallet import actions
from onecard.wallet.choices import AccountKind
from onecard.wallet.models import Transfer

AT = datetime(2026, 11, 25, 4, 0, tzinfo=UTC)


def test_flagged_record_debits_the_overdraft_receivable(books):
    overdraft = actions.customer_account(books.customer, AccountKind.OFFLINE_OVERDRAFT)
    record = {"client_id": "flag-1", "member": books.alice, "amount": 800, "created_at": AT,
              "card_number": "8986", "flagged": True}
    normal = {"client_id": "plain-1", "member": books.alice, "amount": 100, "created_at": AT,
              "card_number": "8986"}
    results = actions.ingest_offline_purchases(group_customer_id=books.customer.pk,
                                               merchant_account=books.pos1,
                                               records=[record, normal], terminal_code="T-1")
    assert [r.status for r in results] == ["ok", "rejected:insufficient_funds"]
    transfer = Transfer.objects.get(client_id="flag-1")
    assert (transfer.debit_account_id, transfer.credit_account_id, transfer.amount,
            transfer.kind, transfer.offline) == (overdraft.pk, books.pos1.pk, 800, "purchase",
                                                 True)
    assert (books.balance(overdraft), books.balance(books.pos1)) == (-800, 800)
    assert (books.balance(books.purse), books.balance(books.subsidy)) == (0, 0)
    count = Transfer.objects.count()
    again = actions.ingest_offline_purchases(group_customer_id=books.customer.pk,
                                             merchant_account=books.pos1, records=[record],
                                             terminal_code="T-1")
    assert [r.status for r in again] == ["exists"]
    changed = actions.ingest_offline_purchases(
        group_customer_id=books.customer.pk, merchant_account=books.pos1,
        records=[{**record, "amount": 900}], terminal_code="T-1")
    assert [r.status for r in changed] == ["exists_with_different_amount"]
    assert Transfer.objects.count() == count
    assert books.balance(overdraft) == -800
