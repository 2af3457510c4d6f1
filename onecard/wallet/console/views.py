"""Console pages of the wallet: purses and statements, the counter's top-up, refund and reversal
forms, merchants with their daily statement, and the day-end reconciliation (each report also
as .xlsx).

Every object comes through a gatekeeper (404 when missing or out of reach); a role that does not
read the books gets 404 for every page; every POST calls ONE action and shows its refusal on
the form.
"""

import re
from datetime import timedelta

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from onecard.accounts.choices import Role
from onecard.accounts.console.tables import paginate
from onecard.accounts.console.views import fetch_or_404, for_roles, form_status, run_action
from onecard.core.money import yuan
from onecard.people.models import Member

from .. import actions, reports
from ..choices import PURSE_KINDS
from ..models import Account, Merchant, Transfer
from . import tables
from .forms import DateRangeForm, DayForm, RefundForm, ReversalForm, TopUpForm

READER_ROLES = tuple(sorted(reports.BOOKS_READER_ROLES))
WRITER_ROLES = tuple(sorted(reports.BOOKS_WRITER_ROLES))
XLSX = reports.XLSX
STATEMENT_DAYS = 30


def _xlsx(content, name):
    response = HttpResponse(content, content_type=XLSX)
    safe = re.sub(r"[^A-Za-z0-9_.-]", "_", name)
    response["Content-Disposition"] = f'attachment; filename="{safe}.xlsx"'
    return response


def _chosen_customer(request, customers):
    """The enterprise admin's own customer, or the one ``?group_customer=`` names (404 when
    out of reach); None when operator staff named none."""
    user = request.user
    if user.role == Role.ENTERPRISE_ADMIN:
        return customers.filter(pk=user.group_customer_id).first()
    raw = request.GET.get("group_customer", "")
    if not raw:
        return None
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 18):
        raise Http404
    customer = customers.filter(pk=int(raw)).first()
    if customer is None:
        raise Http404
    return customer


def _customer_choices(request, customers):
    """Customers offered to operator staff in a page's customer picker."""
    if request.user.role == Role.ENTERPRISE_ADMIN:
        return []
    return list(customers.order_by("name", "id")[:500])


def _day_form(request):
    return DayForm(request.GET if "day" in request.GET else None)


def _query_without(request, *names):
    query = request.GET.copy()
    for name in names:
        query.pop(name, None)
    return query.urlencode()


# --- Purses and statements --------------------------------------------------------------------


@require_GET
@for_roles(*READER_ROLES)
def purse_list(request):
    user = request.user
    customers = reports.books_customers(user)
    customer = _chosen_customer(request, customers)
    text = request.GET.get("q", "")[:100]
    page = paginate(request, tables.purse_rows(user, customer, text))
    balances = tables.balances_for(page.object_list)
    return render(request, "wallet/purse_list.html", {
        "page": page, "customer": customer, "q": text,
        "customers": _customer_choices(request, customers),
        "rows": [{"member": m, **balances.get(m.pk, {})} for m in page.object_list],
    })


@require_GET
@for_roles(Role.MEMBER)
def my_purse(request):
    if not request.user.member_id:
        raise Http404
    return redirect("console:wallet-member-purse", pk=request.user.member_id)


def _statement_period(request):
    today = reports.business_today()
    bound = "start" in request.GET or "end" in request.GET
    form = DateRangeForm(request.GET if bound else None,
                         initial={"start": today - timedelta(days=STATEMENT_DAYS - 1),
                                  "end": today})
    start, end = form.period(today - timedelta(days=STATEMENT_DAYS - 1), today)
    return form, start, end


@require_GET
@for_roles(*READER_ROLES, Role.MEMBER)
def member_purse(request, pk):
    """A member's purse and subsidy purse, and their statement over a date range."""
    user = request.user
    member = fetch_or_404(tables.reachable_members(user), pk, user)
    form, start, end = _statement_period(request)
    statement = reports.member_statement(member, start, end)
    purses = tables.purses_of(member)
    may_change = user.role in WRITER_ROLES and tables.may_move_money(user, member.group_customer_id)
    return render(request, "wallet/member_purse.html", {
        "member": member, "form": form, "statement": statement,
        "purses": [{"account": a, "balance": yuan(a.balance), "available": yuan(a.available)}
                   for a in sorted(purses.values(), key=lambda a: a.kind)],
        "opening": yuan(statement.opening), "closing": yuan(statement.closing),
        "lines": tables.statement_lines(statement),
        "period_end": end - timedelta(days=1),
        "may_change": may_change and len(purses) == len(PURSE_KINDS),
        "export_url": (f"{reverse('console:wallet-member-statement-export', args=[member.pk])}"
                       f"?{request.GET.urlencode()}"),
    }, status=400 if form.is_bound and form.errors else 200)


