"""Console pages for terminals: the registry list, a terminal's detail (state, last seen, skew,
refusal counters, alerts) with its transitions, and registering one (the enrolment code is
shown once). Every object comes through a gatekeeper; every POST calls one action."""

from django import forms
from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from onecard.accounts.choices import OPERATOR_STAFF, Role
from onecard.accounts.console.tables import paginate
from onecard.accounts.console.views import fetch_or_404, for_roles, form_status, run_action
from onecard.wallet.models import Merchant

from .. import actions
from ..choices import TERMINAL_TRANSITIONS, Frequency, TerminalKind, TerminalState
from ..models import Terminal
from ..querysets import customers_changeable_by

PAGE_ROLES = (*OPERATOR_STAFF, Role.ENTERPRISE_ADMIN, Role.INTEGRATOR_ENGINEER,
              Role.VENDOR_ENGINEER)
TRANSITIONS = {
    "disable": (actions.disable_terminal, TerminalState.DISABLED, gettext_lazy("Disable")),
    "enable": (actions.enable_terminal, TerminalState.ACTIVE, gettext_lazy("Enable")),
    "retire": (actions.retire_terminal, TerminalState.RETIRED, gettext_lazy("Retire")),
}


class TerminalForm(forms.Form):
    group_customer = forms.ModelChoiceField(queryset=None, label=gettext_lazy("group customer"))
    kind = forms.ChoiceField(choices=TerminalKind.choices, label=gettext_lazy("kind"))
    name = forms.CharField(max_length=100, label=gettext_lazy("name"))
    location = forms.CharField(max_length=200, required=False, label=gettext_lazy("location"))
    frequencies = forms.MultipleChoiceField(choices=Frequency.choices, required=False,
                                            widget=forms.CheckboxSelectMultiple,
                                            label=gettext_lazy("frequencies"))
    merchant = forms.ModelChoiceField(queryset=None, required=False,
                                      label=gettext_lazy("merchant (POS only)"))

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        customers = customers_changeable_by(user)
        self.fields["group_customer"].queryset = customers
        self.fields["merchant"].queryset = Merchant.objects.filter(group_customer__in=customers)


@require_GET
@for_roles(*PAGE_ROLES)
def terminal_list(request):
    terminals = Terminal.objects.visible_to(request.user).select_related("group_customer")
    state = request.GET.get("state", "")
    if state in TerminalState.values:
        terminals = terminals.filter(state=state)
    return render(request, "terminals/terminal_list.html", {
        "page": paginate(request, terminals),
        "states": TerminalState.choices, "state": state,
        "may_create": customers_changeable_by(request.user).exists(),
    })


@require_GET
@for_roles(*PAGE_ROLES)
def terminal_detail(request, pk):
    user = request.user
    terminal = fetch_or_404(Terminal.objects.select_related("group_customer", "vendor"), pk, user)
    may_change = Terminal.objects.changeable_by(user).filter(pk=terminal.pk).exists()
    return render(request, "terminals/terminal_detail.html", {
        "terminal": terminal, "alerts": terminal.alerts.all()[:50],
        "events": terminal.events.select_related("actor").order_by("-id")[:50],
        "may_change": may_change,
        "transitions": [{"url": reverse(f"console:terminal-{name}", args=[terminal.pk]),
                         "label": label}
                        for name, (_a, target, label) in TRANSITIONS.items()
                        if may_change and target in TERMINAL_TRANSITIONS[terminal.state]],
    })


@require_http_methods(["GET", "POST"])
@for_roles(Role.OPERATOR_ADMIN, Role.CUSTOMER_MANAGER, Role.ENTERPRISE_ADMIN)
def terminal_create(request):
    form = TerminalForm(request.POST or None, user=request.user)
    refused = None
    if request.method == "POST" and form.is_valid():
        registered, refused = run_action(form, actions.register_terminal, actor=request.user,
                                         **form.cleaned_data)
        if registered is not None:
            return render(request, "terminals/terminal_registered.html", {
                "terminal": registered.terminal, "code": registered.enrolment_code})
    return render(request, "terminals/terminal_form.html", {"form": form},
                  status=form_status(request, form, refused))


@require_POST
@for_roles(Role.OPERATOR_ADMIN, Role.CUSTOMER_MANAGER, Role.ENTERPRISE_ADMIN)
def terminal_transition(request, pk, name):
    if name not in TRANSITIONS:
        raise Http404
    terminal = fetch_or_404(Terminal.objects.all(), pk, request.user, for_change=True)
    form = forms.Form(request.POST)
    _done, refused = run_action(form, TRANSITIONS[name][0], actor=request.user,
                                terminal=terminal, reason=request.POST.get("reason", "")[:2000])
    if refused:
        messages.error(request, "; ".join(e for errors in form.errors.values() for e in errors))
    return redirect("console:terminal-detail", pk=terminal.pk)


@require_POST
@for_roles(Role.OPERATOR_ADMIN, Role.CUSTOMER_MANAGER, Role.ENTERPRISE_ADMIN)
def terminal_rotate(request, pk):
    terminal = fetch_or_404(Terminal.objects.all(), pk, request.user, for_change=True)
    form = forms.Form(request.POST)
    rotated, refused = run_action(form, actions.rotate_secret, actor=request.user,
                                  terminal=terminal)
    if refused:
        messages.error(request, _("The secret could not be rotated."))
        return redirect("console:terminal-detail", pk=terminal.pk)
    return render(request, "terminals/terminal_registered.html", {
        "terminal": rotated.terminal, "secret": rotated.secret})
