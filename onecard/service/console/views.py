"""Console pages of the service desk: queues, intake, ticket detail and steps, work orders for
engineers, reports with .xlsx export.

Every object comes through a gatekeeper (404 when missing or out of reach); every POST calls one
action from ``onecard.service.actions`` and shows its refusal on the form. The buttons a ticket
page offers are the steps the viewer's role may take from its current status.
"""

from dataclasses import dataclass

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods

from onecard.accounts.choices import OPERATOR_STAFF, Role
from onecard.accounts.console.tables import is_htmx, paginate
from onecard.accounts.console.views import fetch_or_404, for_roles, form_status, run_action

from .. import actions, reports
from ..choices import TicketClass, TicketStatus, WorkOrderStatus
from ..models import Ticket, WorkOrder
from . import tables
from .forms import (
    ConfirmForm,
    DispatchForm,
    EmptyForm,
    NoteForm,
    ReasonForm,
    ReportPeriodForm,
    ResolveForm,
    TicketFilterForm,
    TicketForm,
    WorkOrderReportForm,
)

ALL_ROLES = tuple(Role.values)
INTAKE_ROLES = tuple(actions.INTAKE_CHANNEL)
ENGINEER_ROLES = (Role.INTEGRATOR_ENGINEER, Role.VENDOR_ENGINEER)
WORK_ORDER_PAGE_ROLES = (Role.OPERATOR_ADMIN, *ENGINEER_ROLES)
REPORT_ROLES = tuple(OPERATOR_STAFF)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


# --- Queues -------------------------------------------------------------------------------------


@require_GET
@for_roles(*ALL_ROLES)
def ticket_list(request):
    user = request.user
    form = TicketFilterForm(request.GET, user=user)
    filters = form.cleaned_data if form.is_valid() else {}
    context = {
        "filter_form": form,
        "page": paginate(request, tables.tickets(user, filters)),
        "queues": tables.queues(user) if user.role in OPERATOR_STAFF else [],
        "may_create": user.role in INTAKE_ROLES,
    }
    template = "service/_ticket_table.html" if is_htmx(request) else "service/ticket_list.html"
    response = render(request, template, context)
    patch_vary_headers(response, ["HX-Request"])
    return response


@require_http_methods(["GET", "POST"])
@for_roles(*INTAKE_ROLES)
def ticket_create(request):
    form = TicketForm(request.POST if request.method == "POST" else None, user=request.user)
    refused = None
    if request.method == "POST" and form.is_valid():
        ticket, refused = run_action(form, actions.open_ticket, actor=request.user,
                                     **form.action_fields())
        if not refused:
            messages.success(request, _("Ticket %(number)s was taken in.")
                             % {"number": ticket.number})
            return redirect("console:service-ticket-detail", pk=ticket.pk)
    return render(request, "service/ticket_form.html", {"form": form},
                  status=form_status(request, form, refused))


# --- Ticket steps -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Step:
    """One step a person may take on a ticket from the console."""

    name: str
    action: object
    form: type
    title: Promise
    button: Promise
    button_class: str
    from_statuses: tuple
    may: object  # may(user, ticket) -> bool: the role rule, mirroring the action's

    def offered_to(self, user, ticket):
        return ticket.status in self.from_statuses and self.may(user, ticket)


def _escalates(user, ticket):
    return (user.role in actions.ESCALATING_ROLES and ticket.tier == 1
            and actions.works_queue(user, ticket))


def _dispatches(user, ticket):
    return ticket.ticket_class != TicketClass.BUSINESS and actions.works_queue(user, ticket)


