"""The terminal protocol v1 endpoints (docs/terminal-protocol.md).

One implementation, two entry points: ``respond`` takes what a request is (method, path, query
string, WSGI-style headers, raw body) and returns ``(status, answer)``. Production requests come
through the lean WSGI gateway (``gateway.py``: no middleware, URL resolver or DRF); the DRF
``APIView`` classes here describe the endpoints for the OpenAPI schema and serve the same
``respond`` to the Django stack (test client, anything the gateway hands over). No DRF
authentication (hence no CSRF), parsers or renderers: each view reads the raw body, is
authenticated by ``auth``, validates by hand and calls ONE action. Protocol refusals are 4xx
``{"error", "detail"}``; business refusals are 200 ``{"result": "refused", "reason"}``. No
500s: everything a client can send ends in one of those.
"""

import json
from datetime import UTC

from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent
from django.core.serializers.json import DjangoJSONEncoder
from django.db import DatabaseError, DataError, connection, transaction
from django.http import HttpResponse
from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework.permissions import AllowAny
from rest_framework.renderers import JSONRenderer
from rest_framework.views import APIView

from onecard.cards import credentials
from onecard.cards.choices import (
    DENIED_STATUSES,
    ApplicationKind,
    ApplicationStatus,
    CardStatus,
    CredentialState,
)
from onecard.cards.models import Card, CardApplication
from onecard.core.errors import DomainError, InvalidInput, NotFound
from onecard.core.sql import hot_cursor
from onecard.people.models import Member
from onecard.wallet import actions as wallet
from onecard.wallet.choices import PURSE_KINDS, AccountKind
from onecard.wallet.errors import IdempotencyConflict, LedgerRefused
from onecard.wallet.models import Account, Transfer

from .. import actions
from ..access import card_refusal, decide_access
from ..choices import CALLS, TerminalKind
from ..errors import ProtocolError, bad_request
from . import auth, schema

TAG = ["terminal protocol"]
MAX_AMOUNT = 10**9  # fen: ten million yuan, far above any limit
SNAPSHOT_LIMIT = 5000


def server_time(now=None):
    return (now or timezone.now()).astimezone(UTC).isoformat(timespec="milliseconds")


def _json_body(call):
    if not call.raw:
        raise bad_request("body", "a JSON object is required.")
    body = call.body()
    if body is auth.NOT_JSON:
        raise bad_request("body", "not valid JSON.")
    if not isinstance(body, dict):
        raise bad_request("body", "a JSON object is required.")
    return body


def text(body, name, *, limit=64, required=True, default=""):
    value = body.get(name, None if required else default)
    if not isinstance(value, str) or not (1 if required else 0) <= len(value) <= limit or (
            value and not value.isprintable()):
        raise bad_request(name, f"a text of 1 to {limit} printable characters.")
    return value


def amount_of(body, name="amount"):
    value = body.get(name)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value <= MAX_AMOUNT:
        raise bad_request(name, "a whole number of fen above zero.")
    return value


def when(body, name):
    value = actions.parse_aware(body.get(name))
    if value is None:
        raise bad_request(name, "an ISO 8601 date-time with a time zone.")
    return value


# The hot path reads with hand-written SQL: building these small queries with the ORM cost more
# than running them (docs/benchmarks.md). Instances come from ``from_db``, so any field not read
# here still loads on access, as with ``.only()``.
def _columns(model, wanted):
    """``wanted`` in the model's field order, as ``from_db`` needs them."""
    return tuple(f.attname for f in model._meta.concrete_fields if f.attname in wanted)


CARD_COLUMNS = _columns(Card, {"id", "number", "status", "group_customer_id", "member_id"})
MEMBER_COLUMNS = _columns(Member, {"id", "group_customer_id", "name", "category", "status"})


_CARD_SELECT = (
    f"{', '.join('c.' + name for name in CARD_COLUMNS)}, "  # noqa: S608 - constants
    f"{', '.join('m.' + name for name in MEMBER_COLUMNS)}, "
    "EXISTS (SELECT 1 FROM cards_cardapplication a WHERE a.card_id = c.id AND a.kind = %s "
    "AND a.status = %s)"
)
# Money calls also read the id of the member's subsidy purse (unique per member), to tell the
# legs it paid from the wallet's result without reading the purses again.
_SUBSIDY_PURSE = (", (SELECT w.id FROM wallet_account w WHERE w.member_id = c.member_id "
                  "AND w.kind = %s)")
