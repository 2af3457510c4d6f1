"""Shared API pieces: pagination, strict serializers, error mapping, gatekeeper-backed viewsets."""

import logging

from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent
from django.db import DataError
from django.http import Http404
from rest_framework import exceptions, pagination, serializers, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from .errors import DomainError, NotFound

logger = logging.getLogger(__name__)

# Primary keys in URLs: digits only, and short enough to fit a 64-bit integer on every database.
PK_PATTERN = r"[0-9]{1,18}"


class Pagination(pagination.PageNumberPagination):
    page_size_query_param = "page_size"
    max_page_size = 500


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
                {name: ["Unknown or read-only field."] for name in unknown}, code="unknown_field"
            )
        return super().to_internal_value(data)


class StrictModelSerializer(StrictSerializerMixin, serializers.ModelSerializer):
    pass


class StrictSerializer(StrictSerializerMixin, serializers.Serializer):
    pass


def exception_handler(exc, context):
    """Turn domain refusals and hostile-input failures into clear 4xx answers, never a 500."""
    if isinstance(exc, NotFound | Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DomainError):
        return Response(exc.as_dict(), status=exc.status_code)
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
