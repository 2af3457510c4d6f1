"""Shapes of the wallet API: what is answered, and what each action accepts.

Amounts are integers of fen, nothing else: a float, a string ("12.5" or "1250"), a boolean, zero,
a negative number or more than ``MAX_TRANSFER_FEN`` is refused naming the field. References by
id accept only what the requesting person may use (another tenant's id "does not exist").
"""

from datetime import date, timedelta

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from onecard.core.api import ActionInputSerializer, GatekeptPrimaryKeyField, StrictSerializer
from onecard.core.money import MAX_TRANSFER_FEN, fen
from onecard.organizations.models import GroupCustomer
from onecard.people.choices import MemberCategory
from onecard.people.models import Member

from ..choices import PURSE_KINDS, AccountKind, TransferKind
from ..models import Account, Merchant, SpendingPolicy, Transfer
from ..reports import books_customers

# A statement covers at most this many days (a year and a day).
MAX_STATEMENT_DAYS = 366
FIRST_DAY, LAST_DAY = date(2000, 1, 1), date(2999, 12, 31)


# --- Reference scopes -------------------------------------------------------------------------


def changeable_customers(queryset, user):
    """Group customers in whose books ``user`` may move money."""
    return queryset.filter(pk__in=books_customers(user, for_change=True))


def changeable_members(queryset, user):
    return queryset.filter(group_customer__in=books_customers(user, for_change=True))


def changeable_accounts(queryset, user):
    return queryset.filter(group_customer__in=books_customers(user, for_change=True))


# --- Fields -----------------------------------------------------------------------------------


@extend_schema_field(OpenApiTypes.INT64)
class FenField(serializers.Field):
    """A whole, positive number of fen (a JSON integer), at most ``MAX_TRANSFER_FEN``."""

    def __init__(self, *, allow_zero=False, **kwargs):
        self.allow_zero = allow_zero
        kwargs.setdefault("help_text", f"Integer fen, 1 to {MAX_TRANSFER_FEN}.")
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        try:
            return fen(data, allow_zero=self.allow_zero)
        except ValueError as error:
            raise serializers.ValidationError(str(error), code="invalid")

    def to_representation(self, value):
        return value


class ClientIdField(serializers.CharField):
    """The caller's idempotency key: 1 to 64 printable characters, kept exactly as sent."""

    def __init__(self, **kwargs):
        super().__init__(max_length=64, min_length=1, trim_whitespace=False, **kwargs)

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        value = super().to_internal_value(data)
        if not value.isprintable():
            raise serializers.ValidationError(_("A client id is 1 to 64 printable characters."),
                                              code="invalid")
        return value


class BusinessDateField(serializers.DateField):
    """A business day (``YYYY-MM-DD``) between 2000 and 2999."""

    def to_internal_value(self, value):
        day = super().to_internal_value(value)
        if not FIRST_DAY <= day <= LAST_DAY:
            raise serializers.ValidationError(_("Choose a day between 2000 and 2999."),
                                              code="out_of_range")
        return day


class DefaultsToOwnBooks:
    """``group_customer`` may be left out by an enterprise admin: it is then their own."""

    def validate(self, attrs):
        attrs = super().validate(attrs)
        if "group_customer" not in attrs:
            user = self.context["request"].user
            customer = books_customers(user, for_change=True).filter(
                pk=getattr(user, "group_customer_id", None)).first()
            if customer is None:
                raise serializers.ValidationError(
                    {"group_customer": [serializers.Field.default_error_messages["required"]]},
                    code="required")
            attrs["group_customer"] = customer
        return attrs


def _customer_field():
    return GatekeptPrimaryKeyField(queryset=GroupCustomer.objects.all(),
                                   scope=changeable_customers, required=False)


def _member_field():
    return GatekeptPrimaryKeyField(queryset=Member.objects.all(), scope=changeable_members)


def _require_purses(member):
    if Account.objects.filter(member=member, kind__in=PURSE_KINDS).count() != len(PURSE_KINDS):
        raise serializers.ValidationError({"member": [_("This member has no purse.")]},
                                          code="no_purse")


# --- Answers ----------------------------------------------------------------------------------


class LedgerAccountSerializer(serializers.ModelSerializer):
    balance = serializers.IntegerField(read_only=True, help_text="credits − debits posted, fen")
    available = serializers.IntegerField(read_only=True, help_text="balance − pending debits")

    class Meta:
        model = Account
        fields = ["id", "group_customer", "kind", "member", "merchant", "code", "status",
                  "balance", "available", "debits_posted", "credits_posted", "debits_pending",
                  "credits_pending", "overdraft_limit", "subsidy_expires_at", "created_at",
                  "closed_at"]
        read_only_fields = fields


class TransferSerializer(serializers.ModelSerializer):
    class Meta:
        model = Transfer
        fields = ["id", "group_customer", "client_id", "leg", "kind", "phase", "amount",
                  "debit_account", "credit_account", "pending", "timeout_at", "reverses",
                  "actor", "terminal_code", "card_number", "offline", "memo", "created_at"]
        read_only_fields = fields


class MerchantAccountSerializer(serializers.ModelSerializer):
    balance = serializers.IntegerField(read_only=True)

    class Meta:
        model = Account
        fields = ["id", "kind", "code", "status", "balance"]
        read_only_fields = fields