_CARD_FROM = ("FROM cards_card c LEFT JOIN people_member m ON m.id = c.member_id "
              "WHERE c.group_customer_id = %s AND c.number = %s")
CARD_SQL = f"SELECT {_CARD_SELECT} {_CARD_FROM}"  # noqa: S608 - constants
MONEY_CARD_SQL = f"SELECT {_CARD_SELECT}{_SUBSIDY_PURSE} {_CARD_FROM}"  # noqa: S608
# The same columns, read in the statement that claims the sequence (``auth.claim``'s ``then``):
# the claimed terminal row is ``t``.
_CLAIMED_FROM = ("FROM t LEFT JOIN cards_card c ON c.group_customer_id = t.group_customer_id "
                 "AND c.number = %s LEFT JOIN people_member m ON m.id = c.member_id")
CLAIMED_CARD_SQL = f"{_CARD_SELECT} {_CLAIMED_FROM}"
CLAIMED_MONEY_CARD_SQL = f"{_CARD_SELECT}{_SUBSIDY_PURSE} {_CLAIMED_FROM}"


def _card_params(application, money):
    params = [str(application or ""), str(ApplicationStatus.ACTIVE)]
    if money:
        params.append(str(AccountKind.SUBSIDY_PURSE))
    return params


def _card(row, application, money):
    """The card (member loaded, flags set as ``find_card`` says) from a row of the columns
    above, or None when the row has no card."""
    if row is None or row[0] is None:
        return None
    split, flag = len(CARD_COLUMNS), len(CARD_COLUMNS) + len(MEMBER_COLUMNS)
    card = Card.from_db(connection.alias, CARD_COLUMNS, row[:split])
    if card.member_id is not None:
        card.member = Member.from_db(connection.alias, MEMBER_COLUMNS, row[split:flag])
    if application:
        card.has_application, card.checked_application = bool(row[flag]), application
    if money:
        card.subsidy_purse_id = row[flag + 1]
    return card


def find_card(terminal, number, application=None, *, money=False):
    """The card ``number`` of the terminal's group customer (member loaded), or None; with
    ``application``, ``has_application`` tells whether it has an active one of that kind; with
    ``money``, ``subsidy_purse_id`` is the member's subsidy purse (or None). Prepared on
    PostgreSQL (``hot_cursor``); answered without a query when the statement that claimed the
    request's sequence read this card already (``terminal.claimed_cards``)."""
    claimed = getattr(terminal, "claimed_cards", None)
    key = (number, application or None, money)
    if claimed and key in claimed:
        return claimed.pop(key)
    with hot_cursor() as cursor:
        cursor.execute(MONEY_CARD_SQL if money else CARD_SQL,
                       [*_card_params(application, money), terminal.group_customer_id, number])
        row = cursor.fetchone()
    return _card(row, application, money)


def _wanted_card(body, application=None, *, money=False):
    """``(card number, application, money)`` of the card a body names, for ``card_wanted``; None
    when the body does not name one well (the call's own checks answer that)."""
    try:
        return text(body, "card_number", limit=32), application or None, money
    except ProtocolError:
        return None


def refused(reason, **extra):
    return {"result": "refused", "reason": reason, **extra}


PURSES_SQL = ("SELECT id, kind, credits_posted - debits_posted - debits_pending "
              "FROM wallet_account WHERE member_id = %s AND kind IN (%s, %s)")


def purses_now(member_id):
    """``{kind: (account id, available)}`` of a member's purse and subsidy purse."""
    with hot_cursor() as cursor:
        cursor.execute(PURSES_SQL, [member_id, *sorted(str(kind) for kind in PURSE_KINDS)])
        return {kind: (pk, available) for pk, kind, available in cursor.fetchall()}


def mask(name):
    return (name[:1] + "*" * max(len(name) - 1, 1)) if name else ""


# --- One implementation for both entry points ---------------------------------------------------

TOO_LARGE = 413, {"error": "too_large", "detail": "The body is too large."}