S = TicketStatus
TICKET_STEPS = {step.name: step for step in (
    Step("acknowledge", actions.acknowledge_ticket, NoteForm, gettext_lazy("Acknowledge ticket"),
         gettext_lazy("Acknowledge"), "primary", (S.NEW, S.ESCALATED, S.REOPENED),
         actions.works_queue),
    Step("dispatch", actions.dispatch_ticket, DispatchForm, gettext_lazy("Dispatch work order"),
         gettext_lazy("Dispatch"), "primary", (S.ACKNOWLEDGED,), _dispatches),
    Step("resolve", actions.resolve_ticket, ResolveForm, gettext_lazy("Resolve ticket"),
         gettext_lazy("Resolve"), "success", (S.ACKNOWLEDGED,), actions.works_queue),
    Step("escalate", actions.escalate_ticket, ReasonForm, gettext_lazy("Escalate to tier 2"),
         gettext_lazy("Escalate"), "warning", (S.NEW, S.ACKNOWLEDGED, S.REOPENED), _escalates),
    Step("confirm", actions.confirm_resolution, ConfirmForm,
         gettext_lazy("Confirm the resolution"), gettext_lazy("Confirm"), "success",
         (S.RESOLVED,), actions.is_customer_side),
    Step("reject", actions.reject_resolution, ReasonForm, gettext_lazy("Reject the resolution"),
         gettext_lazy("Not solved"), "warning", (S.RESOLVED,), actions.is_customer_side),
    Step("close", actions.close_ticket, NoteForm, gettext_lazy("Close ticket"),
         gettext_lazy("Close"), "secondary", (S.CONFIRMED,), actions.works_queue),
    Step("cancel", actions.cancel_ticket, ReasonForm, gettext_lazy("Cancel ticket"),
         gettext_lazy("Cancel ticket"), "danger", (S.NEW, S.ACKNOWLEDGED, S.ESCALATED, S.REOPENED),
         lambda user, ticket: actions.works_queue(user, ticket)
         or actions.is_customer_side(user, ticket)),
)}


def _ticket_queryset():
    return Ticket.objects.select_related("group_customer", "branch", "member", "vendor",
                                         "raised_by", "escalated_by", "confirmed_by")


@require_GET
@for_roles(*ALL_ROLES)
def ticket_detail(request, pk):
    user = request.user
    ticket = fetch_or_404(_ticket_queryset(), pk, user)
    may_change = Ticket.objects.changeable_by(user).filter(pk=ticket.pk).exists()
    now = timezone.now()
    return render(request, "service/ticket_detail.html", {
        "ticket": ticket,
        "breaches": [str(kind) for kind in ticket.sla_breaches(now)],
        "events": ticket.events.select_related("actor", "work_order"),
        "work_orders": ticket.work_orders.select_related("integrator", "vendor", "engineer"),
        "steps": [
            {"url": reverse(f"console:service-ticket-{step.name}", args=[ticket.pk]),
             "label": step.button, "button_class": step.button_class}
            for step in TICKET_STEPS.values() if may_change and step.offered_to(user, ticket)
        ],
    })


def _ticket_step_view(step):
    @require_http_methods(["GET", "POST"])
    @for_roles(*ALL_ROLES)
    def view(request, pk):
        ticket = fetch_or_404(_ticket_queryset(), pk, request.user, for_change=True)
        data = request.POST if request.method == "POST" else None
        form = step.form(data, ticket=ticket) if step.form is DispatchForm else step.form(data)
        refused = None
        if request.method == "POST" and form.is_valid():
            _result, refused = run_action(form, step.action, model=Ticket, actor=request.user,
                                          ticket=ticket, **form.cleaned_data)
            if not refused:
                messages.success(request, _("Ticket %(number)s: done.")
                                 % {"number": ticket.number})
                if Ticket.objects.visible_to(request.user).filter(pk=ticket.pk).exists():
                    return redirect("console:service-ticket-detail", pk=ticket.pk)
                return redirect("console:service-ticket-list")  # it left the viewer's queue
        return render(request, "service/step.html", {
            "form": form, "step": step, "ticket": ticket,
            "back": reverse("console:service-ticket-detail", args=[ticket.pk]),
        }, status=form_status(request, form, refused))

    view.__name__ = f"ticket_{step.name}"
    return view


ticket_step_views = {name: _ticket_step_view(step) for name, step in TICKET_STEPS.items()}


# --- Work orders --------------------------------------------------------------------------------


