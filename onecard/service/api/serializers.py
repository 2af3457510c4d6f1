"""Shapes of the service desk API: what is answered, and what each action accepts.

Input serializers check shape only (types, lengths, choices, references the requesting person may
use); ``service.actions`` decides everything else.
"""

from rest_framework import serializers

from onecard.core.api import ActionInputSerializer, GatekeptPrimaryKeyField, StrictSerializer
from onecard.organizations.models import GroupCustomer, Integrator, TerminalVendor
from onecard.people.models import Member

from ..choices import WorkOrderOutcome
from ..models import Ticket, TicketEvent, WorkOrder

# --- Answers ------------------------------------------------------------------------------------


class WorkOrderSerializer(serializers.ModelSerializer):
    number = serializers.CharField(read_only=True)
    ticket_number = serializers.CharField(source="ticket.number", read_only=True)

    class Meta:
        model = WorkOrder
        fields = ["id", "number", "ticket", "ticket_number", "assignee_kind", "integrator",
                  "vendor", "status", "instructions", "dispatched_by", "engineer",
                  "created_at", "accepted_at", "arrived_at", "completed_at", "outcome", "result",
                  "decline_reason"]
        read_only_fields = fields


class TicketEventSerializer(serializers.ModelSerializer):
    class Meta:
        model = TicketEvent
        fields = ["id", "kind", "from_status", "to_status", "tier", "work_order", "actor",
                  "note", "created_at"]
        read_only_fields = fields


class TicketSerializer(serializers.ModelSerializer):
    number = serializers.CharField(read_only=True)
    sla_breaches = serializers.SerializerMethodField(
        help_text="SLA kinds breached as of now: response, on_site, resolution.")

    class Meta:
        model = Ticket
        fields = [
            "id", "number", "group_customer", "member", "vendor", "branch", "channel",
            "ticket_class", "priority", "title", "description", "contact_name", "contact_phone",
            "tier", "status", "raised_by", "created_at", "response_due_at", "on_site_due_at",
            "resolution_due_at", "acknowledged_at", "escalated_at", "escalated_by",
            "dispatched_at", "on_site_at", "resolved_at", "resolution", "confirmed_at",
            "confirmed_by", "satisfaction", "customer_comment", "closed_at", "sla_breaches",
        ]
        read_only_fields = fields

    def get_sla_breaches(self, ticket) -> list[str]:
        return [str(kind) for kind in ticket.sla_breaches(self.context.get("now"))]


class TicketDetailSerializer(TicketSerializer):
    """One ticket with its history and work orders."""

    events = TicketEventSerializer(many=True, read_only=True)
    work_orders = WorkOrderSerializer(many=True, read_only=True)

    class Meta(TicketSerializer.Meta):
        fields = [*TicketSerializer.Meta.fields, "events", "work_orders"]
        read_only_fields = fields


# --- Inputs -------------------------------------------------------------------------------------


class TicketOpenSerializer(ActionInputSerializer):
    """Intake. An enterprise admin or member may leave ``group_customer`` out: it is their own.
    A member's ticket is always for themselves."""

    group_customer = GatekeptPrimaryKeyField(queryset=GroupCustomer.objects.all(),
                                             required=False)
    member = GatekeptPrimaryKeyField(queryset=Member.objects.all(), required=False,
                                     allow_null=True)
    vendor = GatekeptPrimaryKeyField(queryset=TerminalVendor.objects.all(), required=False,
                                     allow_null=True)

    class Meta:
        model = Ticket
        fields = ["group_customer", "member", "vendor", "channel", "ticket_class", "priority",
                  "title", "description", "contact_name", "contact_phone"]
        extra_kwargs = {"channel": {"required": False}}

    def validate(self, attrs):
        attrs = super().validate(attrs)
        if "group_customer" not in attrs:
            user = self.context["request"].user
            customer = None
            if getattr(user, "group_customer_id", None):
                customer = GroupCustomer.objects.visible_to(user).filter(
                    pk=user.group_customer_id).first()
            if customer is None:
                raise serializers.ValidationError(
                    {"group_customer": [serializers.Field.default_error_messages["required"]]},
                    code="required",
                )
            attrs["group_customer"] = customer
        return attrs


class StepNoteSerializer(StrictSerializer):
    note = serializers.CharField(max_length=2000, required=False, allow_blank=True)


class StepReasonSerializer(StrictSerializer):
    reason = serializers.CharField(max_length=2000)


class TicketDispatchSerializer(StrictSerializer):
    """Either ``integrator`` (one serving the customer's county) or ``vendor``."""

    integrator = GatekeptPrimaryKeyField(queryset=Integrator.objects.all(), required=False,
                                         allow_null=True)
    vendor = GatekeptPrimaryKeyField(queryset=TerminalVendor.objects.all(), required=False,
                                     allow_null=True)
    instructions = serializers.CharField(max_length=5000, required=False, allow_blank=True)


class TicketResolveSerializer(StrictSerializer):
    resolution = serializers.CharField(max_length=5000)


class TicketConfirmSerializer(StrictSerializer):
    satisfaction = serializers.IntegerField(min_value=1, max_value=5, required=False,
                                            allow_null=True,
                                            help_text="Satisfaction score from 1 to 5.")
    comment = serializers.CharField(max_length=2000, required=False, allow_blank=True)


class WorkOrderReportSerializer(StrictSerializer):
    outcome = serializers.ChoiceField(choices=WorkOrderOutcome.choices)
    result = serializers.CharField(max_length=5000)


class StepEmptySerializer(StrictSerializer):
    """No body (or an empty object)."""


class ReportPeriodSerializer(serializers.Serializer):
    since = serializers.DateField(required=False)
    until = serializers.DateField(required=False)
