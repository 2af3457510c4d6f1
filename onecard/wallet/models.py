"""The wallet ledger (钱包账本): double-entry accounts and immutable transfers, in integer fen.

Invariants (docs/adr/0005-wallet-ledger.md; each is tested):

* **Double entry.** A transfer moves ``amount`` from ``debit_account`` to ``credit_account``;
  the account totals are sums of transfers, so Σ credits_posted = Σ debits_posted over every
  account at every commit. On PostgreSQL a deferred trigger refuses a commit whose account
  changes do not match the transfers it inserted; ``onecard ledger verify`` recomputes all.
* **Immutable transfers.** Never updated or deleted (database triggers refuse it on SQLite and
  PostgreSQL). Corrections are reversals pointing at what they reverse, at most one per transfer.
* **Idempotent.** ``(group_customer, client_id, leg)`` is unique: a retry finds the first result.
* **Floors.** A purse's available balance (credits − debits − pending debits) never goes below
  minus its ``overdraft_limit`` (zero unless offline overdraft is configured): a check
  constraint has the last word.
* **Balances are not edited.** Only ``onecard.wallet.ledger`` changes account totals, under row
  locks taken in primary-key order, in the same transaction as the transfers.
"""

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .choices import AccountKind, AccountStatus, TransferKind, TransferPhase
from .querysets import AccountQuerySet, MerchantQuerySet, SpendingPolicyQuerySet, TransferQuerySet


class Merchant(models.Model):
    """A canteen window, shop or service point of one group customer that takes card payments.

    Its earnings sit on its main account and on one sub-account per terminal.
    """

    group_customer = models.ForeignKey("organizations.GroupCustomer", on_delete=models.PROTECT,
                                       related_name="merchants")
    name = models.CharField(_("name"), max_length=100)
    code = models.SlugField(_("code"), max_length=50)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = MerchantQuerySet.as_manager()

    class Meta:
        ordering = ["group_customer_id", "code"]
        constraints = [
            models.UniqueConstraint(fields=["group_customer", "code"],
                                    name="merchant_unique_code_per_customer",
                                    violation_error_message=_("A merchant with this code exists.")),
        ]

    def __str__(self):
        return self.name


class Account(models.Model):
    """One ledger account of one group customer. Balance = credits_posted − debits_posted.

    Purses are liabilities (positive balance = money owed to the member); cash drawers, clearing
    and the offline-overdraft receivable are assets (they run negative). Totals change only
    through ``onecard.wallet.ledger``.
    """

    group_customer = models.ForeignKey("organizations.GroupCustomer", on_delete=models.PROTECT,
                                       related_name="wallet_accounts")
    kind = models.CharField(_("kind"), max_length=24, choices=AccountKind.choices)
    member = models.ForeignKey("people.Member", null=True, blank=True, on_delete=models.PROTECT,
                               related_name="wallet_accounts")
    merchant = models.ForeignKey(Merchant, null=True, blank=True, on_delete=models.PROTECT,
                                 related_name="accounts")
    # Which terminal a merchant sub-account or cash drawer belongs to, or which provider a
    # clearing account is ("bank", "online"). Empty for the rest.
    code = models.CharField(_("code"), max_length=50, blank=True, default="")
    status = models.CharField(_("status"), max_length=8, choices=AccountStatus.choices,
                              default=AccountStatus.OPEN)
    floor_enforced = models.BooleanField(default=False)
    # How far below zero offline spending may take a purse (0: never).
    overdraft_limit = models.BigIntegerField(_("offline overdraft limit (fen)"), default=0)
    debits_posted = models.BigIntegerField(default=0)
    credits_posted = models.BigIntegerField(default=0)
    debits_pending = models.BigIntegerField(default=0)
    credits_pending = models.BigIntegerField(default=0)
    # Spending counter for daily limits (member purse only), in the customer's business day.
    spent_on = models.DateField(null=True, blank=True)
    spent_that_day = models.BigIntegerField(default=0)
    # When the subsidy on this purse expires back to the enterprise (subsidy purse only).
    subsidy_expires_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    objects = AccountQuerySet.as_manager()

    class Meta:
        ordering = ["group_customer_id", "kind", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(debits_posted__gte=0, credits_posted__gte=0, debits_pending__gte=0,
                            credits_pending__gte=0, overdraft_limit__gte=0),
                name="wallet_account_totals_not_negative",
            ),
            models.CheckConstraint(
                condition=Q(floor_enforced=False) | Q(
                    credits_posted__gte=F("debits_posted") + F("debits_pending")
                    - F("overdraft_limit")
                ),
                name="wallet_account_floor",
                violation_error_message=_("The balance would fall below the account's floor."),
            ),
            models.CheckConstraint(
                condition=Q(member__isnull=True) | Q(kind__in=[AccountKind.MEMBER_PURSE,
                                                             AccountKind.SUBSIDY_PURSE]),
                name="wallet_account_member_only_on_purses",
            ),
            models.UniqueConstraint(fields=["member", "kind"], condition=Q(member__isnull=False),
                                    name="wallet_one_purse_of_each_kind_per_member"),
            models.UniqueConstraint(fields=["merchant", "kind", "code"],
                                    condition=Q(merchant__isnull=False),
                                    name="wallet_merchant_account_unique"),
            models.UniqueConstraint(fields=["group_customer", "kind", "code"],
                                    condition=Q(member__isnull=True, merchant__isnull=True),
                                    name="wallet_customer_account_unique"),
        ]

    def __str__(self):
        label = self.get_kind_display()
        if self.code:
            label = f"{label} {self.code}"
        return f"{label} #{self.pk}"

    @property
    def balance(self):
        """Posted balance, credit-normal (what a purse holds)."""
        return self.credits_posted - self.debits_posted

    @property
    def available(self):
        """What may still be spent online: posted balance less held (pending) debits."""
        return self.credits_posted - self.debits_posted - self.debits_pending


