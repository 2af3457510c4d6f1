"""Terminal fixtures: the cards world (``cards``, ``books`` from the cards tests) plus a fleet
of customer A's terminals, registered and enrolled through the real actions and protocol.

``fleet.client(kind)`` is a signing ``TerminalClient`` for one enrolled terminal, talking to
the production entry point (``onecard.wsgi.application``, whose gateway serves the protocol);
``fleet.terminals[kind]`` the Terminal rows. ``DjangoSession`` talks to the Django stack (the
DRF views) through the test client instead, for comparing the two.
"""

import io
import sys
from types import SimpleNamespace
from urllib.parse import unquote_to_bytes, urlsplit

import pytest
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.test import Client

from onecard.cards.tests.conftest import books, cards, plans  # noqa: F401 - fixtures
from onecard.terminals import actions
from onecard.terminals.models import Terminal
from onecard.terminals.protocol.signing import TerminalClient, enrol
from onecard.wallet import actions as wallet

BASE = "http://testserver/terminal/v1"
KINDS = ("pos", "top_up", "door_controller", "attendance_clock", "issuing")


class DjangoSession:
    """What ``TerminalClient`` needs of a session, served by the Django test client."""

    def __init__(self):
        self.client = Client()

    def request(self, method, url, data=None, headers=None, timeout=None):
        headers = dict(headers or {})
        content_type = headers.pop("Content-Type", "application/json")
        path = url.split("testserver", 1)[1]
        return self.client.generic(method, path, data=data or b"", content_type=content_type,
                                   headers=headers)


def wsgi_environ(method, path, body=b"", headers=None, *, query="", host="testserver"):
    """A WSGI environ as a server builds it (PEP 3333: the path unquoted, as latin-1 text)."""
    environ = {
        "REQUEST_METHOD": method, "SCRIPT_NAME": "",
        "PATH_INFO": unquote_to_bytes(path).decode("iso-8859-1"), "QUERY_STRING": query,
        "SERVER_NAME": "testserver", "SERVER_PORT": "80", "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1", "wsgi.version": (1, 0), "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(body), "wsgi.errors": sys.stderr, "wsgi.multithread": True,
        "wsgi.multiprocess": True, "wsgi.run_once": False,
    }
    if host is not None:
        environ["HTTP_HOST"] = host
    if body:
        environ["CONTENT_LENGTH"] = str(len(body))
    for name, value in (headers or {}).items():
        key = name.upper().replace("-", "_")
        environ[key if key in ("CONTENT_TYPE", "CONTENT_LENGTH") else "HTTP_" + key] = value
    return environ


def call_wsgi(environ):
    """``(status, headers, body)`` of ``onecard.wsgi.application`` for ``environ``, run as a
    server runs it (iterate, then close). Like Django's test client, it keeps
    ``close_old_connections`` from closing the test's database connection, which is inside the
    test's transaction."""
    from onecard.wsgi import application

    started = []

    def start_response(status, headers, exc_info=None):
        started.append((int(status.split(" ", 1)[0]), headers))

    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        answer = application(environ, start_response)
        try:
            body = b"".join(answer)
        finally:
            if hasattr(answer, "close"):
                answer.close()
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)
    status, headers = started[0]
    return status, dict(headers), body


class WsgiSession:
    """What ``TerminalClient`` needs of a session, served by ``onecard.wsgi.application``."""

    def request(self, method, url, data=None, headers=None, timeout=None):
        parts = urlsplit(url)
        headers = dict(headers or {})
        headers.setdefault("Content-Type", "application/json")
        status, response_headers, body = call_wsgi(wsgi_environ(
            method, parts.path, data or b"", headers, query=parts.query))
        return SimpleNamespace(status_code=status, content=body, headers=response_headers)


def enrol_kind(world, kind, merchant=None, *, name=None):
    registered = actions.register_terminal(
        actor=world.ent_admin_a, group_customer=world.customer_a, kind=kind,
        name=name or f"{kind} 1", location="Gate 1", frequencies=["2.4ghz"],
        merchant=merchant if kind == "pos" else None)
    status, body = enrol(BASE, registered.enrolment_code, "SN-1", "1.0.0",
                         session=WsgiSession())
    assert status == 200, body
    terminal = Terminal.objects.get(pk=registered.terminal.pk)
    return terminal, TerminalClient(BASE, body["device_id"], body["secret"],
                                    session=WsgiSession())


@pytest.fixture
def fleet(world, cards, books):  # noqa: F811 - pytest fixtures by name
    merchant = wallet.create_merchant(actor=world.manager, group_customer=world.customer_a,
                                      name="Canteen", code="canteen")
    wallet.set_spending_policy(actor=world.manager, group_customer=world.customer_a,
                               category="staff", per_transaction_limit=20000, daily_limit=50000,
                               pin_threshold=10000, offline_per_transaction_limit=3000,
                               offline_daily_limit=5000)
    f = SimpleNamespace(terminals={}, clients={}, merchant=merchant, cards=cards, books=books)
    for kind in KINDS:
        f.terminals[kind], f.clients[kind] = enrol_kind(world, kind, merchant)
    f.client = f.clients.__getitem__
    return f