@require_GET
@for_roles(*READER_ROLES, Role.MEMBER)
def member_statement_export(request, pk):
    user = request.user
    member = fetch_or_404(tables.reachable_members(user), pk, user)
    form, start, end = _statement_period(request)
    if form.is_bound and form.errors:
        messages.error(request, _("Choose a valid date range to export."))
        return redirect("console:wallet-member-purse", pk=member.pk)
    content = reports.member_statement_xlsx(reports.member_statement(member, start, end))
    return _xlsx(content, f"statement-{member.pk}-{start:%Y%m%d}")


# --- Money forms ------------------------------------------------------------------------------


def _posted_message(request, result, done):
    if result.status == "exists":
        messages.info(request, _("This was already recorded; nothing was posted again."))
    else:
        messages.success(request, done)


@require_http_methods(["GET", "POST"])
@for_roles(*WRITER_ROLES)
def top_up(request, pk):
    """Counter top-up: cash from a drawer onto the member's purse."""
    user = request.user
    member = fetch_or_404(
        Member.objects.select_related("group_customer").filter(
            group_customer__in=reports.books_customers(user, for_change=True)), pk, user)
    form = TopUpForm(request.POST if request.method == "POST" else None,
                     group_customer=member.group_customer)
    refused = None
    if len(tables.purses_of(member)) != len(PURSE_KINDS):
        form.add_error(None, _("This member has no purse."))
        refused = 400
    elif request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        result, refused = run_action(form, actions.top_up, actor=user, member=member,
                                     amount=data["amount"], client_id=data["client_id"],
                                     source=data["source"])
        if not refused:
            _posted_message(request, result, _("¥%(amount)s was topped up onto %(name)s's purse.")
                            % {"amount": yuan(data["amount"]), "name": member.name})
            return redirect("console:wallet-member-purse", pk=member.pk)
    return render(request, "wallet/money_form.html", {
        "form": form, "title": _("Counter top-up"), "subject": member,
        "back_url": reverse("console:wallet-member-purse", args=[member.pk]),
        "button": _("Top up"),
    }, status=form_status(request, form, refused) if request.method == "POST" else 200)


@require_http_methods(["GET", "POST"])
@for_roles(*WRITER_ROLES)
def refund(request):
    """Refund (part of) a purchase found by its client id in one customer's books."""
    user = request.user
    customers = reports.books_customers(user, for_change=True)
    customer = _chosen_customer(request, customers)
    if customer is None:
        return render(request, "wallet/choose_customer.html", {
            "customers": _customer_choices(request, customers), "title": _("Refund a purchase"),
            "action_url": reverse("console:wallet-refund"),
        })
    form = RefundForm(request.POST if request.method == "POST" else None)
    refused = None
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        result, refused = run_action(
            form, actions.refund_purchase, field_map={"purchase": "purchase_client_id"},
            actor=user, purchase_client_id=data["purchase_client_id"], group_customer=customer,
            amount=data["amount"], client_id=data["client_id"], reason=data["reason"],
        )
        if not refused:
            _posted_message(request, result, _("¥%(amount)s of purchase %(purchase)s was "
                                               "refunded.")
                            % {"amount": yuan(data["amount"]),
                               "purchase": data["purchase_client_id"]})
            return redirect(_after_posting(result.transfers[0], customer))
    return render(request, "wallet/money_form.html", {
        "form": form, "title": _("Refund a purchase"), "subject": customer,
        "back_url": reverse("console:wallet-merchant-list"), "button": _("Refund"),
    }, status=form_status(request, form, refused) if request.method == "POST" else 200)


def _after_posting(transfer, customer):
    """Where to go after a correction: the member's purse it touched, else the merchants."""
    member_id = (Account.objects.filter(
        pk__in=[transfer.credit_account_id, transfer.debit_account_id], member__isnull=False)
        .order_by("pk").values_list("member_id", flat=True).first())
    if member_id is not None:
        return reverse("console:wallet-member-purse", args=[member_id])
    url = reverse("console:wallet-merchant-list")
    return url if customer is None else f"{url}?group_customer={customer.pk}"


