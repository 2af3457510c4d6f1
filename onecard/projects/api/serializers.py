"""Shapes of the projects API: what is answered, and what each action accepts.

Input serializers check shape only (types, lengths, references the requesting person may use);
the actions in ``projects.actions`` decide everything else.
"""

from rest_framework import serializers

from onecard.accounts.choices import Role
from onecard.accounts.models import User
from onecard.core.api import ActionInputSerializer, GatekeptPrimaryKeyField, StrictSerializer
from onecard.organizations.models import GroupCustomer, Integrator, TerminalVendor

from ..models import (
    ChecklistItem,
    EquipmentLine,
    ProcurementOrder,
    Project,
    ProjectEvent,
    ProjectStage,
    StageAttachment,
)

# --- Reference scopes ---------------------------------------------------------------------------

PROJECT_MANAGER_ROLES = {Role.OPERATOR_ADMIN, Role.CUSTOMER_MANAGER}
WORKER_ROLES = PROJECT_MANAGER_ROLES | {Role.INTEGRATOR_ENGINEER}


def owner_candidates(queryset, user):
    """Accounts a project manager may name as a stage owner: active customer managers and
    integrator engineers (operator-side staff, not tenant data). The action then checks that
    the owner looks after / serves this customer."""
    if getattr(user, "role", None) not in PROJECT_MANAGER_ROLES:
        return queryset.none()
    return queryset.filter(is_active=True, role__in=[Role.CUSTOMER_MANAGER,
                                                     Role.INTEGRATOR_ENGINEER])


def active_vendors(queryset, user):
    """Vendors a person who works on projects may order from."""
    if getattr(user, "role", None) not in WORKER_ROLES:
        return queryset.none()
    return queryset.filter(is_active=True)


class ProjectEquipmentField(GatekeptPrimaryKeyField):
    """An equipment line of the project in the serializer's context, by id."""

    def get_queryset(self):
        return EquipmentLine.objects.filter(project=self.context["project"])


# --- Answers ------------------------------------------------------------------------------------


class ChecklistItemSerializer(serializers.ModelSerializer):
    class Meta:
        model = ChecklistItem
        fields = ["id", "title", "position", "is_done", "done_by", "done_at"]
        read_only_fields = fields


class StageAttachmentSerializer(serializers.ModelSerializer):
    class Meta:
        model = StageAttachment
        fields = ["id", "original_name", "size", "description", "uploaded_by", "created_at"]
        read_only_fields = fields


class ProjectStageSerializer(serializers.ModelSerializer):
    checklist = ChecklistItemSerializer(many=True, read_only=True)
    attachments = StageAttachmentSerializer(many=True, read_only=True)

    class Meta:
        model = ProjectStage
        fields = [
            "id", "kind", "position", "status", "owner", "started_at", "started_by",
            "signed_off_at", "signed_off_by", "sign_off_note", "operator_signed_by",
            "operator_signed_at", "operator_note", "customer_signed_by", "customer_signed_at",
            "customer_note", "checklist", "attachments",
        ]
        read_only_fields = fields


class EquipmentLineSerializer(serializers.ModelSerializer):
    class Meta:
        model = EquipmentLine
        fields = ["id", "name", "model_number", "quantity", "vendor", "created_by", "created_at"]
        read_only_fields = fields


class ProcurementOrderSerializer(serializers.ModelSerializer):
    class Meta:
        model = ProcurementOrder
        fields = ["id", "order_number", "equipment_line", "vendor", "quantity", "created_by",
                  "created_at"]
        read_only_fields = fields


class ProjectEventSerializer(serializers.ModelSerializer):
    stage = serializers.SlugRelatedField(slug_field="kind", read_only=True)

    class Meta:
        model = ProjectEvent
        fields = ["id", "kind", "stage", "from_status", "to_status", "actor", "note",
                  "occurred_at", "created_at"]
        read_only_fields = fields


class ProjectSerializer(serializers.ModelSerializer):
    """A project as listed: its state, progress and the overdue flag."""

    is_overdue = serializers.BooleanField(read_only=True)
    final_acceptance_requested_late = serializers.BooleanField(read_only=True)
    swap_percent = serializers.IntegerField(read_only=True)

    class Meta:
        model = Project
        fields = [
            "id", "group_customer", "name", "integrator", "status", "current_stage",
            "swap_total", "swap_done", "swap_percent", "final_acceptance_due_at",
            "final_acceptance_requested_at", "final_acceptance_requested_late", "is_overdue",
            "created_by", "created_at", "closed_at",
        ]
        read_only_fields = fields


class ProjectDetailSerializer(ProjectSerializer):
    """A project with its stages (checklists, attachments, sign-offs), equipment and orders."""

    stages = ProjectStageSerializer(many=True, read_only=True)
    equipment = EquipmentLineSerializer(many=True, read_only=True)
    procurement_orders = ProcurementOrderSerializer(many=True, read_only=True)

    class Meta(ProjectSerializer.Meta):
        fields = [*ProjectSerializer.Meta.fields, "stages", "equipment", "procurement_orders"]
        read_only_fields = fields


# --- Inputs -------------------------------------------------------------------------------------


class ProjectCreateSerializer(ActionInputSerializer):
    group_customer = GatekeptPrimaryKeyField(queryset=GroupCustomer.objects.all(),
                                             scope="changeable_by")
    integrator = GatekeptPrimaryKeyField(queryset=Integrator.objects.all(), required=False,
                                         allow_null=True)
    swap_total = serializers.IntegerField(min_value=0, max_value=10_000_000, required=False)

    class Meta:
        model = Project
        fields = ["group_customer", "name", "integrator", "swap_total"]


class ProjectReasonSerializer(StrictSerializer):
    reason = serializers.CharField(max_length=2000)


class ProjectNoteSerializer(StrictSerializer):
    note = serializers.CharField(max_length=2000, required=False, allow_blank=True)


class StageOwnerSerializer(StrictSerializer):
    owner = GatekeptPrimaryKeyField(queryset=User.objects.all(), scope=owner_candidates)


class ChecklistItemCreateSerializer(StrictSerializer):
    title = serializers.CharField(max_length=200)


class ChecklistTickSerializer(StrictSerializer):
    done = serializers.BooleanField()


class StageAttachmentUploadSerializer(StrictSerializer):
    file = serializers.FileField(max_length=255, allow_empty_file=True)
    description = serializers.CharField(max_length=200, required=False, allow_blank=True)


class EquipmentLineCreateSerializer(ActionInputSerializer):
    vendor = GatekeptPrimaryKeyField(queryset=TerminalVendor.objects.all(), scope=active_vendors,
                                     required=False, allow_null=True)
    quantity = serializers.IntegerField(min_value=1, max_value=1_000_000)

    class Meta:
        model = EquipmentLine
        fields = ["name", "model_number", "quantity", "vendor"]


class ProcurementOrderCreateSerializer(ActionInputSerializer):
    equipment_line = ProjectEquipmentField(queryset=EquipmentLine.objects.all())
    vendor = GatekeptPrimaryKeyField(queryset=TerminalVendor.objects.all(), scope=active_vendors)
    quantity = serializers.IntegerField(min_value=1, max_value=1_000_000)

    class Meta:
        model = ProcurementOrder
        fields = ["equipment_line", "vendor", "order_number", "quantity"]


class SwapProgressSerializer(StrictSerializer):
    swapped = serializers.IntegerField(min_value=0, max_value=10_000_000)
    total = serializers.IntegerField(min_value=0, max_value=10_000_000, required=False)
