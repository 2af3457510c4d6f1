"""Shapes of the cards API (lifecycle): what is answered, and what each action accepts."""

from rest_framework import serializers

from onecard.core.api import GatekeptPrimaryKeyField, StrictSerializer
from onecard.people.models import Member

from ..choices import ApplicationKind
from ..models import (
    Card,
    CardApplication,
    CardEvent,
    CarrierBinding,
    CredentialChange,
    PhoneModel,
)


class CardApplicationSerializer(serializers.ModelSerializer):
    class Meta:
        model = CardApplication
        fields = ["id", "card", "kind", "status", "channel", "opened_at", "deleted_at",
                  "created_at", "updated_at"]
        read_only_fields = fields


class CarrierBindingSerializer(serializers.ModelSerializer):
    class Meta:
        model = CarrierBinding
        fields = ["id", "card", "msisdn", "imsi", "status", "old_imsi", "old_sim_recovered_at",
                  "carrier_reference", "bound_at", "unbound_at"]
        read_only_fields = fields


class CardSerializer(serializers.ModelSerializer):
    applications = CardApplicationSerializer(many=True, read_only=True)

    class Meta:
        model = Card
        fields = ["id", "medium", "number", "iccid", "imsi", "chip_type", "prepared", "branch",
                  "group_customer", "member", "msisdn", "status", "suspension_scope",
                  "replaced_by", "phone_model", "read_threshold", "calibration_required",
                  "issued_at", "recovered_at", "status_changed_at", "created_at", "updated_at",
                  "applications"]
        read_only_fields = fields


class CardEventSerializer(serializers.ModelSerializer):
    class Meta:
        model = CardEvent
        fields = ["id", "card", "kind", "from_status", "to_status", "application", "actor",
                  "reason", "detail", "created_at"]
        read_only_fields = fields


class CredentialChangeSerializer(serializers.ModelSerializer):
    class Meta:
        model = CredentialChange
        fields = ["version", "card", "card_number", "state", "card_status", "applications",
                  "created_at"]
        read_only_fields = fields


class CredentialDeltaSerializer(serializers.Serializer):
    """The changes after ``since``, oldest first; ask again with ``since=next_since``."""

    group_customer = serializers.IntegerField()
    version = serializers.IntegerField(help_text="The list's latest version now.")
    next_since = serializers.IntegerField()
    more = serializers.BooleanField()
    changes = CredentialChangeSerializer(many=True)


class CardReasonSerializer(StrictSerializer):
    reason = serializers.CharField(max_length=2000, required=False, allow_blank=True)


class CardRequiredReasonSerializer(StrictSerializer):
    reason = serializers.CharField(max_length=2000)


class CardIssueSerializer(StrictSerializer):
    """Issue a card to a member, named by id or by their phone number in the roster."""

    member = GatekeptPrimaryKeyField(queryset=Member.objects.all(), required=False,
                                     scope="visible_to")
    msisdn = serializers.CharField(max_length=11, required=False, allow_blank=True)
    applications = serializers.ListField(
        child=serializers.ChoiceField(choices=ApplicationKind.choices), required=False,
        max_length=len(ApplicationKind.values) * 2)
    phone_model = serializers.PrimaryKeyRelatedField(queryset=PhoneModel.objects.all(),
                                                     required=False, allow_null=True)


class CardUnreportSerializer(CardReasonSerializer):
    identity_checked = serializers.BooleanField(
        help_text="The admin checked the cardholder's identity (required: true).")


class CardReplaceSerializer(CardReasonSerializer):
    new_card = GatekeptPrimaryKeyField(queryset=Card.objects.all(), scope="changeable_by")
    identity_checked = serializers.BooleanField(
        help_text="The admin checked the cardholder's identity (required: true).")


class CardDeregisterSerializer(CardReasonSerializer):
    client_id = serializers.CharField(max_length=64, help_text="Idempotency key of the refund.")
    recovered = serializers.BooleanField(required=False, default=False)


class OldSimRecoveredSerializer(CardReasonSerializer):
    binding = serializers.IntegerField(min_value=1, max_value=10**18 - 1)
