"""Console pages of the card stock: the list (by branch and status), receiving a batch pasted
as CSV lines, and assigning, returning or scrapping cards named by number.

Every object comes through a gatekeeper; every POST calls ONE action and shows its refusal on
the form (400/403/409), naming the line at fault.
"""

import csv
import io

from django import forms
from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.views.decorators.http import require_GET, require_http_methods

from onecard.accounts.choices import Role
from onecard.accounts.console.forms import ConsoleForm
from onecard.accounts.console.tables import paginate
from onecard.accounts.console.views import for_roles, form_status, run_action
from onecard.core.errors import DomainError
from onecard.organizations.models import Branch, GroupCustomer

from ..actions import stock
from ..choices import CardMedium, CardStatus
from ..models import Card

READER_ROLES = (Role.OPERATOR_ADMIN, Role.CUSTOMER_MANAGER, Role.INTEGRATOR_ENGINEER)
KEEPER_ROLES = tuple(sorted(stock.STOCK_ROLES))
MAX_LINES_CHARS = 200_000


def _branches(user):
    branches = Branch.objects.visible_to(user)
    if user.role == Role.CUSTOMER_MANAGER and user.branch is not None:
        branches = branches.subtree_of(user.branch)
    return branches


class ReceiveForm(ConsoleForm):
    branch = forms.ModelChoiceField(queryset=Branch.objects.none(), label=_lazy("branch"))
    medium = forms.ChoiceField(choices=CardMedium.choices, label=_lazy("medium"))
    prepared = forms.BooleanField(required=False, label=_lazy("pre-prepared (备卡)"))
    lines = forms.CharField(
        label=_lazy("Cards"), max_length=MAX_LINES_CHARS, widget=forms.Textarea(attrs={"rows": 8}),
        help_text=_lazy("One card per line. RFID-SIM: number,ICCID,IMSI. IC card: UID,chip type "
                        "(m1 or cpu)."))

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["branch"].queryset = _branches(user)

    def rows(self):
        """The pasted lines as the action's row dicts (blank lines skipped)."""
        names = (["number", "iccid", "imsi"] if self.cleaned_data["medium"] == CardMedium.RFID_SIM
                 else ["number", "chip_type"])
        rows = []
        for values in csv.reader(io.StringIO(self.cleaned_data["lines"])):
            values = [value.strip() for value in values]
            if not any(values):
                continue
            rows.append(dict(zip(names, values, strict=False)))
        return rows


OPERATIONS = (("assign", _lazy("Assign to a group customer")),
              ("return", _lazy("Return to stock")), ("scrap", _lazy("Scrap")))


class MoveForm(ConsoleForm):
    operation = forms.ChoiceField(choices=OPERATIONS, label=_lazy("Operation"))
    numbers = forms.CharField(label=_lazy("Card numbers"), max_length=MAX_LINES_CHARS,
                              widget=forms.Textarea(attrs={"rows": 6}),
                              help_text=_lazy("One card number per line."))
    group_customer = forms.ModelChoiceField(queryset=GroupCustomer.objects.none(),
                                            required=False, label=_lazy("group customer"))
    reason = forms.CharField(required=False, max_length=500, label=_lazy("Reason"))

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["group_customer"].queryset = GroupCustomer.objects.changeable_by(user)
        self.user = user

    def clean(self):
        data = super().clean()
        numbers = [line.strip().upper() for line in data.get("numbers", "").splitlines()
                   if line.strip()]
        if "numbers" in data and not numbers:
            self.add_error("numbers", _("Enter at least one card number."))
        found = {card.number: card for card in
                 Card.objects.changeable_by(self.user).filter(number__in=numbers)}
        unknown = [number for number in numbers if number not in found]
        if unknown:
            self.add_error("numbers", _("Unknown card: %(number)s.") % {"number": unknown[0]})
        data["cards"] = [found[n] for n in numbers if n in found]
        if data.get("operation") == "assign" and not data.get("group_customer"):
            self.add_error("group_customer", _("Choose the group customer."))
        if data.get("operation") == "scrap" and len(data["cards"]) > 1:
            self.add_error("numbers", _("Scrap one card at a time."))
        return data


@require_GET
@for_roles(*READER_ROLES)
def stock_list(request):
    cards = Card.objects.visible_to(request.user).select_related("branch", "group_customer")
    branch = request.GET.get("branch", "")
    chosen_status = request.GET.get("status", "")
    if branch.isascii() and branch.isdigit() and len(branch) <= 18:
        cards = cards.filter(branch_id=int(branch))
    if chosen_status in CardStatus.values:
        cards = cards.filter(status=chosen_status)
    return render(request, "cards/stock_list.html", {
        "page": paginate(request, cards.order_by("-id")),
        "branches": _branches(request.user) if request.user.role != Role.INTEGRATOR_ENGINEER
        else [], "statuses": CardStatus.choices, "branch": branch, "status": chosen_status,
        "may_keep": request.user.role in KEEPER_ROLES,
    })


@require_http_methods(["GET", "POST"])
@for_roles(*KEEPER_ROLES)
def stock_receive(request):
    form = ReceiveForm(request.POST or None, user=request.user)
    refused = None
    if request.method == "POST" and form.is_valid():
        try:
            cards = stock.receive_cards(actor=request.user, branch=form.cleaned_data["branch"],
                                        medium=form.cleaned_data["medium"],
                                        prepared=form.cleaned_data["prepared"],
                                        cards=form.rows())
        except DomainError as refusal:
            # "Row N" counts the cards pasted (blank lines are skipped).
            form.add_error("lines" if (refusal.field or "").startswith("cards")
                           else None, refusal.message)
            refused = refusal.status_code
        else:
            messages.success(request, _("%(count)s cards received.") % {"count": len(cards)})
            return redirect("console:card-stock-list")
    return render(request, "cards/stock_form.html", {
        "form": form, "title": _("Receive cards"), "button": _("Receive"),
    }, status=form_status(request, form, refused))


@require_http_methods(["GET", "POST"])
@for_roles(*KEEPER_ROLES)
def stock_move(request):
    form = MoveForm(request.POST or None, user=request.user)
    refused = None
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        if data["operation"] == "assign":
            result, refused = run_action(form, stock.assign_cards, field_map={"cards": "numbers"},
                                         actor=request.user, cards=data["cards"],
                                         group_customer=data["group_customer"])
        elif data["operation"] == "return":
            result, refused = run_action(form, stock.return_cards, field_map={"cards": "numbers"},
                                         actor=request.user, cards=data["cards"])
        else:
            result, refused = run_action(form, stock.scrap_card, field_map={"status": "numbers"},
                                         actor=request.user, card=data["cards"][0],
                                         reason=data["reason"])
        if result is not None:
            messages.success(request, _("Done."))
            return redirect("console:card-stock-list")
    return render(request, "cards/stock_form.html", {
        "form": form, "title": _("Assign, return or scrap cards"), "button": _("Apply"),
    }, status=form_status(request, form, refused))


urlpatterns = [
    path("cards/stock/", stock_list, name="card-stock-list"),
    path("cards/stock/receive/", stock_receive, name="card-stock-receive"),
    path("cards/stock/move/", stock_move, name="card-stock-move"),
]
