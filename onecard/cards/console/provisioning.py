"""Console pages of application plans, openings (over the air and local), phone models and
calibrations.

Every object comes through a gatekeeper (404 when missing or out of reach); a role that may not
use a page gets 404; every POST calls ONE action and shows its refusal on the form.
"""

from functools import partial

from django import forms
from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from onecard.accounts.choices import OPERATOR_STAFF, Role
from onecard.accounts.console.forms import ConsoleForm
from onecard.accounts.console.tables import paginate
from onecard.accounts.console.views import fetch_or_404, for_roles, form_status, run_action
from onecard.organizations.models import GroupCustomer

from ..actions import calibration, provisioning
from ..actions.calibration import MAX_DBM, MIN_DBM
from ..api.serializers_provisioning import jobs, phone_models, plans
from ..choices import ApplicationKind, ProvisioningStatus
from ..models import CalibrationRecord, Card, PhoneModel

STAFF_AND_ADMINS = tuple(sorted(OPERATOR_STAFF | {Role.ENTERPRISE_ADMIN}))
PLAN_ROLES = tuple(sorted(provisioning.PLAN_ROLES))
REQUEST_ROLES = (Role.OPERATOR_ADMIN, Role.CUSTOMER_MANAGER, Role.ENTERPRISE_ADMIN, Role.MEMBER)
CANCEL_ROLES = (Role.OPERATOR_ADMIN, Role.CUSTOMER_MANAGER, Role.ENTERPRISE_ADMIN)
LOCAL_ROLES = tuple(sorted(provisioning.LOCAL_OPENING_ROLES))
CALIBRATION_READERS = (Role.OPERATOR_ADMIN, Role.CUSTOMER_MANAGER, Role.INTEGRATOR_ENGINEER,
                       Role.ENTERPRISE_ADMIN, Role.SERVICE_AGENT_T1, Role.SERVICE_AGENT_T2)
CALIBRATORS = tuple(sorted(calibration.CALIBRATION_ROLES))
CATALOGUE_READERS = (Role.OPERATOR_ADMIN, Role.CUSTOMER_MANAGER, Role.INTEGRATOR_ENGINEER)


def _card_by_number(form, user, number, *, field="card_number", own=False):
    """The card with ``number`` the user may change (a member: their own), or a form error."""
    cards = (Card.objects.filter(member_id=user.member_id) if own
             else Card.objects.changeable_by(user))
    card = cards.filter(number=number.strip().upper()).first()
    if card is None:
        form.add_error(field, _("Unknown card: %(number)s.") % {"number": number.strip()})
    return card


# --- Application plans --------------------------------------------------------------------


class PlanForm(ConsoleForm):
    group_customer = forms.ModelChoiceField(queryset=GroupCustomer.objects.none(),
                                            label=_lazy("group customer"))
    kind = forms.ChoiceField(choices=ApplicationKind.choices, label=_lazy("application"))
    enabled = forms.BooleanField(required=False, label=_lazy("enabled"))
    quota = forms.IntegerField(required=False, min_value=0, max_value=provisioning.MAX_QUOTA,
                               label=_lazy("quota"),
                               help_text=_lazy("Pending and active applications; empty: no "
                                               "limit."))

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["group_customer"].queryset = GroupCustomer.objects.changeable_by(user)


@require_http_methods(["GET", "POST"])
@for_roles(*STAFF_AND_ADMINS)
def plan_list(request):
    user = request.user
    may_set = user.role in PLAN_ROLES
    form = PlanForm(request.POST or None, user=user) if may_set else None
    if request.method == "POST" and not may_set:
        raise Http404
    refused = None
    if request.method == "POST" and form.is_valid():
        plan, refused = run_action(form, provisioning.set_application_plan, actor=user,
                                   **form.cleaned_data)
        if plan is not None:
            messages.success(request, _("The application plan was saved."))
            return redirect("console:card-application-plans")
    rows = plans().visible_to(user).order_by("group_customer__name", "group_customer_id", "kind")
    return render(request, "cards/plan_list.html", {
        "page": paginate(request, rows), "form": form,
    }, status=form_status(request, form, refused) if form is not None else 200)


# --- Openings -----------------------------------------------------------------------------


@require_GET
@for_roles(*(STAFF_AND_ADMINS + (Role.MEMBER,)))
def provisioning_list(request):
    user = request.user
    rows = jobs().visible_to(user)
    chosen = request.GET.get("status", "")
    if chosen in ProvisioningStatus.values:
        rows = rows.filter(status=chosen)
    return render(request, "cards/provisioning_list.html", {
        "page": paginate(request, rows.order_by("-id")), "statuses": ProvisioningStatus.choices,
        "status": chosen, "open_statuses": provisioning.OPEN_JOB_STATUSES,
        "may_cancel": user.role in CANCEL_ROLES, "may_request": user.role in REQUEST_ROLES,
        "may_open_locally": user.role in LOCAL_ROLES,
    })


