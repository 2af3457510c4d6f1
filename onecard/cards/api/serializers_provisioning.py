"""Shapes of the card stock, application plan, opening, phone model and calibration API, and the
gatekeeper querysets of the rows that have no manager of their own (plans, jobs, phone models).

References by id accept only what the requesting person may use: another tenant's id "does not
exist". Row-level checks (Luhn digits, lengths, duplicates) are the actions' job; these
serializers check shapes only.
"""

from django.db import models
from rest_framework import serializers

from onecard.accounts.choices import OPERATOR_STAFF, Role
from onecard.core.api import (
    PK_MAX,
    ActionInputSerializer,
    GatekeptPrimaryKeyField,
    StrictSerializer,
)
from onecard.core.gatekeepers import is_active_user
from onecard.organizations.models import Branch, GroupCustomer

from ..actions.calibration import MAX_DBM, MIN_DBM
from ..actions.stock import MAX_BATCH
from ..choices import ApplicationKind, CardMedium
from ..models import (
    ApplicationPlan,
    CalibrationRecord,
    Card,
    CardApplication,
    PhoneModel,
    ProvisioningJob,
)
from ..querysets import card_filter

# --- Gatekeepers for plans, jobs and phone models ----------------------------------------------


class ApplicationPlanQuerySet(models.QuerySet):
    """Plans: read by whoever sees the group customer (not members); changed by operator admins
    and the customer's managers."""

    def visible_to(self, user):
        if not is_active_user(user) or user.role in (Role.MEMBER, Role.VENDOR_ENGINEER):
            return self.none()
        return self.filter(group_customer__in=GroupCustomer.objects.visible_to(user))

    def changeable_by(self, user):
        if not is_active_user(user):
            return self.none()
        return self.filter(group_customer__in=GroupCustomer.objects.changeable_by(user))


class ProvisioningJobQuerySet(models.QuerySet):
    """Jobs follow their card: a member sees the openings of their own card, an enterprise
    admin their customer's, operator staff as for cards."""

    def _scoped(self, user, for_change):
        condition = card_filter(user, prefix="application__card__", for_change=for_change)
        if condition is None:
            return self.all()
        if condition is False:
            return self.none()
        return self.filter(condition)

    def visible_to(self, user):
        return self._scoped(user, False)

    def changeable_by(self, user):
        return self._scoped(user, True)


class PhoneModelQuerySet(models.QuerySet):
    """The handset catalogue: read by every signed-in person, kept by operator staff."""

    def visible_to(self, user):
        return self.all() if is_active_user(user) else self.none()

    def changeable_by(self, user):
        if is_active_user(user) and user.role in (Role.OPERATOR_ADMIN, Role.CUSTOMER_MANAGER):
            return self.all()
        return self.none()


def plans():
    return ApplicationPlanQuerySet(model=ApplicationPlan).select_related("group_customer")


def jobs():
    return ProvisioningJobQuerySet(model=ProvisioningJob).select_related(
        "application__card__member", "group_customer")


def phone_models():
    return PhoneModelQuerySet(model=PhoneModel)


def stock_readers():
    """Roles that read the stock API (integrator engineers: their customers' cards)."""
    return OPERATOR_STAFF | {Role.INTEGRATOR_ENGINEER}


# --- Read shapes --------------------------------------------------------------------------


class StockCardSerializer(serializers.ModelSerializer):
    class Meta:
        model = Card
        fields = ["id", "medium", "number", "iccid", "imsi", "chip_type", "prepared", "branch",
                  "group_customer", "member", "status", "created_at", "status_changed_at"]
        read_only_fields = fields


class ApplicationPlanSerializer(serializers.ModelSerializer):
    class Meta:
        model = ApplicationPlan
        fields = ["id", "group_customer", "kind", "enabled", "quota", "updated_at"]
        read_only_fields = fields


class OpeningApplicationSerializer(serializers.ModelSerializer):
    card_number = serializers.CharField(source="card.number", read_only=True)
    member = serializers.IntegerField(source="card.member_id", read_only=True)

    class Meta:
        model = CardApplication
        fields = ["id", "card", "card_number", "member", "kind", "status", "channel",
                  "requested_by", "opened_at", "created_at"]
        read_only_fields = fields


class ProvisioningJobSerializer(serializers.ModelSerializer):
    application = OpeningApplicationSerializer(read_only=True)

    class Meta:
        model = ProvisioningJob
        fields = ["id", "group_customer", "status", "attempts", "max_attempts",
                  "next_attempt_at", "expires_at", "channel_reference", "last_error",
                  "delivered_at", "created_at", "updated_at", "application"]
        read_only_fields = fields


