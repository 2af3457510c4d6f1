"""Service desk API: tickets and their steps, work orders and the engineer's steps, reports.

Each write validates its input and calls ONE action of ``service.actions``; tickets and work
orders are fetched only through the gatekeepers (404 for "not found" and "not allowed" alike).
"""

import re

from django.http import HttpResponse
from django.utils import timezone
from django_filters import rest_framework as filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
)
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.response import Response
from rest_framework.views import APIView

from onecard.accounts.choices import OPERATOR_STAFF
from onecard.core.api import GatekeptViewSetMixin, IdFilter
from onecard.organizations.api.serializers import IntegratorSerializer

from .. import actions, reports
from ..choices import (
    AssigneeKind,
    TicketChannel,
    TicketClass,
    TicketPriority,
    TicketStatus,
    WorkOrderStatus,
)
from ..models import Ticket, WorkOrder
from . import serializers as s

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class ReadViewSet(GatekeptViewSetMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin,
                  viewsets.GenericViewSet):
    """List and retrieve through ``visible_to``; subclasses add writes that call actions."""

    def get_serializer_context(self):
        # One "now" per request, so every row's SLA flags are judged at the same instant.
        return {**super().get_serializer_context(), "now": timezone.now()}


# --- Tickets ------------------------------------------------------------------------------------


# Strict booleans for filters: anything else is refused with the parameter named.
YES_NO = [("true", "true"), ("false", "false")]


def _yes(value):
    return value == "true"


class TicketFilter(filters.FilterSet):
    status = filters.MultipleChoiceFilter(choices=TicketStatus.choices)
    tier = filters.TypedChoiceFilter(choices=[("1", "1"), ("2", "2")], coerce=int)
    ticket_class = filters.ChoiceFilter(choices=TicketClass.choices)
    priority = filters.ChoiceFilter(choices=TicketPriority.choices)
    channel = filters.ChoiceFilter(choices=TicketChannel.choices)
    group_customer = IdFilter(field_name="group_customer")
    branch = IdFilter(field_name="branch")
    member = IdFilter(field_name="member")
    is_open = filters.TypedChoiceFilter(choices=YES_NO, coerce=_yes, method="filter_is_open",
                                        label="Still waiting for a resolution")
    breached = filters.TypedChoiceFilter(choices=YES_NO, coerce=_yes, method="filter_breached",
                                         label="An SLA deadline has passed without its step")

    class Meta:
        model = Ticket
        fields = ["status", "tier", "ticket_class", "priority", "channel", "group_customer",
                  "branch", "member", "is_open", "breached"]

    @extend_schema_field(OpenApiTypes.BOOL)
    def filter_is_open(self, queryset, name, value):
        from ..choices import OPEN_STATUSES

        return (queryset.filter(status__in=OPEN_STATUSES) if value
                else queryset.exclude(status__in=OPEN_STATUSES))

    @extend_schema_field(OpenApiTypes.BOOL)
    def filter_breached(self, queryset, name, value):
        return queryset.with_sla(timezone.now()).filter(sla_breached=value)


