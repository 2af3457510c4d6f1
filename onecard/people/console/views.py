"""Console pages for members: list, detail, create, edit, status changes, roster import/export.

Every object comes through a gatekeeper (404 when missing or out of reach); every POST calls one
action and shows its refusal on the form. The roster module is imported inside the views that use
it, so these pages load on their own.
"""

from dataclasses import dataclass

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.functional import Promise
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_GET, require_http_methods

from onecard.accounts.choices import Role
from onecard.accounts.console.forms import show_refusal
from onecard.accounts.console.tables import is_htmx, paginate
from onecard.accounts.console.views import fetch_or_404, for_roles, form_status, run_action
from onecard.core.errors import DomainError
from onecard.organizations.console.tables import customers_changeable_by
from onecard.organizations.console.views import (
    MEMBER_PAGE_ROLES,
    STRUCTURE_WRITER_ROLES,
    customer_from_query,
)
from onecard.organizations.models import GroupCustomer
from onecard.people import actions
from onecard.people.choices import MEMBER_TRANSITIONS, MemberStatus
from onecard.people.models import Member

from . import tables
from .forms import (
    ChooseGroupCustomerForm,
    MemberFilterForm,
    MemberForm,
    MemberTransitionForm,
    RosterImportForm,
)

ROSTER_IMPORT_ROLES = (Role.OPERATOR_ADMIN, Role.CUSTOMER_MANAGER, Role.ENTERPRISE_ADMIN)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _member_filter_form(request):
    """The list's filter form; the department choices follow the chosen (visible) customer."""
    user = request.user
    customers = tables.filter_customers(user)
    chosen = None
    raw = request.GET.get("group_customer", "")
    if raw.isdigit() and len(raw) <= 18:
        chosen = customers.filter(pk=int(raw)).first()
    return MemberFilterForm(
        request.GET, customers=customers,
        departments=tables.filter_departments(user, chosen),
        show_customer=user.role != Role.ENTERPRISE_ADMIN,
    )


def _customer_of_list(user, filters):
    """The one customer the list is about: the enterprise admin's own, or the filter's."""
    if user.role == Role.ENTERPRISE_ADMIN:
        return GroupCustomer.objects.visible_to(user).first()
    return filters.get("group_customer")


@require_GET
@for_roles(*MEMBER_PAGE_ROLES)
def member_list(request):
    user = request.user
    form = _member_filter_form(request)
    filters = form.filters()
    customer = _customer_of_list(user, filters)
    may_change = customer is not None and (
        customers_changeable_by(user).filter(pk=customer.pk).exists()
    )
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "filter_form": form,
        "page": paginate(request, tables.filter_members(tables.visible_members(user), filters)),
        "customer": customer,
        "may_create": user.role in STRUCTURE_WRITER_ROLES,
        "may_change": may_change,
        "may_import": user.role in ROSTER_IMPORT_ROLES,
        "export_url": (f"{reverse('console:member-export')}?{query.urlencode()}"
                       if customer is not None else None),
        "create_url": reverse("console:member-create") + (
            f"?{urlencode({'group_customer': customer.pk})}"
            if customer is not None and user.role != Role.ENTERPRISE_ADMIN else ""
        ),
    }
    context["partial"] = is_htmx(request)
    template = "people/_member_table.html" if context["partial"] else "people/member_list.html"
    response = render(request, template, context)
    patch_vary_headers(response, ["HX-Request"])
    return response


@dataclass(frozen=True)
class Transition:
    """One status change of a member offered on the console."""

    name: str
    action: object
    target: str
    title: Promise
    button: Promise
    button_class: str


TRANSITIONS = {
    t.name: t for t in (
        Transition("suspend", actions.suspend_member, MemberStatus.SUSPENDED,
                   gettext_lazy("Suspend member"), gettext_lazy("Suspend"), "warning"),
        Transition("resume", actions.resume_member, MemberStatus.ACTIVE,
                   gettext_lazy("Resume member"), gettext_lazy("Resume"), "success"),
        Transition("depart", actions.mark_member_departed, MemberStatus.DEPARTED,
                   gettext_lazy("Mark member as departed"), gettext_lazy("Mark as departed"),
                   "danger"),
    )
}


@require_GET
@for_roles(*MEMBER_PAGE_ROLES)
def member_detail(request, pk):
    user = request.user
    member = fetch_or_404(
        Member.objects.select_related("group_customer", "department"), pk, user
    )
    may_change = Member.objects.changeable_by(user).filter(pk=member.pk).exists()
    return render(request, "people/member_detail.html", {
        "member": member,
        "events": member.events.select_related("actor"),
        "may_change": may_change,
        "transitions": [
            {"url": reverse(f"console:member-{t.name}", args=[member.pk]),
             "label": t.button, "button_class": t.button_class}
            for t in TRANSITIONS.values()
            if may_change and t.target in MEMBER_TRANSITIONS.get(member.status, ())
        ],
    })


