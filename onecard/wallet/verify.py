"""``onecard ledger verify``: recompute every account from the transfers and check the books.

Reads only. For each account: posted debits and credits are the sums of its posted and
post-pending transfers; pending debits and credits are the sums of its holds not yet settled.
Every stored total must equal its recomputation, and over all accounts Σ credits − Σ debits is
zero. Anything else is drift, reported per account.
"""

from collections import defaultdict
from dataclasses import dataclass, field

from django.db.models import Sum

from .choices import TransferPhase
from .models import Account, Transfer

POSTING_PHASES = (TransferPhase.POSTED, TransferPhase.POST_PENDING)


@dataclass
class LedgerReport:
    accounts: int = 0
    transfers: int = 0
    total_debits: int = 0
    total_credits: int = 0
    drift: list = field(default_factory=list)  # (account id, label, field, stored, recomputed)
    below_floor: list = field(default_factory=list)  # (account id, label, available, floor)

    @property
    def ok(self):
        return not self.drift and not self.below_floor and self.total_debits == self.total_credits


def _sums(queryset, side):
    rows = queryset.values(side).annotate(total=Sum("amount")).values_list(side, "total")
    return defaultdict(int, {pk: total or 0 for pk, total in rows})


def verify_ledger(group_customer_id=None):
    """Recompute the books (of one group customer, or all) and report any drift."""
    transfers = Transfer.objects.all()
    accounts = Account.objects.all()
    if group_customer_id is not None:
        transfers = transfers.filter(group_customer_id=group_customer_id)
        accounts = accounts.filter(group_customer_id=group_customer_id)
    posting = transfers.filter(phase__in=POSTING_PHASES)
    settled = Transfer.objects.filter(pending__isnull=False).values("pending_id")
    open_holds = transfers.filter(phase=TransferPhase.PENDING).exclude(pk__in=settled)
    recomputed = {
        "debits_posted": _sums(posting, "debit_account_id"),
        "credits_posted": _sums(posting, "credit_account_id"),
        "debits_pending": _sums(open_holds, "debit_account_id"),
        "credits_pending": _sums(open_holds, "credit_account_id"),
    }
    report = LedgerReport(transfers=transfers.count())
    for account in accounts.iterator(chunk_size=2000):
        report.accounts += 1
        report.total_debits += account.debits_posted
        report.total_credits += account.credits_posted
        for name, sums in recomputed.items():
            stored, computed = getattr(account, name), sums[account.pk]
            if stored != computed:
                report.drift.append((account.pk, str(account), name, stored, computed))
        if account.floor_enforced and account.available < -account.overdraft_limit:
            report.below_floor.append((account.pk, str(account), account.available,
                                       -account.overdraft_limit))
    return report
