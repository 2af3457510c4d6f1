"""Shared API pieces: pagination, strict serializers, error mapping, gatekeeper-backed viewsets."""

import logging

from django import forms
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent
from django.db import DataError
from django.http import Http404
from django_filters.filters import NumberFilter
from rest_framework import exceptions, pagination, parsers, serializers, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from .errors import DomainError, NotFound
from .gatekeepers import access

logger = logging.getLogger(__name__)

# Primary keys in URLs: digits only, and short enough to fit a 64-bit integer on every database.
PK_PATTERN = r"[0-9]{1,18}"


class Pagination(pagination.PageNumberPagination):
    page_size_query_param = "page_size"
    max_page_size = 500


def _has_lone_surrogate(text):
    # JSON may spell "\ud800"; such text cannot be encoded for any database.
    return any("\ud800" <= ch <= "\udfff" for ch in text)


def _printable(name):
    # A field name is echoed in the answer, which must encode as UTF-8 whatever was sent.
    return str(name).encode("utf-8", "backslashreplace").decode("utf-8")


def refuse_unencodable(data):
    """Field errors for top-level strings that no database can store (lone UTF-16 surrogates)."""
    errors = {}
    for name, value in data.items():
        values = value if isinstance(value, list) else [value]
        if any(isinstance(item, str) and _has_lone_surrogate(item) for item in values):
            errors[name] = ["Text contains an invalid character."]
    return errors


class StrictSerializerMixin:
    """Refuse fields the serializer does not know, naming them, rather than ignoring them."""

    def to_internal_value(self, data):
        if not isinstance(data, dict):
            raise serializers.ValidationError(
                {"non_field_errors": ["Expected a JSON object."]}, code="invalid"
            )
        writable = {name for name, field in self.fields.items() if not field.read_only}
        unknown = sorted(set(data) - writable)
        if unknown:
            raise serializers.ValidationError(
                {_printable(name): ["Unknown or read-only field."] for name in unknown},
                code="unknown_field",
            )
        unencodable = refuse_unencodable(data)
        if unencodable:
            raise serializers.ValidationError(unencodable, code="invalid")
        return super().to_internal_value(data)


class StrictModelSerializer(StrictSerializerMixin, serializers.ModelSerializer):
    pass


class StrictSerializer(StrictSerializerMixin, serializers.Serializer):
    pass


def _domain_error_body(exc):
    """``exc.as_dict()``, except when a field is itself called "code" (branches, customers and
    departments have one): its messages then keep the key and the machine code moves to
    "error_code", so neither is lost."""
    errors = getattr(exc, "errors", None) or ({exc.field: [exc.message]} if exc.field else None)
    if errors and "code" in errors:
        return {**errors, "error_code": exc.code}
    return exc.as_dict()


def exception_handler(exc, context):
    """Turn domain refusals and hostile-input failures into clear 4xx answers, never a 500."""
    if isinstance(exc, NotFound | Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DomainError):
        return Response(_domain_error_body(exc), status=exc.status_code)
    elif isinstance(exc, RequestDataTooBig):
        return Response(
            {"detail": "Request body too large.", "code": "too_large"},
            status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
        )
    elif isinstance(exc, TooManyFieldsSent):
        return Response({"detail": "Too many fields.", "code": "too_many_fields"}, status=400)
    elif isinstance(exc, OverflowError | DataError):
        # A number too large for the database column: bad input, not a server fault.
        logger.info("refused out-of-range input: %s", exc)
        return Response({"detail": "A value is out of range.", "code": "out_of_range"}, status=400)
    return drf_exception_handler(exc, context)


# --- Shared building blocks for the /api/v1/ viewsets (added with the REST API) ------------------

# The largest id a reference in a body or a filter may carry (PK_PATTERN allows 18 digits).
PK_MAX = 10**18 - 1