@require_http_methods(["GET", "POST"])
@for_roles(*STRUCTURE_WRITER_ROLES)
def member_create(request):
    customer = customer_from_query(request, for_change=True)
    if customer is None:
        chooser = ChooseGroupCustomerForm(customers=customers_changeable_by(request.user))
        return render(request, "people/choose_group_customer.html", {
            "form": chooser, "action_url": reverse("console:member-create"),
            "title": _("Add member"),
        })
    form = MemberForm(request.POST if request.method == "POST" else None,
                      instance=Member(group_customer=customer), group_customer=customer)
    refused = None
    if request.method == "POST" and form.is_valid():
        fields = form.action_fields()
        member, refused = run_action(
            form, actions.create_member, actor=request.user, group_customer=customer,
            name=fields.pop("name"), phone=fields.pop("phone"), **fields,
        )
        if not refused:
            messages.success(request, _("Member “%(name)s” was added.") % {"name": member.name})
            return redirect("console:member-detail", pk=member.pk)
    return render(request, "people/member_form.html",
                  {"form": form, "customer": customer, "member": None},
                  status=form_status(request, form, refused))


@require_http_methods(["GET", "POST"])
@for_roles(*STRUCTURE_WRITER_ROLES)
def member_edit(request, pk):
    member = fetch_or_404(Member.objects.select_related("group_customer"), pk, request.user,
                          for_change=True)
    heading = member.name  # the form validates into the instance; keep the saved name
    form = MemberForm(request.POST if request.method == "POST" else None, instance=member,
                      group_customer=member.group_customer)
    refused = None
    if request.method == "POST" and form.is_valid():
        _result, refused = run_action(form, actions.update_member, actor=request.user,
                                      member=member, **form.action_fields())
        if not refused:
            messages.success(request, _("The member was saved."))
            return redirect("console:member-detail", pk=member.pk)
    return render(request, "people/member_form.html",
                  {"form": form, "customer": member.group_customer, "member": member,
                   "heading": heading},
                  status=form_status(request, form, refused))


def _transition_view(transition):
    @require_http_methods(["GET", "POST"])
    @for_roles(*STRUCTURE_WRITER_ROLES)
    def view(request, pk):
        member = fetch_or_404(Member.objects.select_related("group_customer"), pk,
                              request.user, for_change=True)
        form = MemberTransitionForm(request.POST if request.method == "POST" else None)
        refused = None
        if request.method == "POST" and form.is_valid():
            _result, refused = run_action(
                form, transition.action, model=Member, actor=request.user, member=member,
                reason=form.cleaned_data["reason"],
            )
            if not refused:
                messages.success(request, _("The status of “%(name)s” was changed.")
                                 % {"name": member.name})
                return redirect("console:member-detail", pk=member.pk)
        return render(request, "people/member_transition.html",
                      {"member": member, "form": form, "transition": transition},
                      status=form_status(request, form, refused))

    view.__name__ = f"member_{transition.name}"
    return view


member_suspend = _transition_view(TRANSITIONS["suspend"])
member_resume = _transition_view(TRANSITIONS["resume"])
member_depart = _transition_view(TRANSITIONS["depart"])


# --- Roster export and import -------------------------------------------------------------------


@require_GET
@for_roles(*MEMBER_PAGE_ROLES)
def member_export(request):
    """The members the list shows (same filters), as an .xlsx roster of one customer."""
    from onecard.people.roster import export_roster

    user = request.user
    form = _member_filter_form(request)
    filters = form.filters()
    customer = _customer_of_list(user, filters)
    if customer is None:
        messages.error(request, _("Choose a group customer to export its members."))
        return redirect("console:member-list")
    members = tables.filter_members(
        tables.visible_members(user).filter(group_customer=customer), filters
    )
    content = export_roster(customer, members)
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    response = HttpResponse(content, content_type=XLSX)
    response["Content-Disposition"] = (
        f'attachment; filename="roster-{customer.code}-{stamp}.xlsx"'
    )
    return response


@require_http_methods(["GET", "POST"])
@for_roles(*ROSTER_IMPORT_ROLES)
def roster_import(request):
    """Upload a roster: either every row is imported or none is, with a per-row error table."""
    from onecard.people.roster import import_roster

    user = request.user
    choose_customer = user.role != Role.ENTERPRISE_ADMIN
    customers = customers_changeable_by(user)
    initial = {}
    if request.method == "GET" and choose_customer:
        raw = request.GET.get("group_customer", "")
        if raw.isdigit() and len(raw) <= 18:
            initial["group_customer"] = customers.filter(pk=int(raw)).first()
    posted = request.method == "POST"
    form = RosterImportForm(request.POST if posted else None, request.FILES if posted else None,
                            customers=customers, choose_customer=choose_customer,
                            initial=initial)
    report, refused = None, None
    if posted and form.is_valid():
        customer = (form.cleaned_data["group_customer"] if choose_customer
                    else customers.first())
        upload = form.cleaned_data["file"]
        if customer is None:
            form.add_error(None, _("Your account has no group customer."))
        else:
            try:
                report = import_roster(actor=user, group_customer=customer,
                                       file_name=upload.name, content=upload.read())
            except DomainError as refusal:
                show_refusal(form, refusal)
                refused = 400
            else:
                if report.ok:
                    messages.success(request, ngettext(
                        "Imported %(count)d member into “%(customer)s”.",
                        "Imported %(count)d members into “%(customer)s”.",
                        report.created,
                    ) % {"count": report.created, "customer": customer.name})
                    url = reverse("console:member-list")
                    if choose_customer:
                        url += f"?{urlencode({'group_customer': customer.pk})}"
                    return redirect(url)
                refused = 400
    return render(request, "people/roster_import.html", {
        "form": form, "report": report, "choose_customer": choose_customer,
    }, status=form_status(request, form, refused))
