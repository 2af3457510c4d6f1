"""Organizations API: branches, group customers and their lifecycle, departments, integrators and
terminal vendors. Each write validates its input and calls ONE action of
``organizations.actions``; objects are fetched only through the gatekeepers.
"""

from django.utils.translation import gettext as _
from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from onecard.core.api import GatekeptViewSetMixin, IdFilter
from onecard.core.errors import InvalidInput

from .. import actions
from ..choices import BranchLevel, CustomerKind, GroupCustomerStatus
from ..models import Branch, Department, GroupCustomer, Integrator, Operator, TerminalVendor
from . import serializers as s


def the_operator():
    """The platform's operator (normally exactly one row), for objects created at the top."""
    operator = Operator.objects.order_by("pk").first()
    if operator is None:
        raise InvalidInput({"non_field_errors": [_("No operator is set up yet.")]})
    return operator


class ReadViewSet(GatekeptViewSetMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin,
                  viewsets.GenericViewSet):
    """List and retrieve through ``visible_to``; subclasses add writes that call actions."""


# --- Branches -----------------------------------------------------------------------------------


class BranchFilter(filters.FilterSet):
    level = filters.ChoiceFilter(choices=BranchLevel.choices)
    parent = IdFilter(field_name="parent")

    class Meta:
        model = Branch
        fields = ["level", "parent"]


class BranchViewSet(ReadViewSet):
    """Province, city and county companies of the operator. Operator staff read; admins create."""

    queryset = Branch.objects.all()
    serializer_class = s.BranchSerializer
    input_serializers = {"create": s.BranchCreateSerializer}
    filterset_class = BranchFilter
    search_fields = ["name", "code"]
    ordering_fields = ["path", "name", "code", "created_at"]
    ordering = ["path"]

    @extend_schema(request=s.BranchCreateSerializer, responses={201: s.BranchSerializer})
    def create(self, request):
        data = self.validated_input()
        parent = data.get("parent")
        operator = parent.operator if parent is not None else the_operator()
        branch = actions.create_branch(actor=request.user, operator=operator, **data)
        return self.answer(branch, status.HTTP_201_CREATED)


# --- Group customers ----------------------------------------------------------------------------


class GroupCustomerFilter(filters.FilterSet):
    status = filters.ChoiceFilter(choices=GroupCustomerStatus.choices)
    kind = filters.ChoiceFilter(choices=CustomerKind.choices)
    branch = IdFilter(field_name="branch")
    customer_manager = IdFilter(field_name="customer_manager")

    class Meta:
        model = GroupCustomer
        fields = ["status", "kind", "branch", "customer_manager"]


class GroupCustomerViewSet(ReadViewSet):
    """Group customers (集团客户). No DELETE: closing is the end of the lifecycle."""

    queryset = GroupCustomer.objects.all()
    serializer_class = s.GroupCustomerSerializer
    input_serializers = {
        "create": s.GroupCustomerCreateSerializer,
        "partial_update": s.GroupCustomerUpdateSerializer,
        "verify": s.GroupCustomerVerifySerializer,
        "suspend": s.ReasonSerializer,
        "resume": s.ReasonSerializer,
        "close": s.ReasonSerializer,
    }
    filterset_class = GroupCustomerFilter
    search_fields = ["name", "code", "contact_name", "contract_number"]
    ordering_fields = ["name", "code", "status", "created_at"]
    ordering = ["name", "id"]

    @extend_schema(responses={201: s.GroupCustomerSerializer})
    def create(self, request):
        data = self.validated_input()
        customer = actions.create_group_customer(actor=request.user, **data)
        return self.answer(customer, status.HTTP_201_CREATED)

    @extend_schema(responses={200: s.GroupCustomerSerializer})
    def partial_update(self, request, pk=None):
        customer = self.get_gated_object(for_change=True)
        data = self.validated_input(partial=True)
        customer = actions.update_group_customer(actor=request.user, group_customer=customer,
                                                 **data)
        return self.answer(customer)

    @extend_schema(responses={200: s.GroupCustomerSerializer})
    @action(detail=True, methods=["post"])
    def verify(self, request, pk=None):
        """pending → verified: record the papers; the verifier is the requesting person."""
        customer = self.get_gated_object(for_change=True)
        data = self.validated_input()
        customer = actions.verify_group_customer(actor=request.user, group_customer=customer,
                                                 **data)
        return self.answer(customer)

    @extend_schema(responses={200: s.GroupCustomerSerializer})
    @action(detail=True, methods=["post"])
    def suspend(self, request, pk=None):
        """verified → suspended (arrears, dispute): data kept, nothing new issued."""
        customer = self.get_gated_object(for_change=True)
        data = self.validated_input()
        customer = actions.suspend_group_customer(actor=request.user, group_customer=customer,
                                                  **data)
        return self.answer(customer)

    @extend_schema(responses={200: s.GroupCustomerSerializer})
    @action(detail=True, methods=["post"])
    def resume(self, request, pk=None):
        """suspended → verified, keeping the papers recorded at verification."""
        customer = self.get_gated_object(for_change=True)
        data = self.validated_input()
        customer = actions.resume_group_customer(actor=request.user, group_customer=customer,
                                                 **data)
        return self.answer(customer)

    @extend_schema(responses={200: s.GroupCustomerSerializer})
    @action(detail=True, methods=["post"])
    def close(self, request, pk=None):
        """→ closed: the contract ended; history is kept read-only, there is no way back."""
        customer = self.get_gated_object(for_change=True)
        data = self.validated_input()
        customer = actions.close_group_customer(actor=request.user, group_customer=customer,
                                                **data)
        return self.answer(customer)


