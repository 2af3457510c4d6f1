"""Error pages: JSON for the API, a plain page for the console. Never a stack trace."""

from django.http import JsonResponse
from django.shortcuts import render


def _wants_json(request):
    return request.path.startswith("/api/") or request.path.startswith("/terminal/")


def _error(request, status, message):
    if _wants_json(request):
        return JsonResponse({"detail": message}, status=status)
    return render(request, "error.html", {"status": status, "message": message}, status=status)


def bad_request(request, exception=None):
    return _error(request, 400, "Bad request.")


def permission_denied(request, exception=None):
    return _error(request, 403, "Not allowed.")


def page_not_found(request, exception=None):
    return _error(request, 404, "Not found.")


def server_error(request):
    return _error(request, 500, "Server error.")
