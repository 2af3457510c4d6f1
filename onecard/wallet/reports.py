"""Ledger reports: a member's statement, a merchant's daily statement and the day-end
reconciliation of one group customer, each also as an .xlsx workbook. Reads only.

Every figure is an integer sum of fen from the transfers themselves (posted and post-pending
phases move money; holds and voids do not). Days are business days in the platform's time zone
(``settings.TIME_ZONE``, Asia/Shanghai): a day runs from local midnight to the next. Callers
fetch the member, merchant or group customer through a gatekeeper first; ``books_customers``
says whose books a person may read or change.
"""

import io
import unicodedata
from dataclasses import asdict, dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.db.models import Count, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from onecard.accounts.choices import OPERATOR_STAFF, Role
from onecard.core.gatekeepers import is_active_user

from .choices import PURSE_KINDS, AccountKind, TransferKind
from .models import Account, Transfer
from .verify import POSTING_PHASES

# Who may read the books at all. The account/transfer gatekeepers also let integrator engineers
# through (they see their counties' customers); money is not their business.
BOOKS_READER_ROLES = frozenset({*OPERATOR_STAFF, Role.ENTERPRISE_ADMIN})
# Who may move money by hand (mirrors ``actions._require_staff``).
BOOKS_WRITER_ROLES = frozenset({Role.OPERATOR_ADMIN, Role.CUSTOMER_MANAGER,
                                Role.ENTERPRISE_ADMIN})
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MONEY_FORMAT = "#,##0.00"
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def books_customers(user, *, for_change=False):
    """Group customers whose books ``user`` may read (or move money in), as a queryset."""
    from onecard.organizations.models import GroupCustomer

    customers = GroupCustomer.objects.all()
    if not is_active_user(user):
        return customers.none()
    if for_change:
        if user.role not in BOOKS_WRITER_ROLES:
            return customers.none()
        if user.role == Role.ENTERPRISE_ADMIN:
            return customers.visible_to(user).filter(pk=user.group_customer_id)
        return customers.changeable_by(user)
    if user.role not in BOOKS_READER_ROLES:
        return customers.none()
    return customers.visible_to(user)


# --- Days and moments -------------------------------------------------------------------------


def business_timezone():
    return timezone.get_default_timezone()


def business_today():
    return timezone.localdate(timezone=business_timezone())


def day_start(day):
    """Local midnight at the start of ``day``, as an aware datetime."""
    return timezone.make_aware(datetime.combine(day, time.min), business_timezone())


def moment(value):
    """A date means its local midnight; a datetime must be aware."""
    if isinstance(value, datetime):
        if timezone.is_naive(value):
            raise ValueError("Naive datetime: pass an aware one or a date.")
        return value
    if isinstance(value, date):
        return day_start(value)
    raise TypeError(f"Expected a date or datetime, not {type(value).__name__}.")


def _posting():
    return Transfer.objects.filter(phase__in=POSTING_PHASES)


def _sums_by(queryset, key):
    """``{key value: sum of amount}`` over ``queryset``, as ints."""
    rows = queryset.order_by().values(key).annotate(total=Sum("amount")).values_list(key, "total")
    return {value: int(total or 0) for value, total in rows}


def _balances_before(account_ids, when):
    """Posted balance (credits − debits) of each account from the transfers before ``when``."""
    before = _posting().filter(created_at__lt=when)
    credits = _sums_by(before.filter(credit_account_id__in=account_ids), "credit_account_id")
    debits = _sums_by(before.filter(debit_account_id__in=account_ids), "debit_account_id")
    return {pk: credits.get(pk, 0) - debits.get(pk, 0) for pk in account_ids}


def _account_label(account):
    if account.merchant_id is not None:
        name = account.merchant.name
        return f"{name} {account.code}".strip() if account.code else name
    return str(account)


# --- A member's statement -----------------------------------------------------------------


