"""The lean WSGI path (``onecard.wsgi.application`` → ``TerminalGateway``) against the Django
stack (the DRF views through the test client).

Each case sends one request both ways from the same database state (the gateway's run is rolled
back first) and asserts the same status and the same body bytes, plus what the answer must be.
Further tests: the gateway really serves the protocol (Django's handler is never called), sends
Django's request signals, accepts a sequence in one statement with the terminal read, never
answers a 500 with a traceback.
"""

import json
import time

import pytest
from django.core.signals import request_finished, request_started
from django.db import transaction
from django.test import Client

from onecard.terminals import actions
from onecard.terminals.models import Terminal
from onecard.terminals.protocol import auth, views
from onecard.terminals.protocol.signing import signed_headers
from onecard.wallet.models import Transfer

from .conftest import BASE, WsgiSession, call_wsgi, wsgi_environ

PREFIX = "/terminal/v1/"


def signed(client, method, endpoint, body=None, *, query="", timestamp=None, sequence=None,
           secret=None, device_id=None):
    """``(method, path, raw, headers, query)`` of a request signed for ``client``'s terminal."""
    raw = b"" if body is None else json.dumps(body).encode()
    path = PREFIX + endpoint
    headers = signed_headers(device_id or client.device_id, secret or client.secret_hex, method,
                             path + ("?" + query if query else ""),
                             int(time.time()) if timestamp is None else timestamp,
                             client.next_sequence() if sequence is None else sequence, raw)
    headers["Content-Type"] = "application/json"
    return method, path, raw, headers, query


def through_django(method, path, raw=b"", headers=None, query="", host=None, **extra):
    headers = dict(headers or {})
    content_type = headers.pop("Content-Type", "application/json")
    if host is not None:
        extra["HTTP_HOST"] = host
    response = Client().generic(method, path + ("?" + query if query else ""), data=raw,
                                content_type=content_type, headers=headers, **extra)
    return response.status_code, response.content


def both(method, path, raw=b"", headers=None, query="", host="testserver"):
    """The gateway's and Django's ``(status, body bytes)`` for one request, each from the same
    database state: the gateway's run is rolled back before Django's."""
    with transaction.atomic():
        status, _headers, body = call_wsgi(wsgi_environ(method, path, raw, headers, query=query,
                                                        host=host))
        transaction.set_rollback(True)
    django = through_django(method, path, raw, headers, query,
                            host=None if host == "testserver" else host)
    return (status, body), django


def answer(pair):
    (status, body), django = pair
    assert (status, body) == django, (status, body, django)
    return status, json.loads(body) if body else None


# --- The same answers both ways -----------------------------------------------------------------


def test_purchase_and_access_are_approved_alike(world, fleet):
    fleet.books.top_up(world.members_a[0], 5000)
    card = fleet.cards.a0.number
    request = signed(fleet.client("pos"), "POST", "purchases",
                     {"client_id": "g-1", "amount": 1200, "card_number": card})
    assert answer(both(*request)) == (200, {
        "result": "approved", "client_id": "g-1", "amount": 1200, "balance_after": 3800,
        "subsidy_balance_after": 0, "subsidy_used": 0, "purse_used": 1200})
    assert Transfer.objects.filter(client_id="g-1").count() == 1  # Django's run, kept
    request = signed(fleet.client("door_controller"), "POST", "access",
                     {"card_number": card, "direction": "in"})
    assert answer(both(*request)) == (200, {"decision": "allow", "reason": "card_active"})


def test_subsidy_is_used_first_alike(world, fleet):
    from onecard.wallet import actions as wallet

    member = world.members_a[0]
    fleet.books.top_up(member, 5000)
    wallet.grant_subsidy(actor=world.manager, member=member, amount=300, client_id="sub-1")
    request = signed(fleet.client("pos"), "POST", "purchases",
                     {"client_id": "g-2", "amount": 1000, "card_number": fleet.cards.a0.number})
    assert answer(both(*request)) == (200, {
        "result": "approved", "client_id": "g-2", "amount": 1000, "balance_after": 4300,
        "subsidy_balance_after": 0, "subsidy_used": 300, "purse_used": 700})
    # All from the subsidy purse (one leg): the answer still tells which purse paid.
    wallet.grant_subsidy(actor=world.manager, member=member, amount=500, client_id="sub-2")
    request = signed(fleet.client("pos"), "POST", "purchases",
                     {"client_id": "g-3", "amount": 500, "card_number": fleet.cards.a0.number})
    assert answer(both(*request)) == (200, {
        "result": "approved", "client_id": "g-3", "amount": 500, "balance_after": 4300,
        "subsidy_balance_after": 0, "subsidy_used": 500, "purse_used": 0})


