"""Console pages for group customers and their departments.

Every object comes through a gatekeeper (404 when missing or out of reach); every POST calls one
action from ``onecard.organizations.actions`` and shows its refusal on the form.
"""

from dataclasses import dataclass

from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods

from onecard.accounts.choices import OPERATOR_STAFF, Role
from onecard.accounts.console.forms import ConsoleForm
from onecard.accounts.console.tables import counts_by_status, is_htmx, paginate
from onecard.accounts.console.views import fetch_or_404, for_roles, form_status, run_action
from onecard.organizations import actions
from onecard.organizations.choices import GroupCustomerStatus
from onecard.organizations.models import Department, GroupCustomer
from onecard.people.choices import MemberStatus
from onecard.people.models import Member

from . import tables
from .forms import (
    DepartmentForm,
    GroupCustomerFilterForm,
    GroupCustomerForm,
    ReasonForm,
    VerifyGroupCustomerForm,
)

# Who may open which pages (others get 404). The gatekeepers then decide which rows they reach.
CUSTOMER_LIST_ROLES = (*OPERATOR_STAFF, Role.INTEGRATOR_ENGINEER)
CUSTOMER_DETAIL_ROLES = (*CUSTOMER_LIST_ROLES, Role.ENTERPRISE_ADMIN)
CUSTOMER_WRITER_ROLES = (Role.OPERATOR_ADMIN, Role.CUSTOMER_MANAGER)
STRUCTURE_READER_ROLES = CUSTOMER_DETAIL_ROLES
STRUCTURE_WRITER_ROLES = (Role.OPERATOR_ADMIN, Role.CUSTOMER_MANAGER, Role.ENTERPRISE_ADMIN)
MEMBER_PAGE_ROLES = (*OPERATOR_STAFF, Role.ENTERPRISE_ADMIN)


# --- Group customers ----------------------------------------------------------------------------


@require_GET
@for_roles(*CUSTOMER_LIST_ROLES)
def group_customer_list(request):
    form = GroupCustomerFilterForm(request.GET)
    filters = form.cleaned_data if form.is_valid() else {}
    context = {
        "filter_form": form,
        "page": paginate(request, tables.group_customers(request.user, filters)),
        "may_create": request.user.role in CUSTOMER_WRITER_ROLES,
    }
    template = ("organizations/_group_customer_table.html" if is_htmx(request)
                else "organizations/group_customer_list.html")
    response = render(request, template, context)
    patch_vary_headers(response, ["HX-Request"])
    return response


@dataclass(frozen=True)
class Transition:
    """One status change of a group customer offered on the console."""

    name: str
    action: object
    form: type
    title: Promise
    button: Promise
    button_class: str
    from_statuses: tuple


TRANSITIONS = {
    t.name: t for t in (
        Transition("verify", actions.verify_group_customer, VerifyGroupCustomerForm,
                   gettext_lazy("Verify group customer"), gettext_lazy("Verify"), "success",
                   (GroupCustomerStatus.PENDING,)),
        Transition("suspend", actions.suspend_group_customer, ReasonForm,
                   gettext_lazy("Suspend group customer"), gettext_lazy("Suspend"), "warning",
                   (GroupCustomerStatus.VERIFIED,)),
        Transition("resume", actions.resume_group_customer, ReasonForm,
                   gettext_lazy("Resume group customer"), gettext_lazy("Resume"), "success",
                   (GroupCustomerStatus.SUSPENDED,)),
        Transition("close", actions.close_group_customer, ReasonForm,
                   gettext_lazy("Close group customer"), gettext_lazy("Close"), "danger",
                   (GroupCustomerStatus.PENDING, GroupCustomerStatus.VERIFIED,
                    GroupCustomerStatus.SUSPENDED)),
    )
}


def _may_change(user, customer):
    return GroupCustomer.objects.changeable_by(user).filter(pk=customer.pk).exists()