@dataclass
class StatementLine:
    """One transfer as seen from one purse: ``change`` is what it did to the purse's posted
    balance (zero for a hold or a void), ``balance`` the purse's running balance after it."""

    transfer_id: int
    created_at: datetime
    client_id: str
    leg: int
    kind: str
    kind_label: str
    phase: str
    purse: str
    purse_account: int
    counterparty: str
    counterparty_account: int
    amount: int
    change: int
    balance: int
    memo: str
    terminal_code: str
    reverses: int | None


@dataclass
class PurseFigures:
    account: int
    kind: str
    label: str
    opening: int
    credits: int
    debits: int
    closing: int


@dataclass
class MemberStatement:
    member_id: int
    member_name: str
    start: datetime
    end: datetime
    purses: list
    lines: list

    @property
    def opening(self):
        return sum(p.opening for p in self.purses)

    @property
    def closing(self):
        return sum(p.closing for p in self.purses)

    def as_dict(self):
        return {
            "member": self.member_id, "member_name": self.member_name,
            "start": self.start.isoformat(), "end": self.end.isoformat(),
            "opening": self.opening, "closing": self.closing,
            "purses": [asdict(p) for p in self.purses],
            "lines": [{**asdict(line), "created_at": line.created_at.isoformat()}
                      for line in self.lines],
        }


def member_statement(member, start, end):
    """Opening balance, every transfer touching the member's purse and subsidy purse with
    ``start <= created_at < end`` (dates mean local midnight) and the running balance of each
    purse after it, and the closing balance."""
    start, end = moment(start), moment(end)
    if end < start:
        raise ValueError("The statement ends before it starts.")
    purses = list(Account.objects.filter(member=member, kind__in=PURSE_KINDS)
                  .order_by("kind", "pk"))  # member_purse before subsidy_purse
    ids = [p.pk for p in purses]
    running = _balances_before(ids, start)
    figures = {p.pk: PurseFigures(p.pk, p.kind, p.get_kind_display(), running[p.pk], 0, 0, 0)
               for p in purses}
    transfers = (Transfer.objects.touching(ids)
                 .filter(created_at__gte=start, created_at__lt=end)
                 .select_related("debit_account__merchant", "credit_account__merchant")
                 .order_by("created_at", "pk"))
    lines = []
    for transfer in transfers:
        sides = ((transfer.credit_account, transfer.debit_account, 1),
                 (transfer.debit_account, transfer.credit_account, -1))
        for own, other, sign in sides:
            if own.pk not in figures:
                continue
            change = sign * transfer.amount if transfer.phase in POSTING_PHASES else 0
            purse = figures[own.pk]
            if change > 0:
                purse.credits += change
            else:
                purse.debits -= change
            running[own.pk] += change
            lines.append(StatementLine(
                transfer_id=transfer.pk, created_at=transfer.created_at,
                client_id=transfer.client_id, leg=transfer.leg, kind=transfer.kind,
                kind_label=transfer.get_kind_display(), phase=transfer.phase,
                purse=own.kind, purse_account=own.pk, counterparty=_account_label(other),
                counterparty_account=other.pk, amount=transfer.amount, change=change,
                balance=running[own.pk], memo=transfer.memo,
                terminal_code=transfer.terminal_code, reverses=transfer.reverses_id,
            ))
    for purse in figures.values():
        purse.closing = purse.opening + purse.credits - purse.debits
    return MemberStatement(member.pk, member.name, start, end, list(figures.values()), lines)


# --- A merchant's daily statement ---------------------------------------------------------


@dataclass
class MerchantRow:
    """One merchant account's day. ``net`` = credits − debits of the day; ``other`` is what
    is not a purchase, refund, fee or payout (e.g. a reversed fee), so that
    ``purchases − refunds − fees − payouts + other = net`` and ``opening + net = closing``."""

    account: int | None
    code: str
    label: str
    opening: int = 0
    purchases_count: int = 0
    purchases: int = 0
    refunds_count: int = 0
    refunds: int = 0
    fees: int = 0
    payouts: int = 0
    other: int = 0
    net: int = 0
    closing: int = 0


SUMMED = ("opening", "purchases_count", "purchases", "refunds_count", "refunds", "fees",
          "payouts", "other", "net", "closing")


