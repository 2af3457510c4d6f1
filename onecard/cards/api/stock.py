"""Card stock API (/api/v1/card-stock/): the cards operator staff hold, receipts, assignments,
returns and scrapping. Each write validates its input and calls ONE action; only operator staff
get past ``initial`` (everybody else gets 404, as if the URL did not exist)."""

from django.utils.translation import gettext as _
from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter

from onecard.core.api import GatekeptViewSetMixin, IdFilter
from onecard.core.errors import InvalidInput, NotFound

from ..actions import stock
from ..choices import CardMedium, CardStatus
from ..models import Card
from . import serializers_provisioning as s


class StockFilter(filters.FilterSet):
    branch = IdFilter(field_name="branch")
    group_customer = IdFilter(field_name="group_customer")
    status = filters.ChoiceFilter(choices=CardStatus.choices)
    medium = filters.ChoiceFilter(choices=CardMedium.choices)
    in_stock = filters.BooleanFilter(field_name="group_customer", lookup_expr="isnull",
                                     help_text="True: cards not yet assigned to a customer.")

    class Meta:
        model = Card
        fields = ["branch", "group_customer", "status", "medium", "prepared", "in_stock"]


def changeable_cards(user, ids):
    """The cards with ``ids`` that ``user`` may change; an unknown or foreign id is refused the
    same way, naming it."""
    found = {card.pk: card for card in Card.objects.changeable_by(user).filter(pk__in=ids)}
    for pk in ids:
        if pk not in found:
            raise InvalidInput({"cards": [_("Unknown card: %(id)s.") % {"id": pk}]})
    return [found[pk] for pk in ids]


class StockViewSet(GatekeptViewSetMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin,
                   viewsets.GenericViewSet):
    """Cards in stock and their way to a group customer (库存). Operator staff only."""

    queryset = Card.objects.select_related("branch")
    serializer_class = s.StockCardSerializer
    input_serializers = {"receive": s.ReceiveCardsSerializer, "assign": s.AssignCardsSerializer,
                         "return_cards": s.ReturnCardsSerializer, "scrap": s.ScrapCardSerializer}
    filterset_class = StockFilter
    search_fields = ["number", "iccid", "imsi"]
    ordering_fields = ["id", "number", "status", "created_at"]
    ordering = ["id"]

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        if request.user.role not in s.stock_readers():
            raise NotFound("card stock")

    def _answer_many(self, cards, code=status.HTTP_200_OK):
        return Response(s.StockCardSerializer(cards, many=True).data, status=code)

    @extend_schema(responses={201: s.StockCardSerializer(many=True)})
    @action(detail=False, methods=["post"])
    def receive(self, request):
        """Receive a batch of cards into a branch's stock, all or nothing (入库)."""
        data = self.validated_input()
        cards = stock.receive_cards(actor=request.user, **data)
        return self._answer_many(cards, status.HTTP_201_CREATED)

    @extend_schema(responses={200: s.StockCardSerializer(many=True)})
    @action(detail=False, methods=["post"])
    def assign(self, request):
        """Assign stock cards to a group customer (分配)."""
        data = self.validated_input()
        cards = changeable_cards(request.user, data["cards"])
        return self._answer_many(stock.assign_cards(actor=request.user, cards=cards,
                                                    group_customer=data["group_customer"]))

    @extend_schema(responses={200: s.StockCardSerializer(many=True)})
    @action(detail=False, methods=["post"], url_path="return")
    def return_cards(self, request):
        """Take assigned, unissued cards back into stock (退库)."""
        data = self.validated_input()
        cards = changeable_cards(request.user, data["cards"])
        return self._answer_many(stock.return_cards(actor=request.user, cards=cards))

    @extend_schema(responses={200: s.StockCardSerializer})
    @action(detail=True, methods=["post"])
    def scrap(self, request, pk=None):
        """Scrap a card for good (报废)."""
        card = self.get_gated_object(for_change=True)
        data = self.validated_input()
        return self.answer(stock.scrap_card(actor=request.user, card=card,
                                            reason=data["reason"]))


router = SimpleRouter()
router.register("card-stock", StockViewSet, basename="card-stock")
urlpatterns = router.urls
