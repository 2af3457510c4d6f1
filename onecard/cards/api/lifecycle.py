"""Cards API: lifecycle. Lists and details through the gatekeepers; every POST validates its
input and calls ONE action (``actions.lifecycle``); refusals are 4xx with the rule as ``code``.

Members use ``cards/mine/`` (their live card, else their latest) and ``cards/mine/report-lost/``.
"""

from django.urls import re_path
from django_filters import rest_framework as filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter
from rest_framework.views import APIView

from onecard.accounts.choices import Role
from onecard.core.api import PARSER_CLASSES, PK_MAX, PK_PATTERN, GatekeptViewSetMixin, IdFilter
from onecard.core.errors import InvalidInput, NotFound
from onecard.core.gatekeepers import access
from onecard.organizations.models import GroupCustomer

from .. import credentials
from ..actions import lifecycle as actions
from ..choices import LIVE_STATUSES, CardMedium, CardStatus
from ..models import Card, CardApplication, CarrierBinding
from ..querysets import customers_changeable_by
from . import serializers as s

MAX_DELTA = 1000


class CardFilter(filters.FilterSet):
    group_customer = IdFilter(field_name="group_customer")
    member = IdFilter(field_name="member")
    branch = IdFilter(field_name="branch")
    status = filters.ChoiceFilter(choices=CardStatus.choices)
    medium = filters.ChoiceFilter(choices=CardMedium.choices)

    class Meta:
        model = Card
        fields = ["group_customer", "member", "branch", "status", "medium"]


def _card_queryset():
    return Card.objects.prefetch_related("applications")