class TicketViewSet(ReadViewSet):
    """Service tickets (服务请求/工单). No DELETE: closing or cancelling ends a ticket."""

    queryset = Ticket.objects.select_related("group_customer", "branch")
    serializer_class = s.TicketSerializer
    input_serializers = {
        "create": s.TicketOpenSerializer,
        "acknowledge": s.StepNoteSerializer,
        "escalate": s.StepReasonSerializer,
        "dispatch_work_order": s.TicketDispatchSerializer,
        "resolve": s.TicketResolveSerializer,
        "confirm": s.TicketConfirmSerializer,
        "reject": s.StepReasonSerializer,
        "close": s.StepNoteSerializer,
        "cancel": s.StepReasonSerializer,
    }
    filterset_class = TicketFilter
    search_fields = ["title", "description", "contact_name", "contact_phone",
                     "group_customer__name"]
    ordering_fields = ["created_at", "priority", "status", "response_due_at",
                       "resolution_due_at"]
    ordering = ["-created_at", "-id"]

    def get_serializer_class(self):
        if self.action == "retrieve":
            return s.TicketDetailSerializer
        return super().get_serializer_class()

    def retrieve(self, request, pk=None):
        """One ticket with its history (every step) and its work orders."""
        ticket = self.get_gated_object()
        ticket = Ticket.objects.select_related("group_customer", "branch").prefetch_related(
            "events", "work_orders").get(pk=ticket.pk)
        return Response(s.TicketDetailSerializer(ticket, context=self.get_serializer_context())
                        .data)

    @extend_schema(responses={201: s.TicketSerializer})
    def create(self, request):
        """Take a ticket in. It lands in the tier-1 queue of the customer's branch."""
        data = self.validated_input()
        ticket = actions.open_ticket(actor=request.user, **data)
        return self.answer(ticket, status.HTTP_201_CREATED)

    def _step(self, action_function, **extra):
        ticket = self.get_gated_object(for_change=True)
        data = self.validated_input()
        result = action_function(actor=self.request.user, ticket=ticket, **data, **extra)
        return self.answer(result if isinstance(result, Ticket) else result.ticket)

    @extend_schema(responses={200: s.TicketSerializer})
    @action(detail=True, methods=["post"])
    def acknowledge(self, request, pk=None):
        """new / escalated / reopened → acknowledged: the ticket's queue takes it."""
        return self._step(actions.acknowledge_ticket)

    @extend_schema(responses={200: s.TicketSerializer})
    @action(detail=True, methods=["post"])
    def escalate(self, request, pk=None):
        """Tier 1 → tier 2, once; by tier-1 agents and customer managers."""
        return self._step(actions.escalate_ticket)

    @extend_schema(request=s.TicketDispatchSerializer, responses={201: s.WorkOrderSerializer})
    @action(detail=True, methods=["post"], url_path="dispatch", url_name="dispatch")
    def dispatch_work_order(self, request, pk=None):
        """acknowledged → dispatched: a work order to an integrator serving the customer's
        county, or to the vendor. Answers the work order."""
        ticket = self.get_gated_object(for_change=True)
        data = self.validated_input()
        work_order = actions.dispatch_ticket(actor=request.user, ticket=ticket, **data)
        return Response(s.WorkOrderSerializer(work_order).data, status=status.HTTP_201_CREATED)

    @extend_schema(responses={200: s.TicketSerializer})
    @action(detail=True, methods=["post"])
    def resolve(self, request, pk=None):
        """acknowledged → resolved, by the queue (no work order in progress)."""
        return self._step(actions.resolve_ticket)

    @extend_schema(responses={200: s.TicketSerializer})
    @action(detail=True, methods=["post"])
    def confirm(self, request, pk=None):
        """resolved → confirmed, by the customer, with an optional satisfaction score 1–5."""
        return self._step(actions.confirm_resolution)

    @extend_schema(responses={200: s.TicketSerializer})
    @action(detail=True, methods=["post"])
    def reject(self, request, pk=None):
        """resolved → reopened, by the customer: the problem is not solved."""
        return self._step(actions.reject_resolution)

    @extend_schema(responses={200: s.TicketSerializer})
    @action(detail=True, methods=["post"])
    def close(self, request, pk=None):
        """confirmed → closed; refused while the customer has not confirmed."""
        return self._step(actions.close_ticket)

    @extend_schema(responses={200: s.TicketSerializer})
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        """→ cancelled, before a work order is in progress."""
        return self._step(actions.cancel_ticket)

    @extend_schema(responses={200: IntegratorSerializer(many=True)})
    @action(detail=True, methods=["get"])
    def integrators(self, request, pk=None):
        """The integrators a work order for this ticket may go to (serving its county)."""
        ticket = self.get_gated_object(for_change=True)
        integrators = actions.suggested_integrators(ticket).prefetch_related("counties")
        return Response(IntegratorSerializer(integrators, many=True).data)


# --- Work orders --------------------------------------------------------------------------------