@require_GET
@for_roles(*CUSTOMER_DETAIL_ROLES)
def group_customer_detail(request, pk):
    user = request.user
    customer = fetch_or_404(
        GroupCustomer.objects.select_related("branch", "customer_manager", "verified_by"),
        pk, user,
    )
    may_change = _may_change(user, customer)
    members = Member.objects.visible_to(user).filter(group_customer=customer)
    return render(request, "organizations/group_customer_detail.html", {
        "customer": customer,
        "departments": tables.departments_of(user, customer),
        "member_counts": counts_by_status(members, MemberStatus),
        "member_total": members.exclude(status=MemberStatus.DEPARTED).count(),
        "events": customer.events.select_related("actor"),
        "may_change": may_change,
        "may_change_structure": tables.may_change_structure(user, customer),
        "may_list_members": user.role in MEMBER_PAGE_ROLES,
        "may_import": user.role in STRUCTURE_WRITER_ROLES,
        "transitions": [
            {"url": reverse(f"console:group-customer-{t.name}", args=[customer.pk]),
             "label": t.button, "button_class": t.button_class}
            for t in TRANSITIONS.values()
            if may_change and customer.status in t.from_statuses
        ],
    })


@require_http_methods(["GET", "POST"])
@for_roles(*CUSTOMER_WRITER_ROLES)
def group_customer_create(request):
    form = GroupCustomerForm(request.POST if request.method == "POST" else None,
                             user=request.user)
    refused = None
    if request.method == "POST" and form.is_valid():
        fields = form.action_fields()
        customer, refused = run_action(
            form, actions.create_group_customer, actor=request.user,
            branch=fields.pop("branch"), name=fields.pop("name"), code=fields.pop("code"),
            **fields,
        )
        if not refused:
            messages.success(request, _("Group customer “%(name)s” was created.")
                             % {"name": customer.name})
            return redirect("console:group-customer-detail", pk=customer.pk)
    return render(request, "organizations/group_customer_form.html",
                  {"form": form, "customer": None},
                  status=form_status(request, form, refused))


@require_http_methods(["GET", "POST"])
@for_roles(*CUSTOMER_WRITER_ROLES)
def group_customer_edit(request, pk):
    customer = fetch_or_404(GroupCustomer.objects, pk, request.user, for_change=True)
    heading = str(customer)  # the form validates into the instance; keep the saved name
    form = GroupCustomerForm(request.POST if request.method == "POST" else None,
                             instance=customer, user=request.user)
    refused = None
    if request.method == "POST" and form.is_valid():
        _result, refused = run_action(
            form, actions.update_group_customer, actor=request.user, group_customer=customer,
            **form.action_fields(),
        )
        if not refused:
            messages.success(request, _("The group customer was saved."))
            return redirect("console:group-customer-detail", pk=customer.pk)
    return render(request, "organizations/group_customer_form.html",
                  {"form": form, "customer": customer, "heading": heading},
                  status=form_status(request, form, refused))


def _transition_view(transition):
    @require_http_methods(["GET", "POST"])
    @for_roles(*CUSTOMER_WRITER_ROLES)
    def view(request, pk):
        customer = fetch_or_404(GroupCustomer.objects, pk, request.user, for_change=True)
        initial = {}
        if transition.form is VerifyGroupCustomerForm:
            initial = {name: getattr(customer, name) for name in (
                "business_licence_number", "contact_name", "contact_phone", "contract_number")}
        form = transition.form(request.POST if request.method == "POST" else None,
                               initial=initial)
        refused = None
        if request.method == "POST" and form.is_valid():
            _result, refused = run_action(
                form, transition.action, model=GroupCustomer, actor=request.user,
                group_customer=customer, **form.cleaned_data,
            )
            if not refused:
                messages.success(request, _("The status of “%(name)s” was changed.")
                                 % {"name": customer.name})
                return redirect("console:group-customer-detail", pk=customer.pk)
        return render(request, "organizations/group_customer_transition.html",
                      {"customer": customer, "form": form, "transition": transition},
                      status=form_status(request, form, refused))

    view.__name__ = f"group_customer_{transition.name}"
    return view