def respond(view, method, path, query_string, headers, raw):
    """``(status, answer)`` of one protocol request to the endpoint ``view`` (a
    ``TerminalView`` class): ``path`` as the signature covers it (script prefix included),
    ``query_string`` raw, ``headers`` WSGI-style (``request.META`` or the environ), ``raw`` the
    body bytes (the caller refuses bodies above ``DATA_UPLOAD_MAX_MEMORY_SIZE`` with
    ``TOO_LARGE``). Every refusal a client can cause is an answer here, not an exception."""
    call = auth.Call(method, path, query_string, headers, raw)
    try:
        if not view.signed:
            body = _json_body(call) if method == "POST" else None
            return 200, view().answer(None, body, call)
        return 200, _signed_answer(view(), call)
    except ProtocolError as error:
        return error.status_code, error.as_protocol()
    except DomainError as error:
        body = {"error": error.code, "detail": error.message}
        if error.field:
            body["field"] = error.field
        return error.status_code, body
    except NotFound:
        return 404, {"error": "not_found", "detail": "Not found."}
    except TooManyFieldsSent:
        return 400, {"detail": "Too many fields.", "code": "too_many_fields"}
    except (OverflowError, DataError):
        # A number too large for the database column: bad input, not a server fault.
        return 400, {"detail": "A value is out of range.", "code": "out_of_range"}


def encode(status, answer):
    """The answer's body bytes, the same from both entry points."""
    return json.dumps(answer, cls=DjangoJSONEncoder, ensure_ascii=status != 200).encode()


class _Unclaimed(Exception):
    """Rolls back a transaction whose sequence claim failed or whose signature did not match."""


_REPLAYED = object()
_UNCLAIMED = object()
# A body is read before the request is authenticated (to find the card it names) only up to
# this size: card calls are far smaller, and nobody makes the server decode a large body
# without signing it.
EARLY_BODY_LIMIT = 4096


def _signed_answer(view, call):
    """Accept the sequence and do the call's work in one transaction (one commit; a call that
    writes nothing may commit the sequence alone). If the call fails, the sequence is still
    accepted, on its own, before the error answers. The usual request claims its sequence with
    the terminal read (``auth.claim``); anything else goes the long way, which names and counts
    the refusal (``auth`` docstring)."""
    creds = auth.credentials(call)
    now = timezone.now()
    if auth.fresh(creds, now):
        try:
            answer = _claimed_answer(view, call, creds, now)
        except _ConnectionLost:
            connection.close()  # the next statement opens a new one
            answer = _claimed_answer(view, call, creds, now)
        if answer is not _UNCLAIMED:
            return answer
    terminal = auth.verify(call, creds, now)
    try:
        with transaction.atomic():
            if not actions.accept_sequence(terminal.pk, creds.sequence, now):
                answer = _REPLAYED
            else:
                answer = _work(view, terminal, call)
    except Exception:
        actions.accept_sequence(terminal.pk, creds.sequence, now)
        raise
    if answer is _REPLAYED:
        auth.require_sequence(terminal, creds.sequence, now)  # counts the replay and refuses it
    return answer


def _claimed_answer(view, call, creds, now):
    """The answer of a request whose sequence ``auth.claim`` accepted, or ``_UNCLAIMED`` (then
    nothing changed). A call that writes nothing (``view.writes`` False), signed with the
    secret this process knows, needs no transaction: its one write is the claim, a single
    statement that commits by itself and runs only for a good signature. On PostgreSQL the claim
    also reads the card the body names (``card_wanted``), saving that round trip."""
    wanted = then = None
    if (connection.vendor == "postgresql" and len(call.raw) <= EARLY_BODY_LIMIT
            and isinstance(call.body(), dict)):
        wanted = view.card_wanted(call.body())
        if wanted is not None:
            number, application, money = wanted
            then = (CLAIMED_MONEY_CARD_SQL if money else CLAIMED_CARD_SQL,
                    [*_card_params(application, money), number])
    known = auth.known_secret(call, creds)
    if known is not None and not view.writes:
        terminal, more = _claim(call, creds, now, secret_box=known, then=then)
        if terminal is None:
            return _UNCLAIMED
        _keep_card(terminal, wanted, more)
        return _work(view, terminal, call)  # a failure leaves the sequence used up
    terminal = None
    try:
        with transaction.atomic():
            terminal, more = _claim(call, creds, now, secret_box=known, then=then)
            if terminal is None:
                raise _Unclaimed
            _keep_card(terminal, wanted, more)
            return _work(view, terminal, call)
    except _Unclaimed:
        return _UNCLAIMED
    except Exception:
        if terminal is not None:
            actions.accept_sequence(terminal.pk, creds.sequence, now)
        raise