class PhoneModelSerializer(serializers.ModelSerializer):
    class Meta:
        model = PhoneModel
        fields = ["id", "manufacturer", "model", "default_threshold", "min_signal",
                  "max_signal", "created_at"]
        read_only_fields = fields


class CalibrationRecordSerializer(serializers.ModelSerializer):
    class Meta:
        model = CalibrationRecord
        fields = ["id", "card", "phone_model", "measured_signal", "threshold", "success",
                  "terminal_code", "actor", "created_at"]
        read_only_fields = fields


# --- Input shapes -------------------------------------------------------------------------


def _changeable_cards(queryset, user):
    return queryset.changeable_by(user)


class CardIdsField(serializers.ListField):
    def __init__(self, **kwargs):
        super().__init__(child=serializers.IntegerField(min_value=1, max_value=PK_MAX),
                         allow_empty=False, max_length=MAX_BATCH, **kwargs)


class ReceiveCardsSerializer(StrictSerializer):
    branch = GatekeptPrimaryKeyField(queryset=Branch.objects.all())
    medium = serializers.ChoiceField(choices=CardMedium.choices)
    prepared = serializers.BooleanField(default=False)
    cards = serializers.ListField(
        child=serializers.DictField(), allow_empty=False, max_length=MAX_BATCH,
        help_text='RFID-SIM: {"number", "iccid", "imsi"}; IC card: {"number", "chip_type"}.')


class AssignCardsSerializer(StrictSerializer):
    cards = CardIdsField()
    group_customer = GatekeptPrimaryKeyField(queryset=GroupCustomer.objects.all(),
                                             scope="changeable_by")


class ReturnCardsSerializer(StrictSerializer):
    cards = CardIdsField()


class ScrapCardSerializer(StrictSerializer):
    reason = serializers.CharField(max_length=500)


class SetPlanSerializer(StrictSerializer):
    group_customer = GatekeptPrimaryKeyField(queryset=GroupCustomer.objects.all(),
                                             scope="changeable_by")
    kind = serializers.ChoiceField(choices=ApplicationKind.choices)
    enabled = serializers.BooleanField()
    quota = serializers.IntegerField(min_value=0, max_value=1_000_000, required=False,
                                     allow_null=True, default=None)


class RequestOpeningSerializer(StrictSerializer):
    group_customer = GatekeptPrimaryKeyField(
        queryset=GroupCustomer.objects.all(), required=False,
        help_text="Leave out for your own group customer (members, enterprise admins).")
    phone = serializers.CharField(max_length=20)
    name = serializers.CharField(max_length=100)
    kind = serializers.ChoiceField(choices=ApplicationKind.choices)


class CancelOpeningSerializer(StrictSerializer):
    reason = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")


class ConfirmOpeningSerializer(StrictSerializer):
    success = serializers.BooleanField()
    detail = serializers.CharField(max_length=255, required=False, allow_blank=True, default="")


class OpenLocallySerializer(StrictSerializer):
    card = GatekeptPrimaryKeyField(queryset=Card.objects.all(), scope=_changeable_cards)
    kind = serializers.ChoiceField(choices=ApplicationKind.choices)
    terminal_code = serializers.CharField(max_length=64, required=False, allow_blank=True,
                                          default="")


class PhoneModelCreateSerializer(ActionInputSerializer):
    class Meta:
        model = PhoneModel
        fields = ["manufacturer", "model", "default_threshold", "min_signal", "max_signal"]
        extra_kwargs = {name: {"min_value": MIN_DBM, "max_value": MAX_DBM}
                        for name in ("default_threshold", "min_signal", "max_signal")}


class CalibrationInputSerializer(StrictSerializer):
    card = GatekeptPrimaryKeyField(queryset=Card.objects.all(), scope=_changeable_cards)
    phone_model = GatekeptPrimaryKeyField(queryset=PhoneModel.objects.all(),
                                          scope=lambda queryset, user: phone_models())
    measured_signal = serializers.IntegerField(min_value=MIN_DBM, max_value=MAX_DBM)
    terminal_code = serializers.CharField(max_length=64, required=False, allow_blank=True,
                                          default="")


def _own_or_changeable_cards(queryset, user):
    if is_active_user(user) and user.role == Role.MEMBER:
        return queryset.filter(member_id=user.member_id)
    return queryset.changeable_by(user)


class PhoneChangeSerializer(StrictSerializer):
    card = GatekeptPrimaryKeyField(queryset=Card.objects.all(), scope=_own_or_changeable_cards)
    phone_model = GatekeptPrimaryKeyField(queryset=PhoneModel.objects.all(),
                                          scope=lambda queryset, user: phone_models())