@dataclass
class MerchantDailyStatement:
    merchant_id: int
    merchant_name: str
    day: date
    rows: list
    total: MerchantRow

    def as_dict(self):
        return {"merchant": self.merchant_id, "merchant_name": self.merchant_name,
                "day": self.day.isoformat(), "accounts": [asdict(r) for r in self.rows],
                "total": asdict(self.total)}


def merchant_daily_statement(merchant, day):
    """Per merchant account (main, then one per terminal) and in total: purchases (count,
    sum), refunds and reversals, fees, payouts and the net of one business ``day``."""
    start, end = day_start(day), day_start(day + timedelta(days=1))
    accounts = list(merchant.accounts.order_by("kind", "code", "pk"))
    ids = [a.pk for a in accounts]
    opening = _balances_before(ids, start)
    during = _posting().filter(created_at__gte=start, created_at__lt=end)
    credits = (during.filter(credit_account_id__in=ids).order_by()
               .values_list("credit_account_id", "kind")
               .annotate(total=Sum("amount"), requests=Count("client_id", distinct=True)))
    debits = (during.filter(debit_account_id__in=ids).order_by()
              .values_list("debit_account_id", "kind")
              .annotate(total=Sum("amount"), requests=Count("client_id", distinct=True)))
    rows = {a.pk: MerchantRow(a.pk, a.code, _account_label(a), opening=opening[a.pk])
            for a in accounts}
    for pk, kind, total, requests in credits:
        row, total = rows[pk], int(total or 0)
        row.net += total
        if kind == TransferKind.PURCHASE:
            row.purchases += total
            row.purchases_count += requests
    for pk, kind, total, requests in debits:
        row, total = rows[pk], int(total or 0)
        row.net -= total
        if kind in (TransferKind.REFUND, TransferKind.REVERSAL):
            row.refunds += total
            row.refunds_count += requests
        elif kind == TransferKind.FEE:
            row.fees += total
        elif kind == TransferKind.PAYOUT:
            row.payouts += total
    total = MerchantRow(None, "", _("Total"))
    for row in rows.values():
        row.other = row.net - (row.purchases - row.refunds - row.fees - row.payouts)
        row.closing = row.opening + row.net
        for name in SUMMED:
            setattr(total, name, getattr(total, name) + getattr(row, name))
    return MerchantDailyStatement(merchant.pk, merchant.name, day, list(rows.values()), total)


# --- Day-end reconciliation -----------------------------------------------------------------


@dataclass
class KindRow:
    """One account kind's day. ``closing`` is recomputed from every transfer before the day's
    end (not from opening + movements), so ``balanced`` is a real check; ``stored`` is the sum
    of the accounts' stored balances, compared only when the day is today."""

    kind: str
    label: str
    accounts: int = 0
    opening: int = 0
    debits: int = 0
    credits: int = 0
    closing: int = 0
    stored: int | None = None

    @property
    def balanced(self):
        return self.opening + self.credits - self.debits == self.closing

    @property
    def matches_stored(self):
        return None if self.stored is None else self.stored == self.closing


@dataclass
class Reconciliation:
    group_customer_id: int
    group_customer_name: str
    day: date
    is_today: bool
    transfers: int
    rows: list
    total: KindRow

    @property
    def balanced(self):
        """Every kind balances, matches the stored balances (today), and the books sum to
        zero at the opening and the closing with debits equal to credits."""
        return (all(r.balanced and r.matches_stored is not False for r in self.rows)
                and self.total.opening == 0 and self.total.closing == 0
                and self.total.debits == self.total.credits
                and self.total.matches_stored is not False)

    def as_dict(self):
        def row(r):
            return {**asdict(r), "balanced": r.balanced, "matches_stored": r.matches_stored}

        return {"group_customer": self.group_customer_id,
                "group_customer_name": self.group_customer_name, "day": self.day.isoformat(),
                "is_today": self.is_today, "transfers": self.transfers,
                "balanced": self.balanced, "kinds": [row(r) for r in self.rows],
                "total": row(self.total)}