class _ConnectionLost(Exception):
    """The claim found the persistent database connection dead: nothing was written."""


def _claim(call, creds, now, **options):
    """``auth.claim``, the request's first statement. Django would check a persistent connection
    with a ``SELECT 1`` before its first use in each request (CONN_HEALTH_CHECKS), a round trip
    as dear as the claim; instead the claim itself proves the connection alive, and one the
    server dropped while idle fails it before anything is written (``_ConnectionLost``: the
    caller reopens and claims again)."""
    try:
        claimed = auth.claim(call, creds, now, **options)
    except DatabaseError:
        raw = connection.connection
        if connection.vendor == "postgresql" and (raw is None or raw.closed):
            raise _ConnectionLost from None
        raise
    connection.health_check_done = True  # the ORM's queries of this request need no check
    return claimed


def _keep_card(terminal, wanted, row):
    """Hand the card read with the claim to ``find_card``."""
    if wanted is not None:
        _number, application, money = wanted
        terminal.claimed_cards = {wanted: _card(row, application, money)}


def _work(view, terminal, call):
    """The call's own work, once its terminal is authenticated and its sequence accepted."""
    if view.call and terminal.kind not in CALLS[view.call]:
        raise ProtocolError("wrong_terminal_kind",
                            f"A {terminal.kind} terminal may not make this call.", status=403)
    body = _json_body(call) if call.method == "POST" else None
    return view.answer(terminal, body, call)


class TerminalView(APIView):
    """Base of every endpoint: ``call`` names what the terminal kind must be allowed
    (``choices.CALLS``); ``signed = False`` only for enrolment; subclasses implement
    ``answer(terminal, body, call)`` (``call``: ``auth.Call``). Through Django, ``serve`` hands
    the request to ``respond``.

    ``writes = False`` declares that ``answer`` writes nothing (then the sequence may commit on
    its own, before the answer: ``_claimed_answer``); a view that starts writing must drop it.
    ``reads_card`` (``(application kind or None, money)``, or None) says that ``answer`` will
    ``find_card`` the body's ``card_number``, so the claim can read it (``card_wanted``)."""

    authentication_classes = []
    permission_classes = [AllowAny]
    call = None
    signed = True
    writes = True
    reads_card = None

    def card_wanted(self, body):
        """``_wanted_card`` of the body, for a view that ``reads_card``; else None."""
        if self.reads_card is None:
            return None
        application, money = self.reads_card
        return _wanted_card(body, application, money=money)

    def perform_content_negotiation(self, request, force=False):
        return JSONRenderer(), "application/json"

    def serve(self, request):
        try:
            raw = request.body
        except RequestDataTooBig:
            status, answer = TOO_LARGE
        else:
            status, answer = respond(type(self), request.method, request.path,
                                     request.META.get("QUERY_STRING", ""), request.META, raw)
        return HttpResponse(encode(status, answer), status=status,
                            content_type="application/json")

    def post(self, request):
        return self.serve(request)

    def get(self, request):
        return self.serve(request)

    def answer(self, terminal, body, call):
        raise NotImplementedError


def _post_only(cls):
    cls.http_method_names = ["post", "options"]
    return cls


def _get_only(cls):
    cls.http_method_names = ["get", "options"]
    return cls


@_post_only
class EnrolView(TerminalView):
    signed = False

    @extend_schema(tags=TAG, operation_id="terminal_enrol", request=schema.EnrolRequest,
                   responses={200: schema.EnrolResponse, 400: schema.Error, 403: schema.Error},
                   summary="Exchange a one-time enrolment code for a device id and secret.")
    def post(self, request):
        return self.serve(request)

    def answer(self, terminal, body, call):
        enrolment = actions.enrol_terminal(
            code=body.get("code"), serial=body.get("serial", ""),
            firmware=body.get("firmware", ""))
        terminal = enrolment.terminal
        return {"device_id": terminal.device_id, "secret": enrolment.secret,
                "server_time": server_time(), "kind": terminal.kind,
                "credential_version": credentials.current_version(terminal.group_customer_id)}