def test_protocol_refusals_alike(world, fleet):
    client, pos = fleet.client("pos"), fleet.terminals["pos"]
    card = fleet.cards.a0.number
    purchase = {"client_id": "r-1", "amount": 100, "card_number": card}
    cases = {
        "bad_signature": signed(client, "POST", "purchases", purchase, secret="ab" * 32),
        "stale_timestamp": signed(client, "GET", "time", timestamp=int(time.time()) - 301),
        "unknown_device": signed(client, "GET", "time", device_id="T-NOSUCH"),
        "wrong_terminal_kind": signed(client, "POST", "access",
                                      {"card_number": card, "direction": "in"}),
        "bad_request": signed(client, "POST", "purchases", {**purchase, "amount": 0}),
    }
    for code, request in cases.items():
        status, body = answer(both(*request))
        assert (status, body["error"]) == ({"wrong_terminal_kind": 403,
                                            "bad_request": 400}.get(code, 401), code)
    status, body = answer(both("GET", PREFIX + "time"))
    assert (status, body["error"]) == (400, "auth_missing")
    # A replay: the sequence below the last accepted one.
    last = client.next_sequence() + 1000
    assert client.call("GET", "time", sequence=last)[0] == 200
    status, body = answer(both(*signed(client, "GET", "time", sequence=last - 1)))
    assert (status, body["error"]) == (401, "replayed_sequence")
    actions.disable_terminal(actor=world.ent_admin_a, terminal=pos, reason="stolen")
    status, body = answer(both(*signed(client, "POST", "purchases", purchase)))
    assert (status, body["error"]) == (403, "device_disabled")
    assert Terminal.objects.get(pk=pos.pk).failures_device_disabled == 1  # Django's run


def test_business_refusal_and_credentials_alike(fleet):
    client = fleet.client("pos")
    status, body = answer(both(*signed(client, "POST", "purchases", {
        "client_id": "u-1", "amount": 100, "card_number": "0000"})))
    assert (status, body) == (200, {"result": "refused", "reason": "unknown_card",
                                    "client_id": "u-1"})
    status, body = answer(both(*signed(client, "GET", "credentials", query="since=0&limit=2")))
    assert (status, body["mode"]) == (200, "snapshot")
    status, body = answer(both(*signed(client, "GET", "credentials", query="limit=x")))
    assert (status, body["field"]) == (400, "limit")


def test_enrolment_refusal_alike_in_each_language(fleet):
    raw = json.dumps({"code": "NOSUCHCODE", "serial": "S", "firmware": "1"}).encode()
    status, body = answer(both("POST", PREFIX + "enrol", raw))
    assert (status, body["error"]) == (403, "enrolment_code_invalid")
    assert body["detail"] == "注册码无效。"  # zh-Hans, the default language
    headers = {"Accept-Language": "en"}
    status, body = answer(both("POST", PREFIX + "enrol", raw, headers))
    assert body["detail"] == "This enrolment code is not valid."


def test_hostile_requests_alike(fleet, settings):
    client = fleet.client("pos")
    too_large = b"x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1)
    method, path, _raw, headers, _query = signed(client, "POST", "purchases", {})
    assert answer(both(method, path, too_large, headers)) == (
        413, {"error": "too_large", "detail": "The body is too large."})
    assert answer(both("GET", PREFIX + "time", query="a=%00")) == (
        400, {"detail": "NUL characters are not allowed.", "code": "invalid"})
    assert answer(both("GET", PREFIX + "time", query="a=" + "x" * 5000)) == (
        414, {"detail": "Query string too long.", "code": "too_long"})
    assert answer(both(*signed(client, "GET", "time"), host="evil.example")) == (
        400, {"detail": "Bad request."})


@pytest.mark.parametrize("method, endpoint, language, status, detail", [
    ("PUT", "purchases", None, 405, "方法 “PUT” 不被允许。"),
    ("GET", "purchases", "en", 405, 'Method "GET" not allowed.'),
    ("POST", "time", "en", 405, 'Method "POST" not allowed.'),
    ("DELETE", "enrol", "en", 405, 'Method "DELETE" not allowed.'),
    ("GET", "nope", None, 404, "Not found."),
    ("POST", "time/", None, 404, "Not found."),
    ("GET", "cards/lookup/extra", "en", 404, "Not found."),
])
def test_wrong_methods_and_unknown_paths_alike(fleet, method, endpoint, language, status,
                                               detail):
    headers = {"Accept-Language": language} if language else {}
    assert answer(both(method, PREFIX + endpoint, b"", headers)) == (status, {"detail": detail})


def test_wrong_method_names_the_allowed_ones(fleet):
    status, headers, _body = call_wsgi(wsgi_environ("GET", PREFIX + "purchases"))
    assert (status, headers["Allow"]) == (405, "POST, OPTIONS")


# --- The gateway itself ---------------------------------------------------------------------------


