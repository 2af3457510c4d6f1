"""Shapes of the accounts and log-in API."""

from rest_framework import serializers

from onecard.core.api import ActionInputSerializer, GatekeptPrimaryKeyField, StrictSerializer
from onecard.organizations.api.serializers import own_customer
from onecard.organizations.models import Branch, GroupCustomer, Integrator, TerminalVendor
from onecard.people.models import Member

from ..models import User

ACCOUNT_FIELDS = ["id", "username", "role", "display_name", "phone", "email", "language",
                  "branch", "group_customer", "member", "integrator", "vendor", "is_active",
                  "last_login", "date_joined"]


class AccountSerializer(serializers.ModelSerializer):
    """An account as others see it. The password never leaves the server."""

    class Meta:
        model = User
        fields = ACCOUNT_FIELDS
        read_only_fields = fields


class AccountCreateSerializer(ActionInputSerializer):
    password = serializers.CharField(write_only=True, max_length=128, trim_whitespace=False,
                                     style={"input_type": "password"})
    branch = GatekeptPrimaryKeyField(queryset=Branch.objects.all(), required=False,
                                     allow_null=True)
    group_customer = GatekeptPrimaryKeyField(queryset=GroupCustomer.objects.all(),
                                             required=False, allow_null=True)
    member = GatekeptPrimaryKeyField(queryset=Member.objects.all(), scope="changeable_by",
                                     required=False, allow_null=True)
    integrator = GatekeptPrimaryKeyField(queryset=Integrator.objects.all(), required=False,
                                         allow_null=True)
    vendor = GatekeptPrimaryKeyField(queryset=TerminalVendor.objects.all(), required=False,
                                     allow_null=True)

    class Meta:
        model = User
        fields = ["username", "password", "role", "display_name", "phone", "email", "language",
                  "branch", "group_customer", "member", "integrator", "vendor"]
        extra_kwargs = {"role": {"required": True}}

    def validate(self, attrs):
        # An enterprise admin's new accounts belong to their own customer unless they say so.
        if "group_customer" not in attrs:
            customer = own_customer(self.context["request"].user)
            if customer is not None:
                attrs["group_customer"] = customer
        return attrs


class AccountUpdateSerializer(ActionInputSerializer):
    class Meta:
        model = User
        fields = ["display_name", "phone", "email", "language", "is_active"]


class MeUpdateSerializer(ActionInputSerializer):
    class Meta:
        model = User
        fields = ["display_name", "language"]


class PasswordChangeSerializer(StrictSerializer):
    current_password = serializers.CharField(max_length=128, trim_whitespace=False,
                                             style={"input_type": "password"})
    new_password = serializers.CharField(max_length=128, trim_whitespace=False,
                                         style={"input_type": "password"})


class UnlockResultSerializer(serializers.Serializer):
    unlocked = serializers.BooleanField(help_text="Whether a lock or failure count was lifted.")


class TokenRequestSerializer(StrictSerializer):
    username = serializers.CharField(max_length=150)
    password = serializers.CharField(max_length=128, trim_whitespace=False,
                                     style={"input_type": "password"})


class TokenSerializer(serializers.Serializer):
    token = serializers.CharField(help_text='Send as "Authorization: Token <token>".')