@_post_only
class CardLookupView(TerminalView):
    writes = False

    reads_card = (None, False)

    @extend_schema(tags=TAG, operation_id="terminal_card_lookup", parameters=schema.AUTH_HEADERS,
                   request=schema.CardRequest, responses={200: schema.LookupResponse,
                                                          **schema.ERRORS})
    def post(self, request):
        return self.serve(request)

    def answer(self, terminal, body, call):
        number = text(body, "card_number", limit=32)
        card = find_card(terminal, number)
        reason = card_refusal(card, terminal.group_customer_id)
        if card is None or card.member_id is None:
            return {"card_number": number, "status": "unknown", "accepted": False,
                    "reason": reason, "applications": [], "member_name": ""}
        applications = sorted(card.applications.filter(status=ApplicationStatus.ACTIVE)
                              .values_list("kind", flat=True))
        answer = {"card_number": number, "status": card.status, "accepted": reason is None,
                  "applications": applications, "member_name": mask(card.member.name)}
        if reason:
            answer["reason"] = reason
        return answer


def _money_request(terminal, body):
    """``(client_id, card number, amount, card, refusal reason or None)`` of a purchase or
    top-up body: the card must be usable and carry an active purse application."""
    client_id = text(body, "client_id")
    number = text(body, "card_number", limit=32)
    amount = amount_of(body)
    card = find_card(terminal, number, ApplicationKind.PURSE, money=True)
    reason = card_refusal(card, terminal.group_customer_id)
    if reason is None and not card.has_application:
        reason = "no_purse_application"
    return client_id, number, amount, card, reason


def _post_money(client_id, card, post):
    """Run the wallet action ``post``: ``(result, {purse kind: available fen after})`` when it
    went through, or ``(refusal answer, None)`` naming the rule that refused it. The balances
    come with the result when the posting read them (``Result.balances``); otherwise (a retry,
    or an engine that did not) they are read again."""
    try:
        result = post()
    except (LedgerRefused, IdempotencyConflict) as refusal:
        return refused(refusal.code, client_id=client_id), None
    except InvalidInput:
        return refused("no_purse", client_id=client_id), None
    if result.balances is not None:
        return result, result.balances
    return result, {kind: available for kind, (_pk, available)
                    in purses_now(card.member_id).items()}


def _replayed(answer, result):
    if result.status == "exists":
        answer["replayed"] = True
    return answer


@_post_only
class PurchaseView(TerminalView):
    call = "purchase"

    reads_card = (ApplicationKind.PURSE, True)

    @extend_schema(tags=TAG, operation_id="terminal_purchase", parameters=schema.AUTH_HEADERS,
                   request=schema.PurchaseRequest, responses={200: schema.MoneyResponse,
                                                              **schema.ERRORS})
    def post(self, request):
        return self.serve(request)

    def answer(self, terminal, body, call):
        client_id, number, amount, card, reason = _money_request(terminal, body)
        pin_verified = body.get("pin_verified", False)
        if not isinstance(pin_verified, bool):
            raise bad_request("pin_verified", "true or false.")
        # A retry of a purchase that went through answers with it, whatever the card is now.
        if reason is not None and not (card is not None and card.member_id and Transfer.objects
                                       .filter(group_customer_id=terminal.group_customer_id,
                                               client_id=client_id).exists()):
            return refused(reason, client_id=client_id)
        merchant_account = Account(id=terminal.merchant_account_id,
                                   kind=AccountKind.MERCHANT_TERMINAL,
                                   group_customer_id=terminal.group_customer_id)
        result, balances = _post_money(
            client_id, card, lambda: wallet.purchase(
                member=card.member, merchant_account=merchant_account, amount=amount,
                client_id=client_id, pin_verified=pin_verified,
                terminal_code=terminal.device_id, card_number=number))
        if balances is None:
            return result
        subsidy_id = card.subsidy_purse_id
        subsidy_used = sum(t.amount for t in result.transfers if t.debit_account_id == subsidy_id)
        answer = {"result": "approved", "client_id": client_id,
                  "amount": sum(t.amount for t in result.transfers),
                  "balance_after": balances.get(AccountKind.MEMBER_PURSE, 0),
                  "subsidy_balance_after": balances.get(AccountKind.SUBSIDY_PURSE, 0),
                  "subsidy_used": subsidy_used,
                  "purse_used": sum(t.amount for t in result.transfers) - subsidy_used}
        return _replayed(answer, result)


