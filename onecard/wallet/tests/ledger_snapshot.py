"""What a refused request must leave untouched: every account's totals and state, the
transfers and the audit chain. Shared by the wallet's proof tests."""

from dataclasses import dataclass

from onecard.audit.models import AuditRecord
from onecard.wallet.models import Account, Transfer

ACCOUNT_FIELDS = ("debits_posted", "credits_posted", "debits_pending", "credits_pending",
                  "status", "closed_at", "overdraft_limit", "spent_on", "spent_that_day",
                  "subsidy_expires_at")


@dataclass(frozen=True)
class LedgerSnapshot:
    accounts: dict  # account id -> tuple of ACCOUNT_FIELDS
    transfer_count: int
    transfer_ids: tuple
    audit_count: int

    def differences(self, other):
        """Human-readable list of what changed between two snapshots (empty: nothing)."""
        changes = []
        for pk in sorted(set(self.accounts) | set(other.accounts)):
            before, after = self.accounts.get(pk), other.accounts.get(pk)
            if before != after:
                changes.append(f"account {pk}: {before} -> {after}")
        if self.transfer_count != other.transfer_count:
            changes.append(f"transfers: {self.transfer_count} -> {other.transfer_count}")
        elif self.transfer_ids != other.transfer_ids:
            changes.append("transfer ids changed")
        if self.audit_count != other.audit_count:
            changes.append(f"audit records: {self.audit_count} -> {other.audit_count}")
        return changes


def snapshot():
    """The state of the whole ledger (all group customers) and the audit record count."""
    return LedgerSnapshot(
        accounts={row[0]: tuple(row[1:])
                  for row in Account.objects.order_by("pk").values_list("pk", *ACCOUNT_FIELDS)},
        transfer_count=Transfer.objects.count(),
        transfer_ids=tuple(Transfer.objects.order_by("pk").values_list("pk", flat=True)),
        audit_count=AuditRecord.objects.count(),
    )


def assert_unchanged(before):
    """Assert the ledger and audit chain are exactly as in ``before``."""
    changes = before.differences(snapshot())
    assert not changes, "a refused request changed the ledger: " + "; ".join(changes)
