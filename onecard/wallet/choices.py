"""Choice sets of the wallet ledger."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class AccountKind(models.TextChoices):
    # What the member has paid in; owed to the member (负债). One per member; survives cards.
    MEMBER_PURSE = "member_purse", _("Member purse")
    # What the enterprise granted the member; may expire back to the enterprise.
    SUBSIDY_PURSE = "subsidy_purse", _("Subsidy purse")
    # What a merchant has earned and not yet been paid out (its own main account).
    MERCHANT = "merchant", _("Merchant")
    # One per merchant terminal, so one busy merchant is not one hot row.
    MERCHANT_TERMINAL = "merchant_terminal", _("Merchant terminal")
    # Cash taken in at one top-up terminal or counter (an asset: it runs negative).
    CASH_DRAWER = "cash_drawer", _("Cash drawer")
    # Money at a bank or online payment provider, on its way in or out.
    EXTERNAL_CLEARING = "external_clearing", _("External clearing")
    # Balances owed back to departed members until paid out.
    REFUNDS_PAYABLE = "refunds_payable", _("Refunds payable")
    # The operator's fees.
    FEE_INCOME = "fee_income", _("Fee income")
    # What cards spent offline beyond their purse; collected later.
    OFFLINE_OVERDRAFT = "offline_overdraft", _("Offline overdraft receivable")
    # Where money enters and leaves explicitly: opening balances, subsidy funding and expiry.
    EQUITY = "equity", _("Equity / opening")


PURSE_KINDS = frozenset({AccountKind.MEMBER_PURSE, AccountKind.SUBSIDY_PURSE})
# One of each per group customer (cash drawers and clearing are keyed by a code instead).
SINGLETON_KINDS = (AccountKind.REFUNDS_PAYABLE, AccountKind.FEE_INCOME,
                   AccountKind.OFFLINE_OVERDRAFT, AccountKind.EQUITY)


class AccountStatus(models.TextChoices):
    # Takes transfers.
    OPEN = "open", _("Open")
    # Refuses every transfer; kept for history. Closed only by a closing transfer.
    CLOSED = "closed", _("Closed")


class TransferKind(models.TextChoices):
    TOP_UP = "top_up", _("Top-up")  # 充值
    PURCHASE = "purchase", _("Purchase")  # 消费
    REFUND = "refund", _("Refund")  # 退款
    REVERSAL = "reversal", _("Reversal")  # 冲正
    SUBSIDY_GRANT = "subsidy_grant", _("Subsidy grant")  # 补贴发放
    SUBSIDY_EXPIRY = "subsidy_expiry", _("Subsidy expiry")  # 补贴过期
    BALANCE_MOVE = "balance_move", _("Balance move")  # 余额转移
    DEREGISTRATION = "deregistration", _("Deregistration refund")  # 销户退款
    PAYOUT = "payout", _("Payout")  # 商户结算
    FEE = "fee", _("Fee")  # 手续费
    OFFLINE_OVERDRAFT = "offline_overdraft", _("Offline overdraft")  # 脱机透支


class TransferPhase(models.TextChoices):
    # Moved money now: adds to both accounts' posted totals.
    POSTED = "posted", _("Posted")
    # Holds money: adds to both accounts' pending totals until posted or voided.
    PENDING = "pending", _("Pending")
    # Settles a pending transfer (for at most its amount): pending released, posted added.
    POST_PENDING = "post_pending", _("Post pending")
    # Releases a pending transfer without moving money (also when it times out).
    VOID_PENDING = "void_pending", _("Void pending")


# Codes of the refusals a money request can get; the API answers them as "code".
class Refusal:
    INSUFFICIENT_FUNDS = "insufficient_funds"
    LIMIT_PER_TRANSACTION = "limit_per_transaction"
    LIMIT_DAILY = "limit_daily"
    PIN_REQUIRED = "pin_required"
    ACCOUNT_CLOSED = "account_closed"
    ALREADY_REVERSED = "already_reversed"
    REVERSAL_EXCEEDS_TRANSFER = "reversal_exceeds_transfer"
    PENDING_ALREADY_RESOLVED = "pending_already_resolved"
    PENDING_EXPIRED = "pending_expired"
    POST_EXCEEDS_PENDING = "post_exceeds_pending"
    OFFLINE_LIMIT = "offline_limit"
    NOT_POSTED = "not_posted"
