"""The lean WSGI path of the terminal protocol (``/terminal/v1/``).

``onecard.wsgi.application`` is a ``TerminalGateway`` around Django's WSGI handler. It serves
the protocol's routes itself, with ``views.respond`` (the one implementation the DRF views use
too), and hands every other request to Django unchanged. Django's middleware stack, URL
resolver and DRF's dispatch cost more than a terminal call's own work; of what they do, the
gateway keeps what matters for these routes, in the same order and with the same answers:

1. ``request_started`` / ``request_finished`` are sent as Django's handler sends them (the
   latter when the server closes the response), so persistent database connections are
   recycled as under Django (``close_old_connections``); instead of Django's ``SELECT 1``
   before a request's first query, the sequence claim proves the connection alive, and one
   dropped while idle is reopened and the claim made again (``views._claim``);
2. ``RejectHostileRequestMiddleware``: a query string above 4096 characters → 414, NUL in the
   path or query → 400;
3. ``CommonMiddleware``'s Host check against ``ALLOWED_HOSTS`` → 400 ``{"detail": "Bad
   request."}`` (logged on ``django.security.DisallowedHost``);
4. ``LocaleMiddleware``: the language from the cookie or ``Accept-Language`` (else
   ``LANGUAGE_CODE``) is activated, so translated refusals read as before;
5. routing: an unknown ``/terminal/v1/…`` path → 404 ``{"detail": "Not found."}``, a method
   the endpoint does not take → DRF's 405 (``Allow`` header, translated detail); ``OPTIONS``
   (DRF's metadata answer) goes to Django, and so does everything with ``DEBUG`` on (debug
   pages);
6. a body above ``DATA_UPLOAD_MAX_MEMORY_SIZE`` → the protocol's 413 ``too_large``, unread;
7. the security headers of ``SecurityMiddleware`` and ``XFrameOptionsMiddleware``;
8. any exception a bug or the database raises → 500 ``{"detail": "Server error."}``, logged
   on ``django.request`` like Django's handler (never a traceback to the client); 4xx answers
   are logged as Django logs them.

Invariant: for every request to these routes, status and body equal those the Django stack
gives (``tests/test_gateway.py`` compares both).
"""

import json
import logging
from http import HTTPStatus

from django.conf import settings
from django.core import signals
from django.core.exceptions import DisallowedHost
from django.core.handlers.wsgi import WSGIRequest, get_script_name
from django.urls import set_script_prefix
from django.utils import translation
from rest_framework.exceptions import MethodNotAllowed

from onecard.core.middleware import MAX_QUERY_STRING

from . import urls, views

PREFIX = "/terminal/v1/"
request_logger = logging.getLogger("django.request")
host_logger = logging.getLogger("django.security.DisallowedHost")


def _routes():
    """``{path: (view class, allowed methods, Allow header)}`` from the protocol's urlconf."""
    routes = {}
    for pattern in urls.urlpatterns:
        view = pattern.callback.view_class
        methods = [name.upper() for name in view.http_method_names if hasattr(view, name)]
        routes[PREFIX + str(pattern.pattern)] = (
            view, frozenset(methods) - {"OPTIONS"}, ", ".join(methods))
    return routes


ROUTES = _routes()


class _Body:
    """The response iterable: one chunk; closing it ends the request as Django's handler does
    (``request_finished``: database connections recycled)."""

    __slots__ = ("content",)

    def __init__(self, content):
        self.content = content

    def __iter__(self):
        yield self.content

    def close(self):
        signals.request_finished.send(sender=TerminalGateway)