@_post_only
class TopUpView(TerminalView):
    call = "top_up"

    reads_card = (ApplicationKind.PURSE, True)

    @extend_schema(tags=TAG, operation_id="terminal_top_up", parameters=schema.AUTH_HEADERS,
                   request=schema.TopUpRequest, responses={200: schema.MoneyResponse,
                                                           **schema.ERRORS})
    def post(self, request):
        return self.serve(request)

    def answer(self, terminal, body, call):
        client_id, _number, amount, card, reason = _money_request(terminal, body)
        if reason is not None:
            return refused(reason, client_id=client_id)
        drawer = Account(id=terminal.cash_drawer_id, kind=AccountKind.CASH_DRAWER,
                         group_customer_id=terminal.group_customer_id)
        result, balances = _post_money(
            client_id, card, lambda: wallet.top_up(
                actor=None, member=card.member, amount=amount, client_id=client_id,
                source=drawer, terminal_code=terminal.device_id))
        if balances is None:
            return result
        answer = {"result": "approved", "client_id": client_id, "amount": amount,
                  "balance_after": balances.get(AccountKind.MEMBER_PURSE, 0)}
        return _replayed(answer, result)


@_post_only
class BalanceView(TerminalView):
    call = "balance"

    writes = False

    reads_card = (None, False)

    @extend_schema(tags=TAG, operation_id="terminal_balance", parameters=schema.AUTH_HEADERS,
                   request=schema.CardRequest, responses={200: schema.BalanceResponse,
                                                          **schema.ERRORS})
    def post(self, request):
        return self.serve(request)

    def answer(self, terminal, body, call):
        number = text(body, "card_number", limit=32)
        card = find_card(terminal, number)
        reason = card_refusal(card, terminal.group_customer_id)
        if reason is not None:
            return refused(reason, card_number=number)
        purses = purses_now(card.member_id)
        return {"card_number": number,
                "balance": purses.get(AccountKind.MEMBER_PURSE, (None, 0))[1],
                "subsidy_balance": purses.get(AccountKind.SUBSIDY_PURSE, (None, 0))[1]}


@_post_only
class AccessView(TerminalView):
    call = "access"

    writes = False

    reads_card = (ApplicationKind.ACCESS, False)

    @extend_schema(tags=TAG, operation_id="terminal_access", parameters=schema.AUTH_HEADERS,
                   request=schema.AccessRequest, responses={200: schema.AccessResponse,
                                                            **schema.ERRORS})
    def post(self, request):
        return self.serve(request)

    def answer(self, terminal, body, call):
        number = text(body, "card_number", limit=32)
        direction = body.get("direction")
        if direction not in ("in", "out"):
            raise bad_request("direction", '"in" or "out".')
        decision = decide_access(terminal, find_card(terminal, number, ApplicationKind.ACCESS),
                                 direction,
                                 timezone.now())
        return {"decision": decision.decision, "reason": decision.reason}


@_post_only
class PunchView(TerminalView):
    call = "punch"

    reads_card = (None, False)

    @extend_schema(tags=TAG, operation_id="terminal_punch", parameters=schema.AUTH_HEADERS,
                   request=schema.PunchRequest, responses={200: schema.PunchResponse,
                                                           **schema.ERRORS})
    def post(self, request):
        return self.serve(request)

    def answer(self, terminal, body, call):
        client_id = text(body, "client_id")
        number = text(body, "card_number", limit=32)
        punched_at = when(body, "punched_at")
        card = find_card(terminal, number)
        if card is None or card.member_id is None:
            return refused("unknown_card")
        return {"result": actions.record_punch(terminal=terminal, client_id=client_id, card=card,
                                               card_number=number, punched_at=punched_at)}


@_post_only
class HeartbeatView(TerminalView):
    @extend_schema(tags=TAG, operation_id="terminal_heartbeat", parameters=schema.AUTH_HEADERS,
                   request=schema.HeartbeatRequest, responses={200: schema.HeartbeatResponse,
                                                               **schema.ERRORS})
    def post(self, request):
        return self.serve(request)

    def answer(self, terminal, body, call):
        firmware = text(body, "firmware", limit=32)
        clock = when(body, "clock")
        state = text(body, "state", limit=32, required=False, default="ok")
        now = timezone.now()
        skew = actions.record_heartbeat(terminal=terminal, firmware=firmware, clock=clock,
                                        state=state, now=now)
        return {"server_time": server_time(now), "clock_skew_seconds": skew,
                "credential_version": credentials.current_version(terminal.group_customer_id)}


