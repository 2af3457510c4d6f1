"""Shapes of the organizations API: what is answered, and what each action accepts.

Input serializers check shape only (types, lengths, choices, references the requesting person may
use); the actions in ``organizations.actions`` decide everything else.
"""

from rest_framework import serializers

from onecard.accounts.choices import Role
from onecard.accounts.models import User
from onecard.core.api import ActionInputSerializer, GatekeptPrimaryKeyField, StrictSerializer

from ..models import Branch, Department, GroupCustomer, Integrator, TerminalVendor

# --- Reference scopes ---------------------------------------------------------------------------


def people_changeable_customers(queryset, user):
    """Group customers whose departments and members ``user`` may change.

    Mirrors ``Department``/``Member`` ``changeable_by``: an enterprise admin changes the people of
    their own customer (which they may not change itself); others, the customers they may change.
    """
    if getattr(user, "role", None) == Role.ENTERPRISE_ADMIN:
        return queryset.visible_to(user)
    return queryset.changeable_by(user)


def branches_for_customers(queryset, user):
    """Branches a group customer may be put under: a customer manager's own branch subtree, any
    branch for the other operator staff who see them."""
    queryset = queryset.visible_to(user)
    if getattr(user, "role", None) == Role.CUSTOMER_MANAGER:
        return queryset.subtree_of(user.branch) if user.branch_id else queryset.none()
    return queryset


def own_customer(user):
    """The tenant person's own group customer, through the gatekeeper, or None."""
    if not getattr(user, "group_customer_id", None):
        return None
    return people_changeable_customers(GroupCustomer.objects.all(), user).filter(
        pk=user.group_customer_id
    ).first()


class DefaultsToOwnCustomer:
    """``group_customer`` may be left out by an enterprise admin: it is then their own."""

    def validate(self, attrs):
        attrs = super().validate(attrs)
        if "group_customer" not in attrs:
            customer = own_customer(self.context["request"].user)
            if customer is None:
                raise serializers.ValidationError(
                    {"group_customer": [serializers.Field.default_error_messages["required"]]},
                    code="required",
                )
            attrs["group_customer"] = customer
        return attrs


# --- Answers ------------------------------------------------------------------------------------


class BranchSerializer(serializers.ModelSerializer):
    class Meta:
        model = Branch
        fields = ["id", "operator", "parent", "level", "name", "code", "path", "created_at"]
        read_only_fields = fields


class GroupCustomerSerializer(serializers.ModelSerializer):
    class Meta:
        model = GroupCustomer
        fields = [
            "id", "branch", "name", "code", "kind", "status", "customer_manager",
            "business_licence_number", "contact_name", "contact_phone", "contract_number",
            "address", "verified_by", "verified_at", "created_at",
        ]
        read_only_fields = fields


class DepartmentSerializer(serializers.ModelSerializer):
    class Meta:
        model = Department
        fields = ["id", "group_customer", "parent", "name", "code", "path", "depth",
                  "created_at"]
        read_only_fields = fields

    depth = serializers.IntegerField(read_only=True)


class IntegratorSerializer(serializers.ModelSerializer):
    class Meta:
        model = Integrator
        fields = ["id", "operator", "name", "qualification", "qualification_level", "counties",
                  "contact_name", "contact_phone", "is_active", "created_at"]
        read_only_fields = fields


class VendorSerializer(serializers.ModelSerializer):
    class Meta:
        model = TerminalVendor
        fields = ["id", "operator", "name", "product_lines", "contact_name", "contact_phone",
                  "support_email", "is_active", "created_at"]
        read_only_fields = fields


# --- Inputs -------------------------------------------------------------------------------------


class BranchCreateSerializer(ActionInputSerializer):
    parent = GatekeptPrimaryKeyField(queryset=Branch.objects.all(), scope="changeable_by",
                                     required=False, allow_null=True)

    class Meta:
        model = Branch
        fields = ["level", "name", "code", "parent"]


class GroupCustomerUpdateSerializer(ActionInputSerializer):
    branch = GatekeptPrimaryKeyField(queryset=Branch.objects.all(), scope=branches_for_customers)
    customer_manager = GatekeptPrimaryKeyField(queryset=User.objects.all(), required=False,
                                               allow_null=True)

    class Meta:
        model = GroupCustomer
        fields = ["branch", "name", "kind", "customer_manager", "business_licence_number",
                  "contact_name", "contact_phone", "contract_number", "address"]


class GroupCustomerCreateSerializer(GroupCustomerUpdateSerializer):
    class Meta(GroupCustomerUpdateSerializer.Meta):
        fields = ["code", *GroupCustomerUpdateSerializer.Meta.fields]


VERIFICATION_PAPERS = ["business_licence_number", "contact_name", "contact_phone",
                       "contract_number"]


class GroupCustomerVerifySerializer(ActionInputSerializer):
    reason = serializers.CharField(max_length=2000, required=False, allow_blank=True)

    class Meta:
        model = GroupCustomer
        fields = [*VERIFICATION_PAPERS, "reason"]
        extra_kwargs = {name: {"required": True, "allow_blank": False}
                        for name in VERIFICATION_PAPERS}


class ReasonSerializer(StrictSerializer):
    """Why a lifecycle change is made; recorded on the event and the audit record."""

    reason = serializers.CharField(max_length=2000)


class DepartmentUpdateSerializer(ActionInputSerializer):
    parent = GatekeptPrimaryKeyField(queryset=Department.objects.all(), scope="changeable_by",
                                     required=False, allow_null=True)

    class Meta:
        model = Department
        fields = ["parent", "name", "code"]


class DepartmentCreateSerializer(DefaultsToOwnCustomer, DepartmentUpdateSerializer):
    group_customer = GatekeptPrimaryKeyField(queryset=GroupCustomer.objects.all(),
                                             scope=people_changeable_customers, required=False)

    class Meta(DepartmentUpdateSerializer.Meta):
        fields = ["group_customer", *DepartmentUpdateSerializer.Meta.fields]


class IntegratorInputSerializer(ActionInputSerializer):
    counties = GatekeptPrimaryKeyField(queryset=Branch.objects.all(), many=True, required=False)

    class Meta:
        model = Integrator
        fields = ["name", "qualification", "qualification_level", "counties", "contact_name",
                  "contact_phone", "is_active"]


class VendorInputSerializer(ActionInputSerializer):
    class Meta:
        model = TerminalVendor
        fields = ["name", "product_lines", "contact_name", "contact_phone", "support_email",
                  "is_active"]