def test_the_gateway_serves_the_protocol_and_django_the_rest(world, fleet, monkeypatch):
    from onecard.wsgi import gateway

    handed_over = []

    def django(environ, start_response):
        handed_over.append(environ["PATH_INFO"])
        start_response("204 No Content", [])
        return []

    monkeypatch.setattr(gateway, "django", django)
    fleet.books.top_up(world.members_a[0], 5000)
    status, body = fleet.client("pos").call("POST", "purchases", {
        "client_id": "w-1", "amount": 100, "card_number": fleet.cards.a0.number})
    assert (status, body["result"]) == (200, "approved")
    assert call_wsgi(wsgi_environ("GET", PREFIX + "nope"))[0] == 404
    assert handed_over == []
    for method, path in (("GET", "/api/v1/members/"), ("OPTIONS", PREFIX + "time"),
                         ("GET", "/terminal/v1"), ("GET", "/terminal/v2/time")):
        assert call_wsgi(wsgi_environ(method, path))[0] == 204
    assert handed_over == ["/api/v1/members/", PREFIX + "time", "/terminal/v1",
                           "/terminal/v2/time"]


def test_security_headers_are_sent(fleet):
    status, headers, _body = call_wsgi(wsgi_environ(*signed(fleet.client("pos"), "GET",
                                                            "time")[:2]))
    assert status == 400  # unsigned: only the path was kept
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["Content-Type"] == "application/json"


def test_request_signals_are_sent_once_each(fleet):
    seen = []

    def started(sender, environ, **kwargs):
        seen.append(("started", environ["PATH_INFO"]))

    def finished(sender, **kwargs):
        seen.append(("finished", sender.__name__))

    request_started.connect(started)
    request_finished.connect(finished)
    try:
        assert fleet.client("pos").call("GET", "time")[0] == 200
    finally:
        request_started.disconnect(started)
        request_finished.disconnect(finished)
    assert seen == [("started", PREFIX + "time"), ("finished", "TerminalGateway")]


def test_an_approved_call_reads_the_terminal_with_its_sequence(world, fleet, monkeypatch):
    calls = []
    for module, name in ((auth, "_terminal"), (auth, "claim_sequence"),
                         (views.actions, "accept_sequence")):
        original = getattr(module, name)

        def spy(*args, _original=original, _name=name, **kwargs):
            calls.append(_name)
            return _original(*args, **kwargs)

        monkeypatch.setattr(module, name, spy)
    client, pos = fleet.client("pos"), fleet.terminals["pos"]
    last = client.next_sequence()
    assert client.call("GET", "time", sequence=last)[0] == 200
    assert calls == ["claim_sequence"]
    assert Terminal.objects.get(pk=pos.pk).last_sequence == last
    # A bad signature: the claim is rolled back, the long way names the refusal.
    calls.clear()
    forged = signed(client, "GET", "time", sequence=last + 1, secret="ab" * 32)
    status, _headers, body = call_wsgi(wsgi_environ(*forged[:4]))
    assert (status, json.loads(body)["error"]) == (401, "bad_signature")
    assert calls == ["claim_sequence", "_terminal"]
    assert Terminal.objects.get(pk=pos.pk).last_sequence == last
    # The genuine request with that sequence still passes: the forgery did not use it up.
    assert client.call("GET", "time", sequence=last + 1)[0] == 200


def failures(terminal):
    t = Terminal.objects.get(pk=terminal.pk)
    return (t.failures_device_disabled, t.failures_stale_timestamp,
            t.failures_replayed_sequence, t.failures_bad_signature)


def test_a_known_secret_counts_only_while_it_is_stored(world, fleet):
    # The first good request makes the process know the secret; after a rotation, a request
    # signed with the old one must still be a bad signature that uses up nothing.
    client, pos = fleet.client("pos"), fleet.terminals["pos"]
    assert client.call("POST", "balance", {"card_number": fleet.cards.a0.number})[0] == 200
    last = Terminal.objects.get(pk=pos.pk).last_sequence
    rotated = actions.rotate_secret(actor=world.ent_admin_a, terminal=pos)
    for endpoint in ("balance", "purchases"):  # a call that writes nothing, and one that does
        status, body = client.call("POST", endpoint, {"card_number": fleet.cards.a0.number,
                                                      "client_id": "k-1", "amount": 100})
        assert (status, body["error"]) == (401, "bad_signature")
    assert Terminal.objects.get(pk=pos.pk).last_sequence == last
    assert failures(pos) == (0, 0, 0, 2)
    fresh = type(client)(BASE, pos.device_id, rotated.secret, session=WsgiSession())
    assert fresh.call("POST", "balance", {"card_number": fleet.cards.a0.number})[0] == 200
    assert client.call("GET", "time")[1]["error"] == "bad_signature"