# --- Departments --------------------------------------------------------------------------------


class DepartmentFilter(filters.FilterSet):
    group_customer = IdFilter(field_name="group_customer")
    parent = IdFilter(field_name="parent")
    is_top_level = filters.BooleanFilter(field_name="parent", lookup_expr="isnull",
                                         label="Only top-level departments")

    class Meta:
        model = Department
        fields = ["group_customer", "parent", "is_top_level"]


class DepartmentViewSet(ReadViewSet):
    """The department tree of each group customer (部门)."""

    queryset = Department.objects.all()
    serializer_class = s.DepartmentSerializer
    input_serializers = {
        "create": s.DepartmentCreateSerializer,
        "partial_update": s.DepartmentUpdateSerializer,
    }
    filterset_class = DepartmentFilter
    search_fields = ["name", "code"]
    ordering_fields = ["name", "code", "path", "created_at"]
    ordering = ["group_customer_id", "path"]

    @extend_schema(responses={201: s.DepartmentSerializer})
    def create(self, request):
        data = self.validated_input()
        department = actions.create_department(actor=request.user, **data)
        return self.answer(department, status.HTTP_201_CREATED)

    @extend_schema(responses={200: s.DepartmentSerializer})
    def partial_update(self, request, pk=None):
        department = self.get_gated_object(for_change=True)
        data = self.validated_input(partial=True)
        department = actions.update_department(actor=request.user, department=department,
                                               **data)
        return self.answer(department)

    @extend_schema(responses={204: None})
    def destroy(self, request, pk=None):
        """Delete an empty department (no sub-departments, no members); else 409."""
        department = self.get_gated_object(for_change=True)
        actions.delete_department(actor=request.user, department=department)
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- Integrators and vendors --------------------------------------------------------------------


class PartnerFilter(filters.FilterSet):
    is_active = filters.BooleanFilter()


class IntegratorFilter(PartnerFilter):
    county = IdFilter(field_name="counties")

    class Meta:
        model = Integrator
        fields = ["is_active", "county", "qualification_level"]


class IntegratorViewSet(ReadViewSet):
    """Construction and integration companies (施工集成商) and the counties they serve."""

    queryset = Integrator.objects.prefetch_related("counties")
    serializer_class = s.IntegratorSerializer
    input_serializers = {"create": s.IntegratorInputSerializer,
                         "partial_update": s.IntegratorInputSerializer}
    filterset_class = IntegratorFilter
    search_fields = ["name", "qualification", "contact_name"]
    ordering_fields = ["name", "created_at"]
    ordering = ["name"]

    @extend_schema(responses={201: s.IntegratorSerializer})
    def create(self, request):
        data = self.validated_input()
        integrator = actions.create_integrator(actor=request.user, operator=the_operator(),
                                               **data)
        return self.answer(integrator, status.HTTP_201_CREATED)

    @extend_schema(responses={200: s.IntegratorSerializer})
    def partial_update(self, request, pk=None):
        integrator = self.get_gated_object(for_change=True)
        data = self.validated_input(partial=True)
        integrator = actions.update_integrator(actor=request.user, integrator=integrator,
                                               **data)
        return self.answer(integrator)


class VendorFilter(PartnerFilter):
    class Meta:
        model = TerminalVendor
        fields = ["is_active"]


class VendorViewSet(ReadViewSet):
    """Terminal vendors (产品厂商), who answer terminal faults."""

    queryset = TerminalVendor.objects.all()
    serializer_class = s.VendorSerializer
    input_serializers = {"create": s.VendorInputSerializer,
                         "partial_update": s.VendorInputSerializer}
    filterset_class = VendorFilter
    search_fields = ["name", "product_lines", "contact_name"]
    ordering_fields = ["name", "created_at"]
    ordering = ["name"]

    @extend_schema(responses={201: s.VendorSerializer})
    def create(self, request):
        data = self.validated_input()
        vendor = actions.create_vendor(actor=request.user, operator=the_operator(), **data)
        return self.answer(vendor, status.HTTP_201_CREATED)

    @extend_schema(responses={200: s.VendorSerializer})
    def partial_update(self, request, pk=None):
        vendor = self.get_gated_object(for_change=True)
        data = self.validated_input(partial=True)
        vendor = actions.update_vendor(actor=request.user, vendor=vendor, **data)
        return self.answer(vendor)