W = WorkOrderStatus
WORK_ORDER_STEPS = {step.name: step for step in (
    Step("accept", actions.accept_work_order, EmptyForm, gettext_lazy("Accept work order"),
         gettext_lazy("Accept"), "primary", (W.DISPATCHED,), actions.is_assignee_engineer),
    Step("decline", actions.decline_work_order, ReasonForm, gettext_lazy("Decline work order"),
         gettext_lazy("Decline"), "danger", (W.DISPATCHED,), actions.is_assignee_engineer),
    Step("arrive", actions.arrive_on_site, NoteForm, gettext_lazy("Arrived on site"),
         gettext_lazy("Arrived on site"), "primary", (W.ACCEPTED,), actions.is_assignee_engineer),
    Step("report", actions.report_work_order, WorkOrderReportForm,
         gettext_lazy("Report the result"), gettext_lazy("Report result"), "success",
         (W.ACCEPTED, W.ON_SITE), actions.is_assignee_engineer),
)}


def _work_order_queryset():
    return WorkOrder.objects.select_related("ticket", "ticket__group_customer", "ticket__branch",
                                            "integrator", "vendor", "engineer", "dispatched_by")


@require_GET
@for_roles(*WORK_ORDER_PAGE_ROLES)
def work_order_list(request):
    status = request.GET.get("status") or ""
    if status not in {"", "active", *W.values}:
        status = ""
    return render(request, "service/work_order_list.html", {
        "page": paginate(request, tables.work_orders(request.user, status)),
        "status": status,
        "statuses": [("", _("All")), ("active", _("In progress")), *W.choices],
    })


@require_GET
@for_roles(*ALL_ROLES)
def work_order_detail(request, pk):
    user = request.user
    work_order = fetch_or_404(_work_order_queryset(), pk, user)
    may_change = WorkOrder.objects.changeable_by(user).filter(pk=work_order.pk).exists()
    return render(request, "service/work_order_detail.html", {
        "work_order": work_order,
        "ticket": work_order.ticket,
        "may_see_ticket": Ticket.objects.visible_to(user).filter(pk=work_order.ticket_id)
        .exists(),
        "steps": [
            {"url": reverse(f"console:service-work-order-{step.name}", args=[work_order.pk]),
             "label": step.button, "button_class": step.button_class}
            for step in WORK_ORDER_STEPS.values()
            if may_change and step.offered_to(user, work_order)
        ],
    })


def _work_order_step_view(step):
    @require_http_methods(["GET", "POST"])
    @for_roles(*ENGINEER_ROLES)
    def view(request, pk):
        work_order = fetch_or_404(_work_order_queryset(), pk, request.user, for_change=True)
        form = step.form(request.POST if request.method == "POST" else None)
        refused = None
        if request.method == "POST" and form.is_valid():
            _result, refused = run_action(form, step.action, model=WorkOrder,
                                          actor=request.user, work_order=work_order,
                                          **form.cleaned_data)
            if not refused:
                messages.success(request, _("Work order %(number)s: done.")
                                 % {"number": work_order.number})
                return redirect("console:service-work-order-detail", pk=work_order.pk)
        return render(request, "service/step.html", {
            "form": form, "step": step, "ticket": work_order.ticket, "work_order": work_order,
            "back": reverse("console:service-work-order-detail", args=[work_order.pk]),
        }, status=form_status(request, form, refused))

    view.__name__ = f"work_order_{step.name}"
    return view


work_order_step_views = {name: _work_order_step_view(step)
                         for name, step in WORK_ORDER_STEPS.items()}


# --- Reports ------------------------------------------------------------------------------------


def _period(request):
    form = ReportPeriodForm(request.GET or None)
    data = form.cleaned_data if form.is_bound and form.is_valid() else {}
    return form, reports.Period(since=data.get("since"), until=data.get("until"))


@require_GET
@for_roles(*REPORT_ROLES)
def report(request):
    form, period = _period(request)
    return render(request, "service/report.html", {
        "form": form, "report": reports.summary(request.user, period=period),
        "query": request.GET.urlencode(),
    })


@require_GET
@for_roles(*REPORT_ROLES)
def report_export(request):
    _form, period = _period(request)
    content = reports.export_xlsx(reports.summary(request.user, period=period))
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    response = HttpResponse(content, content_type=XLSX)
    response["Content-Disposition"] = f'attachment; filename="service-report-{stamp}.xlsx"'
    return response