class RequestOpeningForm(ConsoleForm):
    group_customer = forms.ModelChoiceField(queryset=GroupCustomer.objects.none(),
                                            label=_lazy("group customer"))
    phone = forms.CharField(max_length=20, label=_lazy("phone number"))
    name = forms.CharField(max_length=100, label=_lazy("name"))
    kind = forms.ChoiceField(choices=ApplicationKind.choices, label=_lazy("application"))

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        if user.role in (Role.MEMBER, Role.ENTERPRISE_ADMIN):
            del self.fields["group_customer"]
        else:
            self.fields["group_customer"].queryset = GroupCustomer.objects.changeable_by(user)
        if user.role == Role.MEMBER and user.member is not None:
            self.fields["phone"].initial = user.member.phone
            self.fields["name"].initial = user.member.name


@require_http_methods(["GET", "POST"])
@for_roles(*REQUEST_ROLES)
def provisioning_request(request):
    user = request.user
    form = RequestOpeningForm(request.POST or None, user=user)
    refused = None
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        customer = data.pop("group_customer", None) or user.group_customer
        job, refused = run_action(form, provisioning.request_application_opening, actor=user,
                                  group_customer=customer, **data)
        if job is not None:
            messages.success(request, _("The opening was authorised and queued for delivery."))
            return redirect("console:card-provisioning-list")
    return render(request, "cards/provisioning_form.html", {
        "form": form, "title": _("Open an application over the air"), "button": _("Request"),
    }, status=form_status(request, form, refused))


@require_POST
@for_roles(*CANCEL_ROLES)
def provisioning_cancel(request, pk):
    job = fetch_or_404(jobs(), pk, request.user, for_change=True)
    form = ConsoleForm({})
    form.is_valid()
    result, _refused = run_action(form, provisioning.cancel_provisioning, actor=request.user,
                                  job=job, reason=request.POST.get("reason", "")[:500])
    if result is None:
        for error in form.non_field_errors():
            messages.error(request, error)
        for name, errors in form.errors.items():
            if name != "__all__":
                messages.error(request, "; ".join(errors))
    else:
        messages.success(request, _("The opening was cancelled."))
    return redirect("console:card-provisioning-list")


class OpenLocallyForm(ConsoleForm):
    card_number = forms.CharField(max_length=32, label=_lazy("card number"))
    kind = forms.ChoiceField(choices=ApplicationKind.choices, label=_lazy("application"))
    terminal_code = forms.CharField(max_length=64, required=False,
                                    label=_lazy("Issuing terminal"))


@require_http_methods(["GET", "POST"])
@for_roles(*LOCAL_ROLES)
def provisioning_local(request):
    form = OpenLocallyForm(request.POST or None)
    refused = None
    if request.method == "POST" and form.is_valid():
        card = _card_by_number(form, request.user, form.cleaned_data["card_number"])
        if card is not None:
            application, refused = run_action(
                form, provisioning.open_application_locally, field_map={"card": "card_number"},
                actor=request.user, card=card, kind=form.cleaned_data["kind"],
                terminal_code=form.cleaned_data["terminal_code"])
            if application is not None:
                messages.success(request, _("The application is open."))
                return redirect("console:card-provisioning-list")
    return render(request, "cards/provisioning_form.html", {
        "form": form, "title": _("Open an application locally"), "button": _("Open"),
    }, status=form_status(request, form, refused))


# --- Phone models and calibrations --------------------------------------------------------


class PhoneModelForm(ConsoleForm):
    manufacturer = forms.CharField(max_length=64, label=_lazy("manufacturer"))
    model = forms.CharField(max_length=64, label=_lazy("model"))
    default_threshold = forms.IntegerField(min_value=MIN_DBM, max_value=MAX_DBM,
                                           label=_lazy("default threshold (dBm)"))
    min_signal = forms.IntegerField(min_value=MIN_DBM, max_value=MAX_DBM,
                                    label=_lazy("weakest accepted signal (dBm)"))
    max_signal = forms.IntegerField(min_value=MIN_DBM, max_value=MAX_DBM,
                                    label=_lazy("strongest accepted signal (dBm)"))