class ActionInputSerializer(StrictModelSerializer):
    """Shape-only input for one action, with the model's field types, lengths and choices.

    It never saves (the view hands ``validated_data`` to the action) and runs no uniqueness
    queries: the action and the database decide those, with the same answer for every tenant.
    """

    def get_validators(self):
        return []

    def build_standard_field(self, field_name, model_field):
        from rest_framework.validators import UniqueValidator

        field_class, kwargs = super().build_standard_field(field_name, model_field)
        if "validators" in kwargs:
            kwargs["validators"] = [
                v for v in kwargs["validators"] if not isinstance(v, UniqueValidator)
            ]
        return field_class, kwargs

    def create(self, validated_data):
        raise NotImplementedError("Views call an action; serializers never save.")

    def update(self, instance, validated_data):
        raise NotImplementedError("Views call an action; serializers never save.")


class GatekeptPrimaryKeyField(serializers.PrimaryKeyRelatedField):
    """A reference by id that accepts only objects the requesting person may use.

    ``scope`` is a gatekeeper method name (``"visible_to"``, ``"changeable_by"``) or a callable
    ``scope(queryset, user)``. Another tenant's id is refused exactly like an id that does not
    exist, with the field named; only whole numbers in the id range are looked up.
    """

    def __init__(self, *, scope="visible_to", **kwargs):
        self.scope = scope
        super().__init__(**kwargs)

    def get_queryset(self):
        queryset = super().get_queryset()
        request = self.context.get("request")
        user = getattr(request, "user", None)
        if callable(self.scope):
            return self.scope(queryset, user)
        return getattr(queryset, self.scope)(user)

    def to_internal_value(self, data):
        if isinstance(data, str) and data.isascii() and data.isdigit():
            data = int(data)
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("incorrect_type", data_type=type(data).__name__)
        if not 1 <= data <= PK_MAX:
            self.fail("does_not_exist", pk_value=data)
        return super().to_internal_value(data)


class IdFilter(NumberFilter):
    """Filter by a related object's id: whole numbers in the id range only, never a lookup of
    the related object (so the answer does not depend on whether another tenant's id exists)."""

    field_class = forms.IntegerField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", PK_MAX)
        super().__init__(*args, **kwargs)


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser, also refusing JSON nested too deeply for Python's decoder (which
    raises RecursionError, not ValueError). Name it in ``DEFAULT_PARSER_CLASSES`` to cover every
    view; the /api/v1/ views name it in ``PARSER_CLASSES`` below."""

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise exceptions.ParseError("JSON parse error - nested too deeply.")


PARSER_CLASSES = [JSONParser, parsers.FormParser, parsers.MultiPartParser]


class GatekeptViewSetMixin:
    """Mixed into every /api/v1/ viewset (before ``GenericViewSet``, which this module cannot
    import: DRF imports this module while defining it). Reads go through ``visible_to``, writes
    through ``changeable_by``, both answering 404 for "not found" and "not allowed" alike.

    Viewsets set ``queryset`` (any select_related/prefetch they need; it is always scoped
    here), ``serializer_class`` (what is answered) and ``input_serializers`` (action name →
    input serializer). Writes are explicit methods that validate input and call ONE action.
    """

    lookup_value_regex = PK_PATTERN
    parser_classes = PARSER_CLASSES
    input_serializers = {}

    def get_queryset(self):
        return super().get_queryset().visible_to(self.request.user)

    def get_object(self):
        return self.get_gated_object()

    def get_gated_object(self, *, for_change=False):
        obj = access(self.queryset.all(), self.kwargs[self.lookup_url_kwarg or self.lookup_field],
                     self.request.user, for_change=for_change)
        self.check_object_permissions(self.request, obj)
        return obj

    def get_serializer_class(self):
        return self.input_serializers.get(self.action, self.serializer_class)

    def validated_input(self, *, partial=False, serializer_class=None):
        """Validate the request body with the action's input serializer; 400 names the field."""
        serializer_class = serializer_class or self.get_serializer_class()
        serializer = serializer_class(data=self.request.data, partial=partial,
                                      context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        return dict(serializer.validated_data)

    def answer(self, obj, status_code=status.HTTP_200_OK):
        """The object as ``serializer_class`` shows it."""
        data = self.serializer_class(obj, context=self.get_serializer_context()).data
        return Response(data, status=status_code)