group_customer_verify = _transition_view(TRANSITIONS["verify"])
group_customer_suspend = _transition_view(TRANSITIONS["suspend"])
group_customer_resume = _transition_view(TRANSITIONS["resume"])
group_customer_close = _transition_view(TRANSITIONS["close"])


# --- Departments --------------------------------------------------------------------------------


def customer_from_query(request, *, for_change=False):
    """The customer named by ``?group_customer=``, or an enterprise admin's own; None when an
    operator-side person named none. 404 when out of reach."""
    user = request.user
    scope = tables.customers_changeable_by(user) if for_change else GroupCustomer.objects
    raw = request.GET.get("group_customer")
    if raw:
        return fetch_or_404(scope, raw, user)
    if user.role == Role.ENTERPRISE_ADMIN:
        return fetch_or_404(scope, user.group_customer_id, user)
    return None


def _department_list_url(customer):
    return f"{reverse('console:department-list')}?group_customer={customer.pk}"


@require_GET
@for_roles(*STRUCTURE_READER_ROLES)
def department_list(request):
    customer = customer_from_query(request)
    if customer is None:
        return redirect("console:group-customer-list")
    return render(request, "organizations/department_list.html", {
        "customer": customer,
        "departments": tables.departments_of(request.user, customer),
        "may_change": tables.may_change_structure(request.user, customer),
    })


@require_http_methods(["GET", "POST"])
@for_roles(*STRUCTURE_WRITER_ROLES)
def department_create(request):
    customer = customer_from_query(request, for_change=True)
    if customer is None:
        return redirect("console:group-customer-list")
    initial = {}
    parent_id = request.GET.get("parent", "")
    if request.method == "GET" and parent_id.isdigit() and len(parent_id) <= 18:
        initial["parent"] = Department.objects.filter(group_customer=customer,
                                                      pk=int(parent_id)).first()
    form = DepartmentForm(request.POST if request.method == "POST" else None,
                          instance=Department(group_customer=customer), group_customer=customer,
                          initial=initial)
    refused = None
    if request.method == "POST" and form.is_valid():
        _result, refused = run_action(form, actions.create_department, actor=request.user,
                                      group_customer=customer, **form.action_fields())
        if not refused:
            messages.success(request, _("The department was created."))
            return redirect(_department_list_url(customer))
    return render(request, "organizations/department_form.html",
                  {"form": form, "customer": customer, "department": None},
                  status=form_status(request, form, refused))


@require_http_methods(["GET", "POST"])
@for_roles(*STRUCTURE_WRITER_ROLES)
def department_edit(request, pk):
    department = fetch_or_404(Department.objects.select_related("group_customer"), pk,
                              request.user, for_change=True)
    customer, heading = department.group_customer, str(department)
    form = DepartmentForm(request.POST if request.method == "POST" else None,
                          instance=department, group_customer=customer)
    refused = None
    if request.method == "POST" and form.is_valid():
        _result, refused = run_action(form, actions.update_department, actor=request.user,
                                      department=department, **form.action_fields())
        if not refused:
            messages.success(request, _("The department was saved."))
            return redirect(_department_list_url(customer))
    return render(request, "organizations/department_form.html",
                  {"form": form, "customer": customer, "department": department,
                   "heading": heading},
                  status=form_status(request, form, refused))


@require_http_methods(["GET", "POST"])
@for_roles(*STRUCTURE_WRITER_ROLES)
def department_delete(request, pk):
    department = fetch_or_404(Department.objects.select_related("group_customer"), pk,
                              request.user, for_change=True)
    customer = department.group_customer
    form = ConsoleForm(request.POST if request.method == "POST" else None)
    refused = None
    if request.method == "POST" and form.is_valid():
        _result, refused = run_action(form, actions.delete_department, actor=request.user,
                                      department=department)
        if not refused:
            messages.success(request, _("The department “%(name)s” was deleted.")
                             % {"name": department.name})
            return redirect(_department_list_url(customer))
    return render(request, "organizations/department_delete.html",
                  {"form": form, "customer": customer, "department": department},
                  status=form_status(request, form, refused))