class MerchantSerializer(serializers.ModelSerializer):
    accounts = MerchantAccountSerializer(many=True, read_only=True)

    class Meta:
        model = Merchant
        fields = ["id", "group_customer", "name", "code", "is_active", "created_at", "accounts"]
        read_only_fields = fields


class SpendingPolicySerializer(serializers.ModelSerializer):
    class Meta:
        model = SpendingPolicy
        fields = ["id", "group_customer", "category", "per_transaction_limit", "daily_limit",
                  "pin_threshold", "offline_per_transaction_limit", "offline_daily_limit",
                  "updated_at"]
        read_only_fields = fields


class PostedSerializer(serializers.Serializer):
    """What a money request answers: its client id and its transfers (legs), the same for the
    first request (201) and every retry with the same content (200)."""

    client_id = serializers.CharField()
    transfers = TransferSerializer(many=True)


# --- Inputs -----------------------------------------------------------------------------------


class MerchantCreateSerializer(DefaultsToOwnBooks, ActionInputSerializer):
    group_customer = _customer_field()

    class Meta:
        model = Merchant
        fields = ["group_customer", "name", "code"]


class SpendingPolicySetSerializer(DefaultsToOwnBooks, StrictSerializer):
    """The limits of one member category. A limit left out stays as it is; null removes it."""

    group_customer = _customer_field()
    category = serializers.ChoiceField(choices=MemberCategory.choices)
    per_transaction_limit = FenField(required=False, allow_null=True)
    daily_limit = FenField(required=False, allow_null=True)
    pin_threshold = FenField(required=False, allow_null=True)
    offline_per_transaction_limit = FenField(required=False, allow_null=True)
    offline_daily_limit = FenField(required=False, allow_null=True)


class TopUpSerializer(StrictSerializer):
    """Money paid in at a counter: from a cash drawer (or clearing) onto a member's purse."""

    member = _member_field()
    amount = FenField()
    client_id = ClientIdField()
    source = GatekeptPrimaryKeyField(
        queryset=Account.objects.filter(kind__in=[AccountKind.CASH_DRAWER,
                                                  AccountKind.EXTERNAL_CLEARING]),
        scope=changeable_accounts, help_text="A cash drawer or external clearing account.")

    def validate(self, attrs):
        if attrs["source"].group_customer_id != attrs["member"].group_customer_id:
            raise serializers.ValidationError(
                {"source": [_("The source belongs to another group customer.")]},
                code="other_customer")
        _require_purses(attrs["member"])
        return attrs


class RefundSerializer(DefaultsToOwnBooks, StrictSerializer):
    """Give back (part of) a purchase, found by its client id in the group customer's books."""

    group_customer = _customer_field()
    purchase_client_id = serializers.CharField(max_length=64, trim_whitespace=False)
    amount = FenField()
    client_id = ClientIdField()
    reason = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")

    def validate(self, attrs):
        attrs = super().validate(attrs)
        found = Transfer.objects.filter(group_customer=attrs["group_customer"],
                                        client_id=attrs["purchase_client_id"],
                                        kind=TransferKind.PURCHASE).exists()
        if not found:
            raise serializers.ValidationError(
                {"purchase_client_id": [_("No purchase with this client id.")]},
                code="does_not_exist")
        return attrs


class ReversalSerializer(StrictSerializer):
    """Undo (part of) one transfer; ``amount`` left out: all of it."""

    amount = FenField(required=False)
    client_id = ClientIdField()
    reason = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")


class SubsidyGrantSerializer(StrictSerializer):
    member = _member_field()
    amount = FenField()
    client_id = ClientIdField()
    expires_at = serializers.DateTimeField(required=False, allow_null=True, default=None)

    def validate(self, attrs):
        expires_at = attrs.get("expires_at")
        if expires_at is not None and expires_at <= timezone.now():
            raise serializers.ValidationError(
                {"expires_at": [_("The expiry must be in the future.")]}, code="past")
        member = attrs["member"]
        _require_purses(member)
        # The subsidy comes from the customer's equity account, made by ``open_ledger``.
        if not Account.objects.filter(group_customer_id=member.group_customer_id,
                                      kind=AccountKind.EQUITY, member=None,
                                      merchant=None).exists():
            raise serializers.ValidationError(
                {"member": [_("This group customer's ledger is not open.")]}, code="no_ledger")
        return attrs


# --- Report parameters ------------------------------------------------------------------------


class StatementQuerySerializer(serializers.Serializer):
    """``start`` (inclusive) and ``end`` (exclusive) business days."""

    start = BusinessDateField()
    end = BusinessDateField()

    def validate(self, attrs):
        days = (attrs["end"] - attrs["start"]).days
        if days < 1:
            raise serializers.ValidationError({"end": [_("The end must be after the start.")]},
                                              code="invalid")
        if days > MAX_STATEMENT_DAYS:
            raise serializers.ValidationError(
                {"end": [_("A statement covers at most %(days)s days.")
                         % {"days": MAX_STATEMENT_DAYS}]}, code="too_long")
        return attrs


class DayQuerySerializer(serializers.Serializer):
    """``day``: a business day; today when left out."""

    day = BusinessDateField(required=False)


def default_statement_range(today):
    """The last 30 days up to and including today."""
    return today - timedelta(days=29), today + timedelta(days=1)
