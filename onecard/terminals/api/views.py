"""Terminal registry API (/api/v1/terminals/). Each write validates its input and calls ONE
action; terminals are fetched only through the gatekeepers (404 for out of reach)."""

from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from onecard.core.api import GatekeptViewSetMixin, IdFilter

from .. import actions
from ..choices import TerminalKind, TerminalState
from ..models import Terminal
from . import serializers as s


class TerminalFilter(filters.FilterSet):
    group_customer = IdFilter(field_name="group_customer")
    kind = filters.ChoiceFilter(choices=TerminalKind.choices)
    state = filters.ChoiceFilter(choices=TerminalState.choices)

    class Meta:
        model = Terminal
        fields = ["group_customer", "kind", "state"]


class TerminalViewSet(GatekeptViewSetMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin,
                      viewsets.GenericViewSet):
    """The terminal registry (机具): state, last seen, clock skew, refusals, alerts."""

    queryset = Terminal.objects.all()
    serializer_class = s.TerminalSerializer
    input_serializers = {"create": s.TerminalCreateSerializer,
                         **dict.fromkeys(("disable", "enable", "retire", "rotate_secret"),
                                         s.TerminalReasonSerializer)}
    filterset_class = TerminalFilter
    search_fields = ["name", "device_id", "location", "serial"]
    ordering_fields = ["name", "kind", "state", "last_seen_at", "created_at"]
    ordering = ["group_customer_id", "kind", "name", "id"]

    def get_serializer_class(self):
        if self.action == "retrieve":
            return s.TerminalDetailSerializer
        return super().get_serializer_class()

    @extend_schema(responses={201: s.RegisteredSerializer})
    def create(self, request):
        """Register a terminal; the answer carries its one-time enrolment code."""
        data = self.validated_input()
        registered = actions.register_terminal(actor=request.user, **data)
        return Response({"terminal": s.TerminalSerializer(registered.terminal).data,
                         "enrolment_code": registered.enrolment_code},
                        status=status.HTTP_201_CREATED)

    def _transition(self, request, action_function):
        terminal = self.get_gated_object(for_change=True)
        data = self.validated_input()
        return self.answer(action_function(actor=request.user, terminal=terminal, **data))

    @extend_schema(responses={200: s.TerminalSerializer})
    @action(detail=True, methods=["post"])
    def disable(self, request, pk=None):
        """active → disabled: every request of the device is refused."""
        return self._transition(request, actions.disable_terminal)

    @extend_schema(responses={200: s.TerminalSerializer})
    @action(detail=True, methods=["post"])
    def enable(self, request, pk=None):
        """disabled → active."""
        return self._transition(request, actions.enable_terminal)

    @extend_schema(responses={200: s.TerminalSerializer})
    @action(detail=True, methods=["post"])
    def retire(self, request, pk=None):
        """→ retired, for good."""
        return self._transition(request, actions.retire_terminal)

    @extend_schema(request=None, responses={200: s.EnrolmentCodeSerializer})
    @action(detail=True, methods=["post"], url_path="enrolment-code")
    def enrolment_code(self, request, pk=None):
        """A new one-time enrolment code for a pending terminal."""
        terminal = self.get_gated_object(for_change=True)
        code = actions.issue_enrolment_code(actor=request.user, terminal=terminal)
        return Response({"enrolment_code": code})

    @extend_schema(responses={200: s.SecretSerializer})
    @action(detail=True, methods=["post"], url_path="rotate-secret")
    def rotate_secret(self, request, pk=None):
        """Replace the device secret; the new one is shown only now."""
        terminal = self.get_gated_object(for_change=True)
        data = self.validated_input()
        rotated = actions.rotate_secret(actor=request.user, terminal=terminal, **data)
        return Response({"device_id": rotated.terminal.device_id, "secret": rotated.secret})
