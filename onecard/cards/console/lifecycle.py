"""Console pages of the card lifecycle: the card list, a card's page with its applications,
events, bindings and calibrations, one form per lifecycle action, and the member's "My card"
with a self-service loss report.

Every object comes through a gatekeeper (404 when missing or out of reach); every POST calls ONE
action and shows its refusal on the form.
"""

import uuid
from dataclasses import dataclass

from django.contrib import messages
from django.db.models import Q
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from onecard.accounts.choices import OPERATOR_STAFF, Role
from onecard.accounts.console.tables import paginate
from onecard.accounts.console.views import fetch_or_404, for_roles, form_status, run_action
from onecard.people.choices import MemberStatus
from onecard.people.models import Member

from ..actions import lifecycle as actions
from ..choices import LIVE_STATUSES, CardStatus, SuspensionScope
from ..models import Card, CardApplication
from ..querysets import customers_changeable_by
from . import forms

CARD_PAGE_ROLES = (*OPERATOR_STAFF, Role.ENTERPRISE_ADMIN, Role.INTEGRATOR_ENGINEER)
CARD_WRITER_ROLES = (Role.OPERATOR_ADMIN, Role.CUSTOMER_MANAGER, Role.ENTERPRISE_ADMIN,
                     Role.INTEGRATOR_ENGINEER)


@require_GET
@for_roles(*CARD_PAGE_ROLES)
def card_list(request):
    form = forms.CardFilterForm(request.GET)
    filters = form.filters()
    cards = Card.objects.visible_to(request.user).select_related("member", "group_customer")
    if filters.get("status"):
        cards = cards.filter(status=filters["status"])
    if filters.get("q"):
        q = filters["q"].strip()
        cards = cards.filter(Q(number__icontains=q) | Q(msisdn__contains=q)
                             | Q(member__name__icontains=q) | Q(member__phone__contains=q))
    return render(request, "cards/card_list.html", {
        "filter_form": form, "page": paginate(request, cards.order_by("-id")),
    })


@dataclass(frozen=True)
class Step:
    """One lifecycle action offered on a card's page."""

    name: str
    title: Promise
    button: Promise
    button_class: str
    statuses: tuple

    def applies(self, card):
        if card.status not in self.statuses:
            return False
        if self.name == "resume":
            return card.suspension_scope != SuspensionScope.CUSTOMER
        if self.name == "recover":
            return card.recovered_at is None
        return True


STEPS = {s.name: s for s in (
    Step("issue", gettext_lazy("Issue card"), gettext_lazy("Issue"), "primary",
         (CardStatus.IN_STOCK, CardStatus.ASSIGNED)),
    Step("report-lost", gettext_lazy("Report card lost"), gettext_lazy("Report lost"), "danger",
         (CardStatus.ACTIVE, CardStatus.SUSPENDED)),
    Step("unreport", gettext_lazy("Withdraw loss report"), gettext_lazy("Un-report"), "success",
         (CardStatus.LOST,)),
    Step("suspend", gettext_lazy("Suspend card"), gettext_lazy("Suspend"), "warning",
         (CardStatus.ACTIVE,)),
    Step("resume", gettext_lazy("Resume card"), gettext_lazy("Resume"), "success",
         (CardStatus.SUSPENDED,)),
    Step("replace", gettext_lazy("Replace card"), gettext_lazy("Replace"), "primary",
         LIVE_STATUSES),
    Step("deregister", gettext_lazy("Deregister card"), gettext_lazy("Deregister"), "danger",
         LIVE_STATUSES),
    Step("recover", gettext_lazy("Record card recovered"), gettext_lazy("Recovered"),
         "secondary", (CardStatus.REPLACED, CardStatus.DEREGISTERED)),
)}


@require_GET
@for_roles(*CARD_PAGE_ROLES)
def card_detail(request, pk):
    user = request.user
    card = fetch_or_404(Card.objects.select_related("member", "group_customer", "branch",
                                                    "replaced_by", "phone_model"), pk, user)
    may_change = (user.role in CARD_WRITER_ROLES
                  and Card.objects.changeable_by(user).filter(pk=card.pk).exists())
    return render(request, "cards/card_detail.html", {
        "card": card,
        "applications": card.applications.all(),
        "events": card.events.select_related("actor", "application").order_by("-id"),
        "bindings": card.bindings.all(),
        "calibrations": card.calibrations.select_related("phone_model")[:20],
        "may_change": may_change,
        "steps": [{"url": reverse(f"console:card-{s.name}", args=[card.pk]), "label": s.button,
                   "button_class": s.button_class}
                  for s in STEPS.values() if may_change and s.applies(card)],
    })