class TerminalGateway:
    """WSGI application: ``/terminal/v1/`` routes served here, everything else by ``django``."""

    def __init__(self, django):
        self.django = django
        headers = []
        if settings.SECURE_CONTENT_TYPE_NOSNIFF:
            headers.append(("X-Content-Type-Options", "nosniff"))
        if settings.SECURE_REFERRER_POLICY:
            policy = settings.SECURE_REFERRER_POLICY
            headers.append(("Referrer-Policy", policy if isinstance(policy, str)
                            else ",".join(policy)))
        if settings.SECURE_CROSS_ORIGIN_OPENER_POLICY:
            headers.append(("Cross-Origin-Opener-Policy",
                            settings.SECURE_CROSS_ORIGIN_OPENER_POLICY))
        headers.append(("X-Frame-Options", getattr(settings, "X_FRAME_OPTIONS", "DENY").upper()))
        self.security_headers = headers
        # A redirect to HTTPS is Django's business: with it on, Django serves everything.
        self.enabled = not settings.SECURE_SSL_REDIRECT

    def __call__(self, environ, start_response):
        if (not self.enabled or not environ.get("PATH_INFO", "").startswith(PREFIX)
                or environ.get("REQUEST_METHOD", "").upper() == "OPTIONS" or settings.DEBUG):
            return self.django(environ, start_response)
        signals.request_started.send(sender=TerminalGateway, environ=environ)
        request, extra = None, []
        try:
            set_script_prefix(get_script_name(environ))
            request = WSGIRequest(environ)
            status, content, extra = self._answer(request)
        except Exception:
            signals.got_request_exception.send(sender=None, request=request)
            request_logger.exception("Internal Server Error: %s", environ.get("PATH_INFO"),
                                     extra={"status_code": 500, "request": request})
            status, content = 500, _json({"detail": "Server error."})
        headers = [("Content-Type", "application/json"), ("Content-Length", str(len(content))),
                   *extra, *self.security_headers]
        if environ.get("wsgi.url_scheme") == "https" and settings.SECURE_HSTS_SECONDS:
            headers.append(("Strict-Transport-Security",
                            f"max-age={settings.SECURE_HSTS_SECONDS}"))
        start_response(f"{status} {HTTPStatus(status).phrase}", headers)
        return _Body(content)

    def _answer(self, request):
        """``(status, body bytes, extra headers)``, decided in the order of Django's stack."""
        query = request.META.get("QUERY_STRING", "")
        if len(query) > MAX_QUERY_STRING:
            return _logged(request, 414, {"detail": "Query string too long.", "code": "too_long"})
        if "\x00" in request.path or "%00" in query or "\x00" in query:
            return _logged(request, 400, {"detail": "NUL characters are not allowed.",
                                          "code": "invalid"})
        try:
            request.get_host()
        except DisallowedHost as error:
            host_logger.error(str(error), extra={"status_code": 400, "request": request})
            return 400, _json({"detail": "Bad request."}), []
        translation.activate(translation.get_language_from_request(request, check_path=False))
        extra = [("Content-Language", translation.get_language()), ("Vary", "Accept-Language")]
        route = ROUTES.get(request.path_info)
        if route is None:
            return _logged(request, 404, {"detail": "Not found."}, extra)
        view, methods, allow = route
        if request.method not in methods:
            detail = str(MethodNotAllowed(request.method).detail)
            return _logged(request, 405, {"detail": detail}, [("Allow", allow), *extra],
                           drf=True)
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0  # as WSGIRequest reads it: no body
        if length > settings.DATA_UPLOAD_MAX_MEMORY_SIZE:
            status, answer = views.TOO_LARGE
        else:
            status, answer = views.respond(view, request.method, request.path, query,
                                           request.META, request.read())
        if status >= 400:
            _log(request, status)
        return status, views.encode(status, answer), extra


def _log(request, status):
    """What Django logs of every 4xx answer (``django.utils.log.log_response``)."""
    request_logger.warning("%s: %s", HTTPStatus(status).phrase, request.path,
                           extra={"status_code": status, "request": request})


def _logged(request, status, answer, extra=(), drf=False):
    _log(request, status)
    return status, _json(answer, drf), list(extra)


def _json(answer, drf=False):
    """What Django's ``JsonResponse`` writes or, with ``drf``, DRF's ``JSONRenderer``."""
    if drf:
        text = json.dumps(answer, ensure_ascii=False, separators=(",", ":"))
        return text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029").encode()
    return json.dumps(answer).encode()
