"""Members API and the roster import/export of a group customer. Each write validates its input
and calls ONE action; objects are fetched only through the gatekeepers.
"""

import re

from django.conf import settings
from django.http import HttpResponse
from django_filters import rest_framework as filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import generics, mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response

from onecard.core.api import GatekeptViewSetMixin, IdFilter
from onecard.core.errors import NotFound
from onecard.organizations.api.serializers import people_changeable_customers
from onecard.organizations.models import GroupCustomer

from .. import actions
from ..choices import MemberCategory, MemberStatus
from ..models import Member
from . import serializers as s

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class MemberFilter(filters.FilterSet):
    group_customer = IdFilter(field_name="group_customer")
    department = IdFilter(field_name="department")
    status = filters.ChoiceFilter(choices=MemberStatus.choices)
    category = filters.ChoiceFilter(choices=MemberCategory.choices)

    class Meta:
        model = Member
        fields = ["group_customer", "department", "status", "category"]


class MemberViewSet(GatekeptViewSetMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin,
                    viewsets.GenericViewSet):
    """Members of group customers (集团客户成员). A member's account sees only themself."""

    queryset = Member.objects.all()
    serializer_class = s.MemberSerializer
    input_serializers = {
        "create": s.MemberCreateSerializer,
        "partial_update": s.MemberUpdateSerializer,
        "suspend": s.MemberReasonSerializer,
        "resume": s.MemberReasonSerializer,
        "depart": s.MemberReasonSerializer,
    }
    filterset_class = MemberFilter
    search_fields = ["name", "phone", "employee_number"]
    ordering_fields = ["name", "phone", "employee_number", "status", "created_at", "updated_at"]
    ordering = ["group_customer_id", "name", "id"]

    @extend_schema(responses={201: s.MemberSerializer})
    def create(self, request):
        """Add a member; an enterprise admin may leave ``group_customer`` out (their own)."""
        data = self.validated_input()
        member = actions.create_member(actor=request.user, **data)
        return self.answer(member, status.HTTP_201_CREATED)

    @extend_schema(responses={200: s.MemberSerializer})
    def partial_update(self, request, pk=None):
        member = self.get_gated_object(for_change=True)
        data = self.validated_input(partial=True)
        member = actions.update_member(actor=request.user, member=member, **data)
        return self.answer(member)

    @extend_schema(responses={200: s.MemberSerializer})
    @action(detail=True, methods=["post"])
    def suspend(self, request, pk=None):
        """active → suspended: kept, but credentials are to be refused."""
        member = self.get_gated_object(for_change=True)
        data = self.validated_input()
        member = actions.suspend_member(actor=request.user, member=member, **data)
        return self.answer(member)

    @extend_schema(responses={200: s.MemberSerializer})
    @action(detail=True, methods=["post"])
    def resume(self, request, pk=None):
        """suspended → active."""
        member = self.get_gated_object(for_change=True)
        data = self.validated_input()
        member = actions.resume_member(actor=request.user, member=member, **data)
        return self.answer(member)

    @extend_schema(responses={200: s.MemberSerializer})
    @action(detail=True, methods=["post"])
    def depart(self, request, pk=None):
        """→ departed: history kept, phone and employee number free for reuse."""
        member = self.get_gated_object(for_change=True)
        data = self.validated_input()
        member = actions.mark_member_departed(actor=request.user, member=member, **data)
        return self.answer(member)


def _gated_customer(user, pk, *, for_change):
    """The group customer ``pk`` if ``user`` may read its members (or change them), else 404."""
    customers = GroupCustomer.objects.all()
    scoped = (people_changeable_customers(customers, user) if for_change
              else customers.visible_to(user))
    customer = scoped.filter(pk=int(pk)).first()
    if customer is None:
        raise NotFound(f"GroupCustomer {pk}")
    return customer


class RosterView(generics.GenericAPIView):
    """The roster (花名册) of one group customer: GET exports .xlsx, POST imports .xlsx/.csv.

    An import is all or nothing: 201 with the report when every row was created, 400 with every
    problem found (and nothing written) otherwise.
    """

    serializer_class = s.RosterUploadSerializer
    parser_classes = [MultiPartParser]

    def perform_content_negotiation(self, request, force=False):
        # The export answers with a file whatever the Accept header asks for.
        return super().perform_content_negotiation(request, force=True)

    @extend_schema(
        responses={(200, XLSX): OpenApiResponse(OpenApiTypes.BINARY,
                                                description="The roster as an .xlsx workbook")},
    )
    def get(self, request, pk):
        customer = _gated_customer(request.user, pk, for_change=False)
        from onecard.people import roster  # the roster module loads openpyxl: only when used

        content = roster.export_roster(customer, Member.objects.visible_to(request.user))
        response = HttpResponse(content, content_type=XLSX)
        safe_code = re.sub(r"[^A-Za-z0-9_.-]", "_", customer.code) or str(customer.pk)
        response["Content-Disposition"] = f'attachment; filename="roster-{safe_code}.xlsx"'
        return response

    @extend_schema(
        request={"multipart/form-data": s.RosterUploadSerializer},
        responses={201: s.RosterReportSerializer, 400: s.RosterReportSerializer},
    )
    def post(self, request, pk):
        customer = _gated_customer(request.user, pk, for_change=True)
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        upload = serializer.validated_data["file"]
        from onecard.people import roster

        # One byte past the limit is enough for the roster to refuse the file as too large.
        content = upload.read(settings.ONECARD_ROSTER_MAX_BYTES + 1)
        report = roster.import_roster(actor=request.user, group_customer=customer,
                                      file_name=upload.name or "", content=content)
        answer = status.HTTP_201_CREATED if report.ok else status.HTTP_400_BAD_REQUEST
        return Response(report.as_dict(), status=answer)
