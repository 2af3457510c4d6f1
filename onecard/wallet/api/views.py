"""Wallet API for staff (and members, read-only, their own): accounts, transfers, merchants,
spending policies, the money actions of the counter and the statements.

Each write validates its input and calls ONE action. A new posting answers 201; a retry with the
same client id and content answers 200 with the same body; a refusal answers 409 with the rule
as ``code``. Objects are fetched only through the gatekeepers, and only people whose role reads
the books (operator staff, enterprise admins, members for themselves) get past ``initial``.
"""

import re

from django.db.models import Q
from django_filters import rest_framework as filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import generics, mixins, renderers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.settings import api_settings

from onecard.accounts.choices import Role
from onecard.core.api import PARSER_CLASSES, GatekeptViewSetMixin, IdFilter
from onecard.core.errors import NotFound
from onecard.core.gatekeepers import access
from onecard.organizations.models import GroupCustomer
from onecard.people.models import Member

from .. import actions, reports
from ..choices import AccountKind, AccountStatus, TransferKind, TransferPhase
from ..models import Account, Merchant, SpendingPolicy, Transfer
from . import serializers as s

XLSX = reports.XLSX


def _may_read_books(user):
    return user.role in reports.BOOKS_READER_ROLES or user.role == Role.MEMBER


class BooksAccessMixin:
    """Roles that do not read the books get 404 for every wallet URL, as if it did not exist."""

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        if not _may_read_books(request.user):
            raise NotFound("wallet")


class BusinessDayFilter(filters.DateFilter):
    """A business day as a bound on ``created_at``: ``start`` from its local midnight
    (inclusive), ``end`` to its local midnight (exclusive)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("field_name", "created_at")
        super().__init__(*args, **kwargs)

    def filter(self, qs, value):
        if value in (None, ""):
            return qs
        if not s.FIRST_DAY <= value <= s.LAST_DAY:
            return qs.none()
        return qs.filter(**{f"{self.field_name}__{self.lookup_expr}": reports.day_start(value)})


# --- Accounts and transfers -------------------------------------------------------------------


class AccountFilter(filters.FilterSet):
    group_customer = IdFilter(field_name="group_customer")
    member = IdFilter(field_name="member")
    merchant = IdFilter(field_name="merchant")
    kind = filters.ChoiceFilter(choices=AccountKind.choices)
    status = filters.ChoiceFilter(choices=AccountStatus.choices)

    class Meta:
        model = Account
        fields = ["group_customer", "member", "merchant", "kind", "status", "code"]


class AccountViewSet(BooksAccessMixin, GatekeptViewSetMixin, mixins.ListModelMixin,
                     mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Ledger accounts (账户). A member sees only their own purse and subsidy purse."""

    queryset = Account.objects.all()
    serializer_class = s.LedgerAccountSerializer
    filterset_class = AccountFilter
    ordering_fields = ["id", "kind", "created_at"]
    ordering = ["id"]


class TransferFilter(filters.FilterSet):
    group_customer = IdFilter(field_name="group_customer")
    account = IdFilter(method="filter_account", help_text="Debit or credit account id.")
    kind = filters.ChoiceFilter(choices=TransferKind.choices)
    phase = filters.ChoiceFilter(choices=TransferPhase.choices)
    client_id = filters.CharFilter(max_length=64)
    start = BusinessDayFilter(lookup_expr="gte", help_text="From this day (inclusive).")
    end = BusinessDayFilter(lookup_expr="lt", help_text="Up to this day (exclusive).")

    class Meta:
        model = Transfer
        fields = ["group_customer", "account", "kind", "phase", "client_id", "start", "end"]

    def filter_account(self, queryset, name, value):
        return queryset.filter(Q(debit_account_id=value) | Q(credit_account_id=value))


