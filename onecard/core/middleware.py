"""Refuse hostile requests before they reach a view."""

from django.http import JsonResponse

MAX_QUERY_STRING = 4096


class RejectHostileRequestMiddleware:
    """NUL bytes and very long query strings get a 400 here instead of an error deep in the DB.

    PostgreSQL refuses NUL in text, and SQLite overflows on huge integers; both would surface as
    server errors if they reached a query.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        query = request.META.get("QUERY_STRING", "")
        if len(query) > MAX_QUERY_STRING:
            return JsonResponse(
                {"detail": "Query string too long.", "code": "too_long"}, status=414
            )
        if "\x00" in request.path or "%00" in query or "\x00" in query:
            return JsonResponse(
                {"detail": "NUL characters are not allowed.", "code": "invalid"}, status=400
            )
        return self.get_response(request)