class CardViewSet(GatekeptViewSetMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin,
                  viewsets.GenericViewSet):
    """Cards (卡): RFID-SIM and IC cards, with their applications and lifecycle actions."""

    queryset = _card_queryset()
    serializer_class = s.CardSerializer
    input_serializers = {
        "issue": s.CardIssueSerializer, "report_lost": s.CardReasonSerializer,
        "unreport": s.CardUnreportSerializer, "suspend": s.CardReasonSerializer,
        "resume": s.CardReasonSerializer, "replace": s.CardReplaceSerializer,
        "deregister": s.CardDeregisterSerializer, "recover": s.CardReasonSerializer,
        "old_sim_recovered": s.OldSimRecoveredSerializer,
        "mine_report_lost": s.CardReasonSerializer,
    }
    filterset_class = CardFilter
    search_fields = ["number", "msisdn", "member__name", "member__phone"]
    ordering_fields = ["id", "number", "status", "issued_at", "status_changed_at"]
    ordering = ["id"]

    def _changed(self, card, code=status.HTTP_200_OK):
        return self.answer(_card_queryset().get(pk=card.pk), code)

    @extend_schema(responses={200: s.CardEventSerializer(many=True)})
    @action(detail=True, methods=["get"])
    def events(self, request, pk=None):
        """What happened to this card, oldest first."""
        card = self.get_gated_object()
        events = card.events.order_by("id")
        page = self.paginate_queryset(events)
        if page is not None:
            return self.get_paginated_response(s.CardEventSerializer(page, many=True).data)
        return Response(s.CardEventSerializer(events, many=True).data)

    @extend_schema(responses={200: s.CarrierBindingSerializer(many=True)})
    @action(detail=True, methods=["get"])
    def bindings(self, request, pk=None):
        """The card's bindings to phone numbers in the carrier register, newest first."""
        card = self.get_gated_object()
        return Response(s.CarrierBindingSerializer(card.bindings.all(), many=True).data)

    @extend_schema(responses={200: s.CardSerializer})
    @action(detail=True, methods=["post"])
    def issue(self, request, pk=None):
        """in stock / assigned → active: issue to a member (by id or roster phone number),
        opening ``applications`` locally; an RFID-SIM is bound to the member's number."""
        card = self.get_gated_object(for_change=True)
        data = self.validated_input()
        card = actions.issue_card(actor=request.user, card=card, member=data.get("member"),
                                  msisdn=data.get("msisdn") or None,
                                  applications=data.get("applications", []),
                                  phone_model=data.get("phone_model"))
        return self._changed(card)

    @extend_schema(responses={200: s.CardSerializer})
    @action(detail=True, methods=["post"], url_path="report-lost")
    def report_lost(self, request, pk=None):
        """active/suspended → lost (挂失); the member's phone is told."""
        card = self.get_gated_object(for_change=True)
        data = self.validated_input()
        return self._changed(actions.report_card_lost(actor=request.user, card=card, **data))

    @extend_schema(responses={200: s.CardSerializer})
    @action(detail=True, methods=["post"])
    def unreport(self, request, pk=None):
        """lost → active (解挂), after checking the cardholder's identity."""
        card = self.get_gated_object(for_change=True)
        data = self.validated_input()
        return self._changed(actions.unreport_card(actor=request.user, card=card, **data))

    @extend_schema(responses={200: s.CardSerializer})
    @action(detail=True, methods=["post"])
    def suspend(self, request, pk=None):
        """active → suspended (暂停), this member only."""
        card = self.get_gated_object(for_change=True)
        data = self.validated_input()
        return self._changed(actions.suspend_card(actor=request.user, card=card, **data))

    @extend_schema(responses={200: s.CardSerializer})
    @action(detail=True, methods=["post"])
    def resume(self, request, pk=None):
        """suspended (this member) → active (恢复)."""
        card = self.get_gated_object(for_change=True)
        data = self.validated_input()
        return self._changed(actions.resume_card(actor=request.user, card=card, **data))

    @extend_schema(responses={200: s.CardSerializer})
    @action(detail=True, methods=["post"])
    def replace(self, request, pk=None):
        """Replace (补换卡) this card by ``new_card``; answers the new card."""
        card = self.get_gated_object(for_change=True)
        data = self.validated_input()
        new = actions.replace_card(actor=request.user, old_card=card, **data)
        return self._changed(new)

    @extend_schema(responses={200: s.CardSerializer})
    @action(detail=True, methods=["post"])
    def deregister(self, request, pk=None):
        """→ deregistered (注销): applications deleted, purse refunded through one linked
        ledger request (``client_id``), SIM unbound."""
        card = self.get_gated_object(for_change=True)
        data = self.validated_input()
        return self._changed(actions.deregister_card(actor=request.user, card=card, **data))

    @extend_schema(responses={200: s.CardSerializer})
    @action(detail=True, methods=["post"])
    def recover(self, request, pk=None):
        """Record that this replaced or deregistered card was handed back (回收)."""
        card = self.get_gated_object(for_change=True)
        data = self.validated_input()
        return self._changed(actions.recover_card(actor=request.user, card=card, **data))

    @extend_schema(responses={200: s.CarrierBindingSerializer})
    @action(detail=True, methods=["post"], url_path="old-sim-recovered")
    def old_sim_recovered(self, request, pk=None):
        """Record that the SIM replaced by one of this card's bindings was handed back."""
        card = self.get_gated_object(for_change=True)
        data = self.validated_input()
        binding = CarrierBinding.objects.filter(card=card, pk=data.pop("binding")).first()
        if binding is None:
            raise InvalidInput({"binding": ["This card has no such binding."]})
        binding = actions.record_old_sim_recovered(actor=request.user, binding=binding, **data)
        return Response(s.CarrierBindingSerializer(binding).data)

    def _mine(self, request):
        cards = Card.objects.visible_to(request.user)
        if request.user.role != Role.MEMBER:
            raise NotFound("card")
        card = (cards.filter(status__in=LIVE_STATUSES).first()
                or cards.order_by("-issued_at", "-id").first())
        if card is None:
            raise NotFound("card")
        return card

    @extend_schema(responses={200: s.CardSerializer})
    @action(detail=False, methods=["get"])
    def mine(self, request):
        """The member's own card (their live one, else the latest they held)."""
        return self._changed(self._mine(request))

    @extend_schema(responses={200: s.CardSerializer})
    @action(detail=False, methods=["post"], url_path="mine/report-lost")
    def mine_report_lost(self, request):
        """Self-service loss report (自助挂失) of the member's own card."""
        card = self._mine(request)
        data = self.validated_input()
        return self._changed(actions.report_card_lost(actor=request.user, card=card, **data))


