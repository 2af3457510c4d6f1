"""Read-side shaping for wallet pages. Only reads, through gatekeepers; amounts are shaped for
people here (yuan text), because the figures stay integer fen everywhere else."""

from django.db.models import Q

from onecard.core.money import yuan
from onecard.people.models import Member

from .. import reports
from ..choices import PURSE_KINDS, AccountKind
from ..models import Account, Merchant


def money(amount):
    """Integer fen as yuan text for a page: ``-1250`` → ``"-12.50"``; None stays None."""
    return None if amount is None else yuan(amount)


def reachable_members(user):
    """Members whose purses ``user`` may read (staff), or only themself (a member)."""
    members = Member.objects.select_related("group_customer")
    if user.role in reports.BOOKS_READER_ROLES:
        return members.filter(group_customer__in=reports.books_customers(user))
    if user.member_id:
        return members.filter(pk=user.member_id)
    return members.none()


def may_move_money(user, group_customer_id):
    return reports.books_customers(user, for_change=True).filter(pk=group_customer_id).exists()


def purses_of(member):
    """``{kind: account}`` of the member's purse and subsidy purse (either may be missing)."""
    return {a.kind: a for a in Account.objects.filter(member=member, kind__in=PURSE_KINDS)}


def purse_rows(user, customer, text):
    """Members of the customer (or every reachable one) with their two balances."""
    members = reachable_members(user).filter(status__in=["active", "suspended"])
    if customer is not None:
        members = members.filter(group_customer=customer)
    if text:
        text = text.strip()
        members = members.filter(Q(name__icontains=text) | Q(phone__contains=text)
                                 | Q(employee_number__icontains=text))
    return members.order_by("name", "id")


def balances_for(members):
    """``{member id: {"purse": "12.50", "subsidy": "0.00"}}`` for one page of members."""
    found = {}
    accounts = Account.objects.filter(member__in=[m.pk for m in members], kind__in=PURSE_KINDS)
    for account in accounts:
        key = "purse" if account.kind == AccountKind.MEMBER_PURSE else "subsidy"
        found.setdefault(account.member_id, {})[key] = money(account.balance)
    return found


def statement_lines(statement):
    """The statement's lines with amounts as yuan text, newest last."""
    return [{
        "line": line, "amount": money(line.amount), "change": money(line.change),
        "balance": money(line.balance),
        "purse": str(dict(AccountKind.choices).get(line.purse, line.purse)),
    } for line in statement.lines]


def figures(row, names):
    """``{name: yuan text}`` of the named fen figures of a report row."""
    return {name: money(getattr(row, name)) for name in names}


def merchants(user, customer):
    found = Merchant.objects.visible_to(user).filter(
        group_customer__in=reports.books_customers(user)).select_related("group_customer")
    if customer is not None:
        found = found.filter(group_customer=customer)
    return found.order_by("group_customer__name", "name", "id")