@require_http_methods(["GET", "POST"])
@for_roles(*CATALOGUE_READERS)
def phone_model_list(request):
    user = request.user
    may_add = user.role in calibration.CATALOGUE_ROLES
    if request.method == "POST" and not may_add:
        raise Http404
    form = PhoneModelForm(request.POST or None) if may_add else None
    refused = None
    if request.method == "POST" and form.is_valid():
        # ``model`` is also run_action's own keyword: bind the action's arguments first.
        created, refused = run_action(form, partial(calibration.create_phone_model, actor=user,
                                                    **form.cleaned_data))
        if created is not None:
            messages.success(request, _("The phone model was added."))
            return redirect("console:card-phone-model-list")
    return render(request, "cards/phone_model_list.html", {
        "page": paginate(request, phone_models().visible_to(user)), "form": form,
    }, status=form_status(request, form, refused) if form is not None else 200)


@require_GET
@for_roles(*CALIBRATION_READERS)
def calibration_list(request):
    rows = (CalibrationRecord.objects.visible_to(request.user)
            .select_related("card", "phone_model", "actor").order_by("-id"))
    return render(request, "cards/calibration_list.html", {
        "page": paginate(request, rows), "may_calibrate": request.user.role in CALIBRATORS,
    })


class CalibrationForm(ConsoleForm):
    card_number = forms.CharField(max_length=32, label=_lazy("card number"))
    phone_model = forms.ModelChoiceField(queryset=PhoneModel.objects.all(),
                                         label=_lazy("Phone model"))
    measured_signal = forms.IntegerField(min_value=MIN_DBM, max_value=MAX_DBM,
                                         label=_lazy("Measured signal (dBm)"))
    terminal_code = forms.CharField(max_length=64, required=False, label=_lazy("Calibrator"))


@require_http_methods(["GET", "POST"])
@for_roles(*CALIBRATORS)
def calibration_record(request):
    form = CalibrationForm(request.POST or None)
    refused = None
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        card = _card_by_number(form, request.user, data["card_number"])
        if card is not None:
            record, refused = run_action(
                form, calibration.record_calibration, field_map={"card": "card_number"},
                actor=request.user, card=card, phone_model=data["phone_model"],
                measured_signal=data["measured_signal"], terminal_code=data["terminal_code"])
            if record is not None:
                if record.success:
                    messages.success(request, _("Calibrated: threshold %(threshold)s dBm stored.")
                                     % {"threshold": record.threshold})
                else:
                    messages.warning(request, _("Calibration failed: the signal is outside the "
                                                "phone model's band. Try again."))
                return redirect("console:card-calibration-list")
    return render(request, "cards/calibration_form.html", {
        "form": form, "title": _("Record a calibration"), "button": _("Record"),
    }, status=form_status(request, form, refused))


class PhoneChangeForm(ConsoleForm):
    card_number = forms.CharField(max_length=32, label=_lazy("card number"))
    phone_model = forms.ModelChoiceField(queryset=PhoneModel.objects.all(),
                                         label=_lazy("New phone model"))


@require_http_methods(["GET", "POST"])
@for_roles(*(CALIBRATORS + (Role.MEMBER,)))
def calibration_phone_change(request):
    user = request.user
    form = PhoneChangeForm(request.POST or None)
    refused = None
    if request.method == "POST" and form.is_valid():
        card = _card_by_number(form, user, form.cleaned_data["card_number"],
                               own=user.role == Role.MEMBER)
        if card is not None:
            changed, refused = run_action(
                form, calibration.change_phone, field_map={"card": "card_number"}, actor=user,
                card=card, phone_model=form.cleaned_data["phone_model"])
            if changed is not None:
                messages.success(request, _("Phone model recorded; the card needs calibrating "
                                            "again."))
                return redirect("console:dashboard")
    return render(request, "cards/calibration_form.html", {
        "form": form, "title": _("Record a phone change"), "button": _("Save"),
    }, status=form_status(request, form, refused))


urlpatterns = [
    path("cards/plans/", plan_list, name="card-application-plans"),
    path("cards/openings/", provisioning_list, name="card-provisioning-list"),
    path("cards/openings/request/", provisioning_request, name="card-provisioning-request"),
    path("cards/openings/local/", provisioning_local, name="card-provisioning-local"),
    path("cards/openings/<int:pk>/cancel/", provisioning_cancel,
         name="card-provisioning-cancel"),
    path("cards/phone-models/", phone_model_list, name="card-phone-model-list"),
    path("cards/calibrations/", calibration_list, name="card-calibration-list"),
    path("cards/calibrations/record/", calibration_record, name="card-calibration-record"),
    path("cards/calibrations/phone-change/", calibration_phone_change,
         name="card-phone-change"),
]