class CardApplicationViewSet(GatekeptViewSetMixin, mixins.ListModelMixin,
                             mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Applications on cards (卡应用)."""

    queryset = CardApplication.objects.all()
    serializer_class = s.CardApplicationSerializer
    input_serializers = {"delete": s.CardReasonSerializer}
    filterset_fields = ["card", "kind", "status"]
    ordering = ["card_id", "kind"]

    @extend_schema(responses={200: s.CardApplicationSerializer})
    @action(detail=True, methods=["post"])
    def delete(self, request, pk=None):
        """→ deleted (应用删除); the purse application only while the purse is empty."""
        application = self.get_gated_object(for_change=True)
        data = self.validated_input()
        application = actions.delete_application(actor=request.user, application=application,
                                                 **data)
        return self.answer(application)


class CustomerCardsView(APIView):
    """Suspend (``suspend-cards``) or resume (``resume-cards``) every card of one group
    customer at once (集团整体暂停/恢复)."""

    parser_classes = PARSER_CLASSES
    resume = False
    serializer_class = s.CardRequiredReasonSerializer

    @extend_schema(responses={200: s.CardSerializer(many=True)})
    def post(self, request, pk):
        customer = access(GroupCustomer.objects.all(), pk, request.user)
        if not customers_changeable_by(request.user).filter(pk=customer.pk).exists():
            raise NotFound(f"GroupCustomer {pk}")
        serializer_class = s.CardReasonSerializer if self.resume else s.CardRequiredReasonSerializer
        serializer = serializer_class(data=request.data)
        serializer.is_valid(raise_exception=True)
        act = (actions.resume_group_customer_cards if self.resume
               else actions.suspend_group_customer_cards)
        cards = act(actor=request.user, group_customer=customer,
                    reason=serializer.validated_data.get("reason", ""))
        changed = _card_queryset().filter(pk__in=[c.pk for c in cards]).order_by("id")
        return Response(s.CardSerializer(changed, many=True).data)


class ResumeCustomerCardsView(CustomerCardsView):
    resume = True
    serializer_class = s.CardReasonSerializer


def _whole_number(request, name, *, required):
    raw = request.query_params.get(name)
    if raw in (None, ""):
        if required:
            raise InvalidInput({name: ["This parameter is required."]})
        return None
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 18):
        raise InvalidInput({name: ["Enter a whole number."]})
    return int(raw)


class CredentialListView(APIView):
    """The credential list of one group customer (名单): every change after version ``since``,
    oldest first, at most ``limit`` (default and maximum 1000). For those who may see the
    customer (not members)."""

    serializer_class = s.CredentialDeltaSerializer

    @extend_schema(parameters=[
        OpenApiParameter("group_customer", OpenApiTypes.INT, required=True),
        OpenApiParameter("since", OpenApiTypes.INT, description="Last version already held."),
        OpenApiParameter("limit", OpenApiTypes.INT),
    ], responses={200: s.CredentialDeltaSerializer})
    def get(self, request):
        customer_id = _whole_number(request, "group_customer", required=True)
        since = _whole_number(request, "since", required=False) or 0
        limit = min(_whole_number(request, "limit", required=False) or MAX_DELTA, MAX_DELTA)
        if customer_id > PK_MAX or request.user.role in (Role.MEMBER, Role.VENDOR_ENGINEER) or not \
                GroupCustomer.objects.visible_to(request.user).filter(pk=customer_id).exists():
            raise NotFound(f"GroupCustomer {customer_id}")
        version = credentials.current_version(customer_id)
        changes = credentials.changes_since(customer_id, since, limit=limit + 1)
        more = len(changes) > limit
        changes = changes[:limit]
        body = {"group_customer": customer_id, "version": version,
                "next_since": changes[-1].version if changes else since, "more": more,
                "changes": changes}
        return Response(s.CredentialDeltaSerializer(body).data)


router = SimpleRouter()
router.register("cards/applications", CardApplicationViewSet, basename="card-application")
router.register("cards", CardViewSet, basename="card")

urlpatterns = [
    re_path(r"^cards/credentials/$", CredentialListView.as_view(), name="card-credentials"),
    re_path(rf"^cards/group-customers/(?P<pk>{PK_PATTERN})/suspend-cards/$",
            CustomerCardsView.as_view(), name="card-customer-suspend"),
    re_path(rf"^cards/group-customers/(?P<pk>{PK_PATTERN})/resume-cards/$",
            ResumeCustomerCardsView.as_view(), name="card-customer-resume"),
    *router.urls,
]