def _form_for(step, request, card):
    data = request.POST if request.method == "POST" else None
    user = request.user
    if step.name == "issue":
        members = Member.objects.filter(group_customer__in=customers_changeable_by(user),
                                        status=MemberStatus.ACTIVE)
        if card.group_customer_id:
            members = members.filter(group_customer_id=card.group_customer_id)
        return forms.IssueForm(data, members=members.order_by("name"))
    if step.name == "unreport":
        return forms.IdentityCheckedForm(data)
    if step.name == "replace":
        new_cards = Card.objects.changeable_by(user).filter(
            status__in=[CardStatus.IN_STOCK, CardStatus.ASSIGNED]).exclude(pk=card.pk)
        if card.group_customer_id:
            new_cards = new_cards.filter(Q(group_customer_id=card.group_customer_id)
                                         | Q(group_customer__isnull=True))
        return forms.ReplaceForm(data, new_cards=new_cards.order_by("number"),
                                 initial={"identity_checked": False})
    if step.name == "deregister":
        return forms.DeregisterForm(data, initial={"client_id": f"deregister-{uuid.uuid4()}"})
    return forms.ReasonForm(data)


def _call(step, user, card, data):
    reason = data.get("reason", "")
    if step.name == "issue":
        return actions.issue_card(actor=user, card=card, member=data.get("member"),
                                  msisdn=data.get("msisdn") or None,
                                  applications=data.get("applications") or [])
    if step.name == "report-lost":
        return actions.report_card_lost(actor=user, card=card, reason=reason)
    if step.name == "unreport":
        return actions.unreport_card(actor=user, card=card, reason=reason,
                                     identity_checked=data["identity_checked"])
    if step.name == "suspend":
        return actions.suspend_card(actor=user, card=card, reason=reason)
    if step.name == "resume":
        return actions.resume_card(actor=user, card=card, reason=reason)
    if step.name == "replace":
        return actions.replace_card(actor=user, old_card=card, new_card=data["new_card"],
                                    reason=reason, identity_checked=data["identity_checked"])
    if step.name == "deregister":
        return actions.deregister_card(actor=user, card=card, client_id=data["client_id"],
                                       reason=reason, recovered=data["recovered"])
    return actions.recover_card(actor=user, card=card, reason=reason)


def _step_view(step):
    @require_http_methods(["GET", "POST"])
    @for_roles(*CARD_WRITER_ROLES)
    def view(request, pk):
        card = fetch_or_404(Card.objects.select_related("member"), pk, request.user,
                            for_change=True)
        form = _form_for(step, request, card)
        refused = None
        if request.method == "POST" and form.is_valid():
            result, refused = run_action(form, _call, step=step, user=request.user, card=card,
                                         data=form.cleaned_data)
            if not refused:
                messages.success(request, _("Done: %(action)s.") % {"action": step.title})
                return redirect("console:card-detail", pk=result.pk)
        return render(request, "cards/card_action.html",
                      {"card": card, "form": form, "step": step},
                      status=form_status(request, form, refused))

    view.__name__ = f"card_{step.name.replace('-', '_')}"
    return view


@require_http_methods(["GET", "POST"])
@for_roles(*CARD_WRITER_ROLES)
def application_delete(request, pk):
    application = fetch_or_404(CardApplication.objects.select_related("card"), pk, request.user,
                               for_change=True)
    form = forms.ReasonForm(request.POST if request.method == "POST" else None)
    refused = None
    if request.method == "POST" and form.is_valid():
        _result, refused = run_action(form, actions.delete_application, actor=request.user,
                                      application=application,
                                      reason=form.cleaned_data["reason"])
        if not refused:
            messages.success(request, _("The application was deleted."))
            return redirect("console:card-detail", pk=application.card_id)
    step = Step("application-delete", gettext_lazy("Delete application"),
                gettext_lazy("Delete"), "danger", ())
    return render(request, "cards/card_action.html",
                  {"card": application.card, "form": form, "step": step,
                   "application": application},
                  status=form_status(request, form, refused))


def _my_card(user):
    cards = Card.objects.visible_to(user).select_related("group_customer")
    return cards.filter(status__in=LIVE_STATUSES).first() or cards.order_by(
        "-issued_at", "-id").first()


@require_GET
@for_roles(Role.MEMBER)
def my_card(request):
    card = _my_card(request.user)
    return render(request, "cards/my_card.html", {
        "card": card, "form": forms.ReasonForm(),
        "applications": card.applications.all() if card else [],
        "may_report": card is not None and STEPS["report-lost"].applies(card),
    })


@require_POST
@for_roles(Role.MEMBER)
def my_card_report_lost(request):
    card = _my_card(request.user)
    form = forms.ReasonForm(request.POST)
    refused = None
    if card is not None and form.is_valid():
        _result, refused = run_action(form, actions.report_card_lost, actor=request.user,
                                      card=card, reason=form.cleaned_data["reason"])
        if not refused:
            messages.success(request, _("Your card is reported lost; every terminal now "
                                        "refuses it."))
            return redirect("console:card-my-card")
    return render(request, "cards/my_card.html", {
        "card": card, "form": form, "may_report": False,
        "applications": card.applications.all() if card else [],
    }, status=refused or 400)


urlpatterns = [
    path("cards/", card_list, name="card-list"),
    path("cards/<int:pk>/", card_detail, name="card-detail"),
    *[path(f"cards/<int:pk>/{name}/", _step_view(step), name=f"card-{name}")
      for name, step in STEPS.items()],
    path("cards/applications/<int:pk>/delete/", application_delete,
         name="card-application-delete"),
    path("my-card/", my_card, name="card-my-card"),
    path("my-card/report-lost/", my_card_report_lost, name="card-my-card-report-lost"),
]
