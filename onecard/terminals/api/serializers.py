"""Shapes of the terminal registry API. The device secret is never answered, except once by
``rotate-secret``; the enrolment code once by create and ``enrolment-code``."""

from rest_framework import serializers

from onecard.core.api import GatekeptPrimaryKeyField, StrictSerializer
from onecard.organizations.api.serializers import DefaultsToOwnCustomer
from onecard.organizations.models import GroupCustomer, TerminalVendor
from onecard.wallet.models import Merchant

from ..choices import Frequency, TerminalKind
from ..models import Terminal, TerminalAlert
from ..querysets import customers_changeable_by


class TerminalAlertSerializer(serializers.ModelSerializer):
    class Meta:
        model = TerminalAlert
        fields = ["id", "kind", "first_sequence", "last_sequence", "detail", "created_at"]
        read_only_fields = fields


class TerminalSerializer(serializers.ModelSerializer):
    auth_failures = serializers.SerializerMethodField()

    class Meta:
        model = Terminal
        fields = ["id", "group_customer", "kind", "name", "frequencies", "location",
                  "merchant_account", "cash_drawer", "vendor", "firmware", "serial", "state",
                  "device_id", "enrolled_at", "last_seen_at", "clock_skew_seconds",
                  "last_sequence", "offline_sequence", "auth_failures", "last_failure_at",
                  "created_at", "updated_at"]
        read_only_fields = fields

    def get_auth_failures(self, terminal) -> dict[str, int]:
        return {"device_disabled": terminal.failures_device_disabled,
                "stale_timestamp": terminal.failures_stale_timestamp,
                "replayed_sequence": terminal.failures_replayed_sequence,
                "bad_signature": terminal.failures_bad_signature}


class TerminalDetailSerializer(TerminalSerializer):
    alerts = TerminalAlertSerializer(many=True, read_only=True)

    class Meta(TerminalSerializer.Meta):
        fields = [*TerminalSerializer.Meta.fields, "alerts"]
        read_only_fields = fields


class TerminalCreateSerializer(DefaultsToOwnCustomer, StrictSerializer):
    group_customer = GatekeptPrimaryKeyField(
        queryset=GroupCustomer.objects.all(), required=False,
        scope=lambda queryset, user: queryset.filter(pk__in=customers_changeable_by(user)))
    kind = serializers.ChoiceField(choices=TerminalKind.choices)
    name = serializers.CharField(max_length=100)
    location = serializers.CharField(max_length=200, required=False, allow_blank=True)
    frequencies = serializers.ListField(child=serializers.ChoiceField(choices=Frequency.choices),
                                        required=False, max_length=2)
    merchant = GatekeptPrimaryKeyField(queryset=Merchant.objects.all(), required=False,
                                       allow_null=True, scope="changeable_by")
    vendor = GatekeptPrimaryKeyField(queryset=TerminalVendor.objects.all(), required=False,
                                     allow_null=True, scope="visible_to")
    serial = serializers.CharField(max_length=64, required=False, allow_blank=True)


class RegisteredSerializer(serializers.Serializer):
    terminal = TerminalSerializer()
    enrolment_code = serializers.CharField(help_text="One-time; shown only now.")


class EnrolmentCodeSerializer(serializers.Serializer):
    enrolment_code = serializers.CharField(help_text="One-time; shown only now.")


class SecretSerializer(serializers.Serializer):
    device_id = serializers.CharField()
    secret = serializers.CharField(help_text="64 hex chars; shown only now.")


class TerminalReasonSerializer(StrictSerializer):
    reason = serializers.CharField(max_length=2000, required=False, allow_blank=True)