def test_a_known_device_disabled_is_refused_by_its_next_request(world, fleet):
    door, terminal = fleet.client("door_controller"), fleet.terminals["door_controller"]
    body = {"card_number": fleet.cards.a0.number, "direction": "in"}
    assert door.call("POST", "access", body)[1]["decision"] == "allow"
    actions.disable_terminal(actor=world.ent_admin_a, terminal=terminal, reason="stolen")
    status, answer = door.call("POST", "access", body)
    assert (status, answer["error"]) == (403, "device_disabled")
    assert failures(terminal) == (1, 0, 0, 0)


def test_a_failed_call_that_writes_nothing_uses_up_its_sequence(fleet):
    door, terminal = fleet.client("door_controller"), fleet.terminals["door_controller"]
    assert door.call("GET", "time")[0] == 200  # the process knows the secret from here on
    sequence = door.next_sequence()
    bad = {"card_number": fleet.cards.a0.number, "direction": "up"}
    status, answer = door.call("POST", "access", bad, sequence=sequence)
    assert (status, answer["field"]) == (400, "direction")
    assert Terminal.objects.get(pk=terminal.pk).last_sequence == sequence
    status, answer = door.call("POST", "access", bad, sequence=sequence)
    assert (status, answer["error"]) == (401, "replayed_sequence")


def test_a_card_read_with_the_claim_is_the_card_now(world, fleet):
    from onecard.cards.actions import lifecycle

    door = fleet.client("door_controller")
    body = {"card_number": fleet.cards.a0.number, "direction": "in"}
    assert door.call("POST", "access", body)[1] == {"decision": "allow", "reason": "card_active"}
    lifecycle.report_card_lost(actor=world.ent_admin_a, card=fleet.cards.a0)
    assert door.call("POST", "access", body)[1] == {"decision": "deny", "reason": "card_lost"}
    status, answer = fleet.client("pos").call("POST", "cards/lookup", body)
    assert (status, answer["status"], answer["accepted"]) == (200, "lost", False)


def test_a_failure_inside_is_a_json_500_without_a_trace(fleet, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("secret detail")

    monkeypatch.setattr(views, "respond", broken)
    status, headers, body = call_wsgi(wsgi_environ(*signed(fleet.client("pos"), "GET",
                                                           "time")[:4]))
    assert (status, json.loads(body)) == (500, {"detail": "Server error."})
    assert b"secret" not in body and headers["Content-Type"] == "application/json"


def test_a_malformed_content_length_reads_as_no_body(fleet):
    environ = wsgi_environ("POST", PREFIX + "enrol", b"{}")
    environ["CONTENT_LENGTH"] = "abc"
    status, _headers, body = call_wsgi(environ)
    assert (status, json.loads(body)["field"]) == (400, "body")


def test_the_session_goes_through_the_gateway(fleet):
    # The fixture's clients use WsgiSession: the protocol suite runs the production path.
    assert isinstance(fleet.client("pos").session, WsgiSession)
    assert BASE.endswith(PREFIX.rstrip("/"))


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("endpoint", ["access", "purchases"])
def test_a_connection_the_server_dropped_is_reopened_once(world, fleet, endpoint):
    """No ``SELECT 1`` before each request: the claim finds a dead connection, nothing was
    written, and the request is answered on a new one (a call that writes nothing and one
    that does: without and within a transaction)."""
    import psycopg
    from django.db import connection

    fleet.books.top_up(world.members_a[0], 5000)
    client = fleet.client("pos" if endpoint == "purchases" else "door_controller")
    body = {"card_number": fleet.cards.a0.number, "direction": "in", "client_id": "d-1",
            "amount": 100}
    assert client.call("POST", endpoint, body)[0] == 200  # this process now knows the secret
    pid = connection.connection.info.backend_pid
    settings = connection.settings_dict
    with psycopg.connect(host=settings["HOST"] or None, port=settings["PORT"] or None,
                         user=settings["USER"], password=settings["PASSWORD"] or None,
                         dbname=settings["NAME"], autocommit=True) as other:
        other.execute("SELECT pg_terminate_backend(%s)", [pid])
    sequence = client.next_sequence()
    status, answer = client.call("POST", endpoint, body | {"client_id": "d-2"},
                                 sequence=sequence)
    assert status == 200, answer
    assert answer.get("decision", answer.get("result")) in {"allow", "approved"}
    assert connection.connection.info.backend_pid != pid
    terminal = Terminal.objects.get(pk=client_terminal(fleet, endpoint).pk)
    assert terminal.last_sequence == sequence
    assert failures(terminal) == (0, 0, 0, 0)
    if endpoint == "purchases":
        assert Transfer.objects.filter(client_id="d-2").count() == 1


def client_terminal(fleet, endpoint):
    return fleet.terminals["pos" if endpoint == "purchases" else "door_controller"]