@require_http_methods(["GET", "POST"])
@for_roles(*WRITER_ROLES)
def reverse_transfer(request, pk):
    """Reverse (冲正) all or part of one transfer."""
    user = request.user
    transfer = fetch_or_404(
        Transfer.objects.select_related("debit_account", "credit_account").filter(
            group_customer__in=reports.books_customers(user, for_change=True)), pk, user)
    form = ReversalForm(request.POST if request.method == "POST" else None)
    refused = None
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        result, refused = run_action(form, actions.reverse_transfer, actor=user,
                                     transfer=transfer, client_id=data["client_id"],
                                     amount=data["amount"], reason=data["reason"])
        if not refused:
            moved = result.transfers[0].amount
            _posted_message(request, result, _("¥%(amount)s of transfer %(transfer)s was "
                                               "reversed.")
                            % {"amount": yuan(moved), "transfer": transfer.client_id})
            return redirect(_after_posting(transfer, None))
    return render(request, "wallet/money_form.html", {
        "form": form, "title": _("Reverse a transfer"), "subject": transfer,
        "transfer": transfer, "transfer_amount": yuan(transfer.amount),
        "back_url": _after_posting(transfer, None), "button": _("Reverse"),
    }, status=form_status(request, form, refused) if request.method == "POST" else 200)


# --- Merchants --------------------------------------------------------------------------------


@require_GET
@for_roles(*READER_ROLES)
def merchant_list(request):
    user = request.user
    customers = reports.books_customers(user)
    customer = _chosen_customer(request, customers)
    page = paginate(request, tables.merchants(user, customer).prefetch_related("accounts"))
    return render(request, "wallet/merchant_list.html", {
        "page": page, "customer": customer, "customers": _customer_choices(request, customers),
        "rows": [{"merchant": m, "balance": yuan(sum(a.balance for a in m.accounts.all())),
                  "terminals": sum(1 for a in m.accounts.all() if a.code)}
                 for m in page.object_list],
        "may_refund": user.role in WRITER_ROLES,
    })


def _merchant(request, pk):
    user = request.user
    return fetch_or_404(Merchant.objects.select_related("group_customer").filter(
        group_customer__in=reports.books_customers(user)), pk, user)


MERCHANT_FIGURES = ("opening", "purchases", "refunds", "fees", "payouts", "other", "net",
                    "closing")


@require_GET
@for_roles(*READER_ROLES)
def merchant_daily(request, pk):
    merchant = _merchant(request, pk)
    form = _day_form(request)
    day = form.day_or(reports.business_today())
    statement = reports.merchant_daily_statement(merchant, day)
    return render(request, "wallet/merchant_daily.html", {
        "merchant": merchant, "form": form, "day": day, "statement": statement,
        "rows": [{"row": r, **tables.figures(r, MERCHANT_FIGURES)} for r in statement.rows],
        "total": {"row": statement.total, **tables.figures(statement.total, MERCHANT_FIGURES)},
        "export_url": (f"{reverse('console:wallet-merchant-daily-export', args=[merchant.pk])}"
                       f"?day={day.isoformat()}"),
    }, status=400 if form.is_bound and form.errors else 200)


@require_GET
@for_roles(*READER_ROLES)
def merchant_daily_export(request, pk):
    merchant = _merchant(request, pk)
    day = _day_form(request).day_or(reports.business_today())
    content = reports.merchant_daily_statement_xlsx(
        reports.merchant_daily_statement(merchant, day))
    return _xlsx(content, f"merchant-{merchant.code}-{day:%Y%m%d}")


# --- Day-end reconciliation -------------------------------------------------------------------

KIND_FIGURES = ("opening", "debits", "credits", "closing", "stored")


@require_GET
@for_roles(*READER_ROLES)
def reconciliation(request):
    customers = reports.books_customers(request.user)
    customer = _chosen_customer(request, customers)
    form = _day_form(request)
    day = form.day_or(reports.business_today())
    context = {"customer": customer, "customers": _customer_choices(request, customers),
               "form": form, "day": day, "report": None}
    if customer is not None:
        report = reports.reconciliation(customer, day)
        context.update({
            "report": report,
            "rows": [{"row": r, **tables.figures(r, KIND_FIGURES)} for r in report.rows],
            "total": {"row": report.total, **tables.figures(report.total, KIND_FIGURES)},
            "export_url": (f"{reverse('console:wallet-reconciliation-export')}"
                           f"?{_query_without(request, 'page')}"),
        })
    return render(request, "wallet/reconciliation.html", context,
                  status=400 if form.is_bound and form.errors else 200)


@require_GET
@for_roles(*READER_ROLES)
def reconciliation_export(request):
    customer = _chosen_customer(request, reports.books_customers(request.user))
    if customer is None:
        messages.error(request, _("Choose a group customer to export its reconciliation."))
        return redirect("console:wallet-reconciliation")
    day = _day_form(request).day_or(reports.business_today())
    content = reports.reconciliation_xlsx(reports.reconciliation(customer, day))
    return _xlsx(content, f"reconciliation-{customer.code}-{day:%Y%m%d}")