class TransferViewSet(BooksAccessMixin, GatekeptViewSetMixin, mixins.ListModelMixin,
                      mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Transfers (转账), never edited: a correction is a reversal pointing at its transfer."""

    queryset = Transfer.objects.all()
    serializer_class = s.TransferSerializer
    input_serializers = {"reverse": s.ReversalSerializer}
    filterset_class = TransferFilter
    ordering_fields = ["id", "created_at", "amount"]
    ordering = ["id"]

    @extend_schema(responses={201: s.PostedSerializer, 200: s.PostedSerializer})
    @action(detail=True, methods=["post"])
    def reverse(self, request, pk=None):
        """Reverse (冲正) all or ``amount`` of this transfer, at most once."""
        transfer = _gated(Transfer.objects.all(), pk, request.user)
        data = self.validated_input()
        result = actions.reverse_transfer(actor=request.user, transfer=transfer,
                                          client_id=data["client_id"], amount=data.get("amount"),
                                          reason=data["reason"])
        return answer_posted(result, transfer.group_customer_id)


def _gated(queryset, pk, user):
    """``pk`` from ``queryset`` if it is in books ``user`` may change, else 404."""
    return access(queryset.filter(group_customer__in=reports.books_customers(
        user, for_change=True)), pk, user)


def answer_posted(result, group_customer_id):
    """201 for a new posting, 200 for a retry; the body is the request's legs as stored."""
    transfers = Transfer.objects.filter(group_customer_id=group_customer_id,
                                        client_id=result.client_id).order_by("leg")
    body = s.PostedSerializer({"client_id": result.client_id, "transfers": transfers}).data
    code = status.HTTP_201_CREATED if result.status == "ok" else status.HTTP_200_OK
    return Response(body, status=code)


# --- Merchants and spending policies ----------------------------------------------------------


class MerchantFilter(filters.FilterSet):
    group_customer = IdFilter(field_name="group_customer")

    class Meta:
        model = Merchant
        fields = ["group_customer", "code", "is_active"]


class MerchantViewSet(BooksAccessMixin, GatekeptViewSetMixin, mixins.ListModelMixin,
                      mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Merchants (商户) and their accounts; the daily statement per merchant."""

    queryset = Merchant.objects.prefetch_related("accounts")
    serializer_class = s.MerchantSerializer
    input_serializers = {"create": s.MerchantCreateSerializer}
    filterset_class = MerchantFilter
    search_fields = ["name", "code"]
    ordering_fields = ["name", "code", "created_at"]
    ordering = ["group_customer_id", "code"]

    @extend_schema(responses={201: s.MerchantSerializer})
    def create(self, request):
        """Add a merchant with its main account; an enterprise admin may leave out
        ``group_customer`` (their own)."""
        data = self.validated_input()
        merchant = actions.create_merchant(actor=request.user, **data)
        return self.answer(Merchant.objects.prefetch_related("accounts").get(pk=merchant.pk),
                           status.HTTP_201_CREATED)


class SpendingPolicyFilter(filters.FilterSet):
    group_customer = IdFilter(field_name="group_customer")

    class Meta:
        model = SpendingPolicy
        fields = ["group_customer", "category"]


class SpendingPolicyViewSet(BooksAccessMixin, GatekeptViewSetMixin, mixins.ListModelMixin,
                            viewsets.GenericViewSet):
    """Spending limits per member category; POST sets one category's limits."""

    queryset = SpendingPolicy.objects.all()
    serializer_class = s.SpendingPolicySerializer
    input_serializers = {"create": s.SpendingPolicySetSerializer}
    filterset_class = SpendingPolicyFilter
    ordering = ["group_customer_id", "category"]

    @extend_schema(responses={200: s.SpendingPolicySerializer})
    def create(self, request):
        data = self.validated_input()
        policy = actions.set_spending_policy(actor=request.user, **data)
        return self.answer(policy)


# --- Money actions at the counter -------------------------------------------------------------


class MoneyActionView(BooksAccessMixin, generics.GenericAPIView):
    """POST only: validate with ``serializer_class``, call ``perform`` (ONE action), answer.
    Roles that never move money get 404, like roles outside the books."""

    parser_classes = PARSER_CLASSES

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        if request.user.role not in reports.BOOKS_WRITER_ROLES:
            raise NotFound("wallet action")

    def post(self, request):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        result, group_customer_id = self.perform(request.user, dict(serializer.validated_data))
        return answer_posted(result, group_customer_id)


@extend_schema(responses={201: s.PostedSerializer, 200: s.PostedSerializer})
class TopUpView(MoneyActionView):
    """Counter top-up (充值): cash from a drawer onto a member's purse."""

    serializer_class = s.TopUpSerializer

    def perform(self, user, data):
        member = data["member"]
        result = actions.top_up(actor=user, member=member, amount=data["amount"],
                                client_id=data["client_id"], source=data["source"])
        return result, member.group_customer_id


@extend_schema(responses={201: s.PostedSerializer, 200: s.PostedSerializer})
class RefundView(MoneyActionView):
    """Refund (退款) all or part of a purchase, to the purse first, then the subsidy purse."""

    serializer_class = s.RefundSerializer

    def perform(self, user, data):
        customer = data["group_customer"]
        return actions.refund_purchase(
            actor=user, purchase_client_id=data["purchase_client_id"], group_customer=customer,
            amount=data["amount"], client_id=data["client_id"], reason=data["reason"],
        ), customer.pk


@extend_schema(responses={201: s.PostedSerializer, 200: s.PostedSerializer})
class SubsidyGrantView(MoneyActionView):
    """Grant a subsidy (补贴发放) onto a member's subsidy purse."""

    serializer_class = s.SubsidyGrantSerializer

    def perform(self, user, data):
        member = data["member"]
        result = actions.grant_subsidy(actor=user, member=member, amount=data["amount"],
                                       client_id=data["client_id"],
                                       expires_at=data["expires_at"])
        return result, member.group_customer_id


# --- Statements -------------------------------------------------------------------------------


class XlsxRenderer(renderers.BaseRenderer):
    """``?format=xlsx``: the report's workbook, as the view made it."""

    media_type = XLSX
    format = "xlsx"
    charset = None
    render_style = "binary"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        return data


FORMAT_PARAMETER = OpenApiParameter("format", str, enum=["json", "xlsx"],
                                    description="xlsx: the report as an .xlsx workbook")


def _file_part(text):
    return re.sub(r"[^A-Za-z0-9_.-]", "_", str(text))[:60] or "report"


class ReportView(BooksAccessMixin, generics.GenericAPIView):
    """GET a report as JSON, or with ``?format=xlsx`` as a workbook."""

    renderer_classes = [*api_settings.DEFAULT_RENDERER_CLASSES, XlsxRenderer]

    def finalize_response(self, request, response, *args, **kwargs):
        # A refusal is JSON even when the workbook was asked for.
        renderer = getattr(request, "accepted_renderer", None)
        wants_file = renderer is None or isinstance(renderer, XlsxRenderer)
        if isinstance(response, Response) and not isinstance(response.data, bytes) and wants_file:
            request.accepted_renderer = renderers.JSONRenderer()
            request.accepted_media_type = renderers.JSONRenderer.media_type
        return super().finalize_response(request, response, *args, **kwargs)

    def query(self, serializer_class):
        serializer = serializer_class(data=self.request.query_params)
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data

    def answer(self, report, to_xlsx, file_name):
        if isinstance(self.request.accepted_renderer, XlsxRenderer):
            return Response(to_xlsx(report), content_type=XLSX, headers={
                "Content-Disposition": f'attachment; filename="{file_name}.xlsx"'})
        return Response(report.as_dict())


def _binary_or_json(description):
    return {200: OpenApiResponse(OpenApiTypes.OBJECT, description=description),
            (200, XLSX): OpenApiResponse(OpenApiTypes.BINARY, description=".xlsx")}


class MemberStatementView(ReportView):
    """A member's statement (对账单): ``start`` (inclusive) to ``end`` (exclusive) business days.
    Staff who read the member's books, and the member themself."""

    @extend_schema(parameters=[s.StatementQuerySerializer, FORMAT_PARAMETER],
                   responses=_binary_or_json("Opening, lines with running balances, closing"))
    def get(self, request, pk):
        user = request.user
        members = Member.objects.all()
        if user.role == Role.MEMBER:
            members = members.filter(pk=user.member_id) if user.member_id else members.none()
        else:
            members = members.filter(group_customer__in=reports.books_customers(user))
        member = access(members, pk, user)
        params = self.query(s.StatementQuerySerializer)
        report = reports.member_statement(member, params["start"], params["end"])
        return self.answer(report, reports.member_statement_xlsx,
                           f"statement-{member.pk}-{params['start']:%Y%m%d}")


class MerchantDailyStatementView(ReportView):
    """A merchant's daily statement (商户日结单), per terminal account and in total."""

    @extend_schema(parameters=[s.DayQuerySerializer, FORMAT_PARAMETER],
                   responses=_binary_or_json("Per account and total figures of the day"))
    def get(self, request, pk):
        merchant = access(Merchant.objects.all(), pk, request.user)
        day = self.query(s.DayQuerySerializer).get("day") or reports.business_today()
        report = reports.merchant_daily_statement(merchant, day)
        return self.answer(report, reports.merchant_daily_statement_xlsx,
                           f"merchant-{_file_part(merchant.code)}-{day:%Y%m%d}")


class ReconciliationView(ReportView):
    """Day-end reconciliation (日终对账) of a group customer, per account kind."""

    @extend_schema(parameters=[s.DayQuerySerializer, FORMAT_PARAMETER],
                   responses=_binary_or_json("Opening, movements and closing per account kind"))
    def get(self, request, pk):
        customers = GroupCustomer.objects.filter(pk__in=reports.books_customers(request.user))
        try:
            customer = customers.get(pk=int(pk))
        except GroupCustomer.DoesNotExist:
            raise NotFound(f"GroupCustomer {pk}")
        day = self.query(s.DayQuerySerializer).get("day") or reports.business_today()
        report = reports.reconciliation(customer, day)
        return self.answer(report, reports.reconciliation_xlsx,
                           f"reconciliation-{_file_part(customer.code)}-{day:%Y%m%d}")