class Transfer(models.Model):
    """An immutable movement of ``amount`` fen from ``debit_account`` to ``credit_account``.

    ``client_id`` is the caller's idempotency key; a request made of several linked transfers
    (all or nothing) stores them as legs 0, 1, … of the same client id. A pending transfer is
    settled by at most one ``post_pending`` or ``void_pending`` transfer pointing at it; a
    transfer is reversed (or refunded) by at most one transfer pointing at it.
    """

    # Every index costs each insert (this is the busiest table): the foreign keys are served by
    # the composite and partial indexes in Meta, not by an index each.
    group_customer = models.ForeignKey("organizations.GroupCustomer", on_delete=models.PROTECT,
                                       related_name="+", db_index=False)
    client_id = models.CharField(_("client id"), max_length=64)
    leg = models.PositiveSmallIntegerField(default=0)
    debit_account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="+",
                                      db_index=False)
    credit_account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="+",
                                       db_index=False)
    amount = models.BigIntegerField(_("amount (fen)"))
    kind = models.CharField(_("kind"), max_length=24, choices=TransferKind.choices)
    phase = models.CharField(max_length=16, choices=TransferPhase.choices,
                             default=TransferPhase.POSTED)
    pending = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT,
                                related_name="+", db_index=False)
    timeout_at = models.DateTimeField(null=True, blank=True)
    reverses = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT,
                                 related_name="+", db_index=False)
    # Who or what caused it.
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                              on_delete=models.PROTECT, related_name="+", db_index=False)
    terminal_code = models.CharField(max_length=50, blank=True, default="")
    card_number = models.CharField(max_length=32, blank=True, default="")
    offline = models.BooleanField(default=False)
    memo = models.CharField(max_length=200, blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now)

    objects = TransferQuerySet.as_manager()

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["group_customer", "client_id", "leg"],
                                    name="wallet_transfer_unique_client_id"),
            models.CheckConstraint(condition=Q(amount__gte=0) & Q(amount__lte=10**12),
                                   name="wallet_transfer_amount_in_range"),
            models.CheckConstraint(condition=~Q(debit_account=F("credit_account")),
                                   name="wallet_transfer_two_accounts"),
            models.UniqueConstraint(fields=["reverses"], condition=Q(reverses__isnull=False),
                                    name="wallet_transfer_reversed_once"),
            models.UniqueConstraint(fields=["pending"], condition=Q(pending__isnull=False),
                                    name="wallet_pending_settled_once"),
            models.CheckConstraint(
                condition=Q(pending__isnull=True)
                | Q(phase__in=[TransferPhase.POST_PENDING, TransferPhase.VOID_PENDING]),
                name="wallet_transfer_pending_only_when_settling",
            ),
        ]
        indexes = [
            models.Index(fields=["debit_account", "created_at"], name="wallet_tr_debit_time"),
            models.Index(fields=["credit_account", "created_at"], name="wallet_tr_credit_time"),
            models.Index(fields=["group_customer", "created_at"], name="wallet_tr_customer_time"),
            # Terminal purchases have no actor: they skip this index.
            models.Index(fields=["actor"], condition=Q(actor__isnull=False),
                         name="wallet_tr_actor"),
        ]

    def __str__(self):
        return f"{self.client_id}/{self.leg}: {self.amount} fen {self.kind}"

    def save(self, *args, **kwargs):
        if self.pk is not None and not kwargs.get("force_insert"):
            raise RuntimeError("Transfers are immutable: reverse, never edit.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise RuntimeError("Transfers are immutable: reverse, never delete.")


class SpendingPolicy(models.Model):
    """Spending limits for one member category of one group customer (null limit: none).

    ``pin_threshold``: purchases at or above it need the card PIN. ``offline_*``: what a
    terminal may approve without the platform (the terminal gateway enforces them on upload).
    """

    group_customer = models.ForeignKey("organizations.GroupCustomer", on_delete=models.PROTECT,
                                       related_name="spending_policies")
    category = models.CharField(_("member category"), max_length=16)
    per_transaction_limit = models.BigIntegerField(_("per-transaction limit (fen)"), null=True,
                                                   blank=True)
    daily_limit = models.BigIntegerField(_("daily limit (fen)"), null=True, blank=True)
    pin_threshold = models.BigIntegerField(_("PIN required from (fen)"), null=True, blank=True)
    offline_per_transaction_limit = models.BigIntegerField(null=True, blank=True)
    offline_daily_limit = models.BigIntegerField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = SpendingPolicyQuerySet.as_manager()

    class Meta:
        ordering = ["group_customer_id", "category"]
        constraints = [
            models.UniqueConstraint(fields=["group_customer", "category"],
                                    name="wallet_one_policy_per_category"),
            models.CheckConstraint(
                condition=(Q(per_transaction_limit__isnull=True) | Q(per_transaction_limit__gt=0))
                & (Q(daily_limit__isnull=True) | Q(daily_limit__gt=0))
                & (Q(pin_threshold__isnull=True) | Q(pin_threshold__gt=0))
                & (Q(offline_per_transaction_limit__isnull=True)
                   | Q(offline_per_transaction_limit__gt=0))
                & (Q(offline_daily_limit__isnull=True) | Q(offline_daily_limit__gt=0)),
                name="wallet_policy_limits_positive",
            ),
        ]

    def __str__(self):
        return f"{self.group_customer_id}/{self.category}"


# TransferKind is re-exported for callers that only import models.
__all__ = ["Account", "Merchant", "SpendingPolicy", "Transfer", "TransferKind"]
