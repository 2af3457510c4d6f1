"""Shapes of the members API: what is answered, and what each action accepts."""

from rest_framework import serializers

from onecard.core.api import ActionInputSerializer, GatekeptPrimaryKeyField, StrictSerializer
from onecard.organizations.api.serializers import (
    DefaultsToOwnCustomer,
    people_changeable_customers,
)
from onecard.organizations.models import Department, GroupCustomer

from ..models import Member


class MemberSerializer(serializers.ModelSerializer):
    class Meta:
        model = Member
        fields = ["id", "group_customer", "department", "name", "phone", "employee_number",
                  "category", "status", "created_at", "updated_at"]
        read_only_fields = fields


class MemberUpdateSerializer(ActionInputSerializer):
    department = GatekeptPrimaryKeyField(queryset=Department.objects.all(), scope="changeable_by",
                                         required=False, allow_null=True)

    class Meta:
        model = Member
        fields = ["department", "name", "phone", "employee_number", "category"]


class MemberCreateSerializer(DefaultsToOwnCustomer, MemberUpdateSerializer):
    group_customer = GatekeptPrimaryKeyField(queryset=GroupCustomer.objects.all(),
                                             scope=people_changeable_customers, required=False)

    class Meta(MemberUpdateSerializer.Meta):
        fields = ["group_customer", *MemberUpdateSerializer.Meta.fields]


class MemberReasonSerializer(StrictSerializer):
    """Why a member's status changes (optional); recorded on the event and the audit record."""

    reason = serializers.CharField(max_length=2000, required=False, allow_blank=True)


class RosterUploadSerializer(StrictSerializer):
    file = serializers.FileField(allow_empty_file=True,
                                 help_text="An .xlsx workbook or a .csv file (UTF-8 or GB18030).")


class RosterErrorSerializer(serializers.Serializer):
    row = serializers.IntegerField(help_text="Row as a spreadsheet shows it; 0 = the whole file.")
    field = serializers.CharField(allow_null=True)
    code = serializers.CharField()
    message = serializers.CharField()


class RosterReportSerializer(serializers.Serializer):
    """What an import did: all rows created, or none and every problem found."""

    ok = serializers.BooleanField()
    created = serializers.IntegerField()
    errors = RosterErrorSerializer(many=True)
