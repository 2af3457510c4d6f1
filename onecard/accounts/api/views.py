"""Accounts API (log-ins, roles and their scope, self-service) and API token log-in/log-out.

Each write validates its input and calls ONE action of ``accounts.actions``; accounts are fetched
only through the gatekeepers. Log-in goes through ``django.contrib.auth.authenticate`` so the
lockout backend counts every failure.
"""

from django.contrib.auth import authenticate
from django.utils.translation import gettext as _
from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.authtoken.models import Token
from rest_framework.decorators import action
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView

from onecard.core.api import PARSER_CLASSES, GatekeptViewSetMixin, IdFilter
from onecard.core.errors import InvalidInput

from .. import actions
from ..choices import Role
from ..models import User
from . import serializers as s


class AccountFilter(filters.FilterSet):
    role = filters.ChoiceFilter(choices=Role.choices)
    group_customer = IdFilter(field_name="group_customer")
    branch = IdFilter(field_name="branch")
    is_active = filters.BooleanFilter()

    class Meta:
        model = User
        fields = ["role", "group_customer", "branch", "is_active"]


class AccountViewSet(GatekeptViewSetMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin,
                     viewsets.GenericViewSet):
    """Accounts. Operator admins manage all; enterprise admins their own customer's accounts;
    everyone reads and edits themself at ``/accounts/me/``."""

    queryset = User.objects.all()
    serializer_class = s.AccountSerializer
    input_serializers = {
        "create": s.AccountCreateSerializer,
        "partial_update": s.AccountUpdateSerializer,
        "update_me": s.MeUpdateSerializer,
        "change_my_password": s.PasswordChangeSerializer,
    }
    filterset_class = AccountFilter
    search_fields = ["username", "display_name", "phone", "email"]
    ordering_fields = ["username", "role", "date_joined", "last_login"]
    ordering = ["username"]
    throttle_scope = None  # the password change sets "login"

    @extend_schema(responses={201: s.AccountSerializer})
    def create(self, request):
        data = self.validated_input()
        account = actions.create_account(actor=request.user, **data)
        return self.answer(account, status.HTTP_201_CREATED)

    @extend_schema(responses={200: s.AccountSerializer})
    def partial_update(self, request, pk=None):
        account = self.get_gated_object(for_change=True)
        data = self.validated_input(partial=True)
        account = actions.update_account(actor=request.user, user=account, **data)
        return self.answer(account)

    @extend_schema(request=None, responses={200: s.UnlockResultSerializer})
    @action(detail=True, methods=["post"])
    def unlock(self, request, pk=None):
        """Lift a log-in lockout (and the failure count) before it expires."""
        account = self.get_gated_object(for_change=True)
        unlocked = actions.unlock_account(actor=request.user, user=account)
        return Response({"unlocked": unlocked})

    @extend_schema(responses={200: s.AccountSerializer})
    @action(detail=False, methods=["get"], url_path="me")
    def me(self, request):
        """The requesting person's own account."""
        return self.answer(request.user)

    @extend_schema(responses={200: s.AccountSerializer})
    @me.mapping.patch
    def update_me(self, request):
        """Change one's own display name or console language (zh-hans, en)."""
        data = self.validated_input(partial=True)
        account = actions.update_account(actor=request.user, user=request.user, **data)
        return self.answer(account)

    @extend_schema(responses={204: None})
    @action(detail=False, methods=["post"], url_path="me/password",
            throttle_classes=[ScopedRateThrottle], throttle_scope="login")
    def change_my_password(self, request):
        """Change one's own password; the current one is required."""
        data = self.validated_input()
        if not request.user.check_password(data["current_password"]):
            raise serializers.ValidationError(
                {"current_password": [_("The current password is not right.")]}
            )
        try:
            actions.change_password(actor=request.user, user=request.user,
                                    new_password=data["new_password"])
        except InvalidInput as refused:
            # The action names its argument "password"; this endpoint calls it "new_password".
            errors = {("new_password" if name == "password" else name): messages
                      for name, messages in refused.errors.items()}
            raise InvalidInput(errors, code=refused.code)
        return Response(status=status.HTTP_204_NO_CONTENT)


class TokenView(APIView):
    """Log in with user name and password; answers an API token.

    Wrong, locked and inactive log-ins get the same answer, so none reveals that a name exists.
    """

    authentication_classes = []
    permission_classes = [AllowAny]
    parser_classes = PARSER_CLASSES
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "login"

    @extend_schema(request=s.TokenRequestSerializer, responses={200: s.TokenSerializer},
                   auth=[])
    def post(self, request):
        serializer = s.TokenRequestSerializer(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        user = authenticate(request=request, username=serializer.validated_data["username"],
                            password=serializer.validated_data["password"])
        if user is None or not user.is_active:
            raise serializers.ValidationError(
                {"non_field_errors": [_("Unable to log in with this user name and password.")]},
                code="authorization",
            )
        token, _created = Token.objects.get_or_create(user=user)
        return Response({"token": token.key})


class LogoutView(APIView):
    """Log out: the API token of the requesting person stops working."""

    parser_classes = PARSER_CLASSES

    @extend_schema(request=None, responses={204: None})
    def post(self, request):
        Token.objects.filter(user=request.user).delete()
        return Response(status=status.HTTP_204_NO_CONTENT)