def reconciliation(group_customer, day):
    """Per account kind: opening balance, debits and credits of the business ``day``, closing
    balance; checked as described on ``KindRow`` and ``Reconciliation.balanced``."""
    start, end = day_start(day), day_start(day + timedelta(days=1))
    posting = _posting().filter(group_customer=group_customer)

    def by_kind(queryset):
        credits = _sums_by(queryset, "credit_account__kind")
        debits = _sums_by(queryset, "debit_account__kind")
        return credits, debits

    credits_before, debits_before = by_kind(posting.filter(created_at__lt=start))
    credits_during, debits_during = by_kind(posting.filter(created_at__gte=start,
                                                           created_at__lt=end))
    credits_to_end, debits_to_end = by_kind(posting.filter(created_at__lt=end))
    is_today = day == business_today()
    accounts = Account.objects.filter(group_customer=group_customer).order_by()
    counts = dict(accounts.values_list("kind").annotate(n=Count("pk")))
    stored = {}
    if is_today:
        for kind, credit, debit in (accounts.values_list("kind")
                                    .annotate(c=Sum("credits_posted"), d=Sum("debits_posted"))):
            stored[kind] = int(credit or 0) - int(debit or 0)
    rows = []
    total = KindRow("", _("Total"), stored=0 if is_today else None)
    for kind, label in AccountKind.choices:
        row = KindRow(
            kind, str(label), accounts=counts.get(kind, 0),
            opening=credits_before.get(kind, 0) - debits_before.get(kind, 0),
            debits=debits_during.get(kind, 0), credits=credits_during.get(kind, 0),
            closing=credits_to_end.get(kind, 0) - debits_to_end.get(kind, 0),
            stored=stored.get(kind, 0) if is_today else None,
        )
        rows.append(row)
        for name in ("accounts", "opening", "debits", "credits", "closing"):
            setattr(total, name, getattr(total, name) + getattr(row, name))
        if is_today:
            total.stored += row.stored
    transfers = Transfer.objects.filter(group_customer=group_customer, created_at__gte=start,
                                        created_at__lt=end).count()
    return Reconciliation(group_customer.pk, group_customer.name, day, is_today, transfers,
                          rows, total)


# --- .xlsx exports ------------------------------------------------------------------------------


def yuan_value(amount):
    """Integer fen as an exact Decimal of yuan with two places (``1250`` → ``12.50``)."""
    return Decimal(int(amount)).scaleb(-2)


class _Sheet:
    """A write-only worksheet with text, money and date cells; text never runs as a formula."""

    def __init__(self, workbook, title, widths):
        from openpyxl.utils import get_column_letter

        self.sheet = workbook.create_sheet(title)
        for index, width in enumerate(widths, start=1):
            self.sheet.column_dimensions[get_column_letter(index)].width = width

    def text(self, value):
        from openpyxl.cell import WriteOnlyCell

        text = "" if value is None else str(value)
        text = "".join(ch for ch in text if ch in "\t\n\r" or unicodedata.category(ch) != "Cc")
        cell = WriteOnlyCell(self.sheet, value=text)
        cell.data_type = "s"
        if text.startswith(FORMULA_PREFIXES):
            cell.quotePrefix = True
        return cell

    def money(self, amount):
        from openpyxl.cell import WriteOnlyCell

        cell = WriteOnlyCell(self.sheet, value=yuan_value(amount))
        cell.number_format = MONEY_FORMAT
        return cell

    def when(self, value):
        from openpyxl.cell import WriteOnlyCell

        local = timezone.localtime(value, business_timezone()).replace(tzinfo=None)
        cell = WriteOnlyCell(self.sheet, value=local)
        cell.number_format = "yyyy-mm-dd hh:mm:ss"
        return cell

    def row(self, *cells):
        self.sheet.append([c if not isinstance(c, str | type(None)) else self.text(c)
                           for c in cells])


def _save(workbook):
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _local(value):
    return timezone.localtime(value, business_timezone()).strftime("%Y-%m-%d %H:%M")