@_get_only
class TimeView(TerminalView):
    writes = False

    @extend_schema(tags=TAG, operation_id="terminal_time", parameters=schema.AUTH_HEADERS,
                   responses={200: schema.TimeResponse, **schema.ERRORS})
    def get(self, request):
        return self.serve(request)

    def answer(self, terminal, body, call):
        return {"server_time": server_time()}


def _query_int(call, name, default, low, high):
    raw = call.query.get(name)
    if raw is None or raw == "":
        return default
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 18 or not low <= int(raw) <= high:
        raise bad_request(name, f"a whole number from {low} to {high}.")
    return int(raw)


@_get_only
class CredentialsView(TerminalView):
    """Deltas after ``since``, or a snapshot when ``since`` is 0/absent, older than the oldest
    delta kept, or ahead of the list. Doors get allow and deny entries; other kinds get deny
    entries in a snapshot and every change in a delta (an ``allow`` there lifts a deny)."""

    writes = False

    @extend_schema(tags=TAG, operation_id="terminal_credentials",
                   parameters=[*schema.AUTH_HEADERS, *schema.CREDENTIAL_PARAMETERS],
                   responses={200: schema.CredentialsResponse, **schema.ERRORS})
    def get(self, request):
        return self.serve(request)

    def answer(self, terminal, body, call):
        since = _query_int(call, "since", 0, 0, 10**18)
        limit = _query_int(call, "limit", SNAPSHOT_LIMIT, 1, SNAPSHOT_LIMIT)
        after = call.query.get("after", "")
        if len(after) > 32:
            raise bad_request("after", "a card number.")
        customer = terminal.group_customer_id
        version = credentials.current_version(customer)
        door = terminal.kind == TerminalKind.DOOR_CONTROLLER
        if 0 < since <= version and since >= credentials.oldest_delta_version(customer):
            changes = credentials.changes_since(customer, since, limit=limit + 1)
            more = len(changes) > limit
            changes = changes[:limit]
            return {"mode": "delta", "more": more,
                    "version": changes[-1].version if changes else since,
                    "entries": [{"version": c.version, "card_number": c.card_number,
                                 "state": c.state,
                                 "applications": c.applications if door else []}
                                for c in changes]}
        cards = (Card.objects.filter(group_customer_id=customer, member__isnull=False)
                 .exclude(status=CardStatus.SCRAPPED))
        if not door:
            cards = cards.filter(status__in=DENIED_STATUSES)
        if after:
            cards = cards.filter(number__gt=after)
        page = list(cards.order_by("number").values_list("pk", "number", "status")[:limit + 1])
        more = len(page) > limit
        page = page[:limit]
        applications = {}
        if door and page:
            for card_id, kind in CardApplication.objects.filter(
                    card_id__in=[row[0] for row in page],
                    status=ApplicationStatus.ACTIVE).values_list("card_id", "kind"):
                applications.setdefault(card_id, []).append(kind)
        answer = {"mode": "snapshot", "version": version, "more": more,
                  "entries": [{"version": version, "card_number": number,
                               "state": (CredentialState.ALLOW if status == CardStatus.ACTIVE
                                         else CredentialState.DENY),
                               "applications": sorted(applications.get(pk, []))}
                              for pk, number, status in page]}
        if more:
            answer["next_after"] = page[-1][1]
        return answer


@_post_only
class OfflineRecordsView(TerminalView):
    @extend_schema(tags=TAG, operation_id="terminal_offline_records",
                   parameters=schema.AUTH_HEADERS, request=schema.OfflineRequest,
                   responses={200: schema.OfflineResponse, **schema.ERRORS})
    def post(self, request):
        return self.serve(request)

    def answer(self, terminal, body, call):
        records = body.get("records")
        if not isinstance(records, list) or not 1 <= len(records) <= actions.MAX_OFFLINE_BATCH:
            raise bad_request("records", f"a list of 1 to {actions.MAX_OFFLINE_BATCH} records.")
        results, gaps = actions.ingest_offline_records(terminal=terminal, records=records)
        return {"results": results, "gaps": gaps}