class WorkOrderFilter(filters.FilterSet):
    status = filters.MultipleChoiceFilter(choices=WorkOrderStatus.choices)
    assignee_kind = filters.ChoiceFilter(choices=AssigneeKind.choices)
    integrator = IdFilter(field_name="integrator")
    vendor = IdFilter(field_name="vendor")
    ticket = IdFilter(field_name="ticket")

    class Meta:
        model = WorkOrder
        fields = ["status", "assignee_kind", "integrator", "vendor", "ticket"]


class WorkOrderViewSet(ReadViewSet):
    """Work orders (派工单). Engineers of the assignee move them; others read."""

    queryset = WorkOrder.objects.select_related("ticket")
    serializer_class = s.WorkOrderSerializer
    input_serializers = {
        "accept": s.StepEmptySerializer,
        "decline": s.StepReasonSerializer,
        "arrive": s.StepNoteSerializer,
        "report": s.WorkOrderReportSerializer,
    }
    filterset_class = WorkOrderFilter
    search_fields = ["instructions", "result", "ticket__title"]
    ordering_fields = ["created_at", "status"]
    ordering = ["-created_at", "-id"]

    def _step(self, action_function):
        work_order = self.get_gated_object(for_change=True)
        data = self.validated_input()
        work_order = action_function(actor=self.request.user, work_order=work_order, **data)
        return self.answer(work_order)

    @extend_schema(responses={200: s.WorkOrderSerializer})
    @action(detail=True, methods=["post"])
    def accept(self, request, pk=None):
        """dispatched → accepted: an engineer of the assignee takes the job."""
        return self._step(actions.accept_work_order)

    @extend_schema(responses={200: s.WorkOrderSerializer})
    @action(detail=True, methods=["post"])
    def decline(self, request, pk=None):
        """dispatched → declined; the ticket goes back to its queue."""
        return self._step(actions.decline_work_order)

    @extend_schema(responses={200: s.WorkOrderSerializer})
    @action(detail=True, methods=["post"])
    def arrive(self, request, pk=None):
        """accepted → on site (the on-site SLA's step)."""
        return self._step(actions.arrive_on_site)

    @extend_schema(responses={200: s.WorkOrderSerializer})
    @action(detail=True, methods=["post"])
    def report(self, request, pk=None):
        """→ completed with the result: fixed resolves the ticket; not fixed returns it."""
        return self._step(actions.report_work_order)


# --- Reports ------------------------------------------------------------------------------------

PERIOD_PARAMETERS = [
    OpenApiParameter("since", OpenApiTypes.DATE, description="Tickets opened on or after"),
    OpenApiParameter("until", OpenApiTypes.DATE, description="Tickets opened on or before"),
]


def _report_for(request):
    if request.user.role not in OPERATOR_STAFF:
        raise NotFound()
    period = s.ReportPeriodSerializer(data=request.query_params)
    period.is_valid(raise_exception=True)
    return reports.summary(request.user, period=reports.Period(**period.validated_data))


class ReportView(APIView):
    """The service report for operator staff: tickets by class/branch/status, SLA breaches,
    integrator workload, resolution times, satisfaction. Counts only tickets the person sees."""

    @extend_schema(parameters=PERIOD_PARAMETERS, responses={200: OpenApiTypes.OBJECT})
    def get(self, request):
        return Response(_report_for(request))


class ReportExportView(APIView):
    """The same report as an .xlsx workbook."""

    def perform_content_negotiation(self, request, force=False):
        return super().perform_content_negotiation(request, force=True)

    @extend_schema(parameters=PERIOD_PARAMETERS, responses={
        (200, XLSX): OpenApiResponse(OpenApiTypes.BINARY, description="The report as .xlsx")})
    def get(self, request):
        content = reports.export_xlsx(_report_for(request))
        stamp = re.sub(r"[^0-9]", "", timezone.localtime().strftime("%Y%m%d%H%M"))
        response = HttpResponse(content, content_type=XLSX)
        response["Content-Disposition"] = f'attachment; filename="service-report-{stamp}.xlsx"'
        return response