def member_statement_xlsx(statement):
    """The statement as a workbook: a summary per purse, then one row per line."""
    import openpyxl

    workbook = openpyxl.Workbook(write_only=True)
    sheet = _Sheet(workbook, _("Statement"), [20, 18, 16, 18, 24, 14, 14, 14, 24])
    sheet.row(_("Member statement"), statement.member_name)
    sheet.row(_("From"), _local(statement.start), _("Until"), _local(statement.end))
    sheet.row()
    sheet.row(_("Purse"), _("Opening balance"), _("Credits"), _("Debits"), _("Closing balance"))
    for purse in statement.purses:
        sheet.row(purse.label, sheet.money(purse.opening), sheet.money(purse.credits),
                  sheet.money(purse.debits), sheet.money(purse.closing))
    sheet.row(_("Total"), sheet.money(statement.opening), None, None,
              sheet.money(statement.closing))
    sheet.row()
    sheet.row(_("Time"), _("Purse"), _("Kind"), _("Client id"), _("Counterparty"),
              _("Amount (¥)"), _("Change (¥)"), _("Balance (¥)"), _("Memo"))
    labels = dict(AccountKind.choices)
    for line in statement.lines:
        sheet.row(sheet.when(line.created_at), str(labels.get(line.purse, line.purse)),
                  line.kind_label, line.client_id, line.counterparty, sheet.money(line.amount),
                  sheet.money(line.change), sheet.money(line.balance), line.memo)
    return _save(workbook)


def merchant_daily_statement_xlsx(statement):
    import openpyxl

    workbook = openpyxl.Workbook(write_only=True)
    sheet = _Sheet(workbook, _("Daily statement"), [24, 14, 10, 14, 10, 14, 12, 14, 12, 14, 14])
    sheet.row(_("Merchant daily statement"), statement.merchant_name, statement.day.isoformat())
    sheet.row()
    sheet.row(_("Account"), _("Opening balance"), _("Purchases"), _("Purchases (¥)"),
              _("Refunds"), _("Refunds (¥)"), _("Fees (¥)"), _("Payouts (¥)"), _("Other (¥)"),
              _("Net (¥)"), _("Closing balance"))
    for row in [*statement.rows, statement.total]:
        sheet.row(row.label, sheet.money(row.opening), row.purchases_count,
                  sheet.money(row.purchases), row.refunds_count, sheet.money(row.refunds),
                  sheet.money(row.fees), sheet.money(row.payouts), sheet.money(row.other),
                  sheet.money(row.net), sheet.money(row.closing))
    return _save(workbook)


def reconciliation_xlsx(report):
    import openpyxl

    workbook = openpyxl.Workbook(write_only=True)
    sheet = _Sheet(workbook, _("Reconciliation"), [30, 10, 16, 16, 16, 16, 16, 12])
    sheet.row(_("Day-end reconciliation"), report.group_customer_name, report.day.isoformat())
    sheet.row(_("Balanced") if report.balanced else _("NOT BALANCED"))
    sheet.row()
    sheet.row(_("Account kind"), _("Accounts"), _("Opening balance"), _("Debits"), _("Credits"),
              _("Closing balance"), _("Stored balance"), _("Check"))
    for row in [*report.rows, report.total]:
        sheet.row(row.label, row.accounts, sheet.money(row.opening), sheet.money(row.debits),
                  sheet.money(row.credits), sheet.money(row.closing),
                  sheet.money(row.stored) if row.stored is not None else "",
                  _("OK") if row.balanced and row.matches_stored is not False else _("Drift"))
    return _save(workbook)


__all__ = [
    "BOOKS_READER_ROLES", "BOOKS_WRITER_ROLES", "MemberStatement", "MerchantDailyStatement",
    "Reconciliation", "books_customers", "business_today", "day_start", "member_statement",
    "member_statement_xlsx", "merchant_daily_statement", "merchant_daily_statement_xlsx",
    "reconciliation", "reconciliation_xlsx",
]
