"""Authentication of every terminal request (docs/terminal-protocol.md, ADR 0008).

Order of checks: headers present and well formed (``auth_missing``, 400) → device known
(``unknown_device``) → device active (``device_disabled``, 403) → signature
(``bad_signature``) → timestamp within ±300 s (``stale_timestamp``) → sequence above the last
accepted one (``replayed_sequence``, by a conditional UPDATE, so two requests with the same
sequence cannot both pass). The sequence is recorded only for requests whose signature checks.
Each refusal of a known device is counted on it.

Two ways through, with the same answers:

- ``claim`` (the usual case, one round trip): one conditional UPDATE accepts the sequence of an
  ACTIVE device and returns its row. If this process already knows the device's sealed secret
  and the request's signature matches it (``known_secret``), the UPDATE also requires the stored
  secret to be that one, so it runs only for a good signature. Otherwise it runs inside the
  caller's transaction and the signature is checked against the returned secret; on a mismatch
  the caller rolls the transaction back, so a bad signature never uses up a sequence. When
  nothing was claimed, the caller goes the second way to find out which refusal it is.
- ``verify`` then ``require_sequence`` (refusals, and timestamps out of range): one read of the
  terminal, the checks in the order above, then the sequence UPDATE.

The views accept the sequence in the same transaction as the call's own work (one commit per
request, not two) and, if the call fails, accept it on its own afterwards, so a refused request
can never be replayed later. A device disabled by a committed transaction is refused by its
very next request: both ways read the committed state.
"""

import hmac
import json
from dataclasses import dataclass

from django.db import connection
from django.http import QueryDict
from django.utils import timezone

from onecard.core.sql import hot_cursor

from .. import keys
from ..actions import accept_sequence, claim_sequence, count_auth_failure
from ..choices import AuthFailure, TerminalState
from ..errors import ProtocolError
from ..models import Terminal
from .signing import sign

MAX_SKEW_SECONDS = 300
TERMINAL_FIELDS = ("id", "group_customer_id", "kind", "state", "device_id", "secret_box",
                   "merchant_account_id", "cash_drawer_id", "name")
# In the model's field order, as ``from_db`` needs them.
TERMINAL_COLUMNS = tuple(f.attname for f in Terminal._meta.concrete_fields
                         if f.attname in TERMINAL_FIELDS)
TERMINAL_SQL = (f"SELECT {', '.join(TERMINAL_COLUMNS)} FROM terminals_terminal "  # noqa: S608
                "WHERE device_id = %s")


NOT_JSON = object()
_UNREAD = object()


class Call:
    """One protocol request as both entry points hand it over (the DRF views and the WSGI
    gateway): the method, the path as the signature covers it (script prefix included), the raw
    query string, WSGI-style headers (``HTTP_X_TERMINAL_ID``…: ``request.META`` or the WSGI
    environ) and the raw body bytes."""

    __slots__ = ("method", "path", "query_string", "headers", "raw", "_query", "_body")

    def __init__(self, method, path, query_string, headers, raw):
        self.method, self.path, self.query_string = method, path, query_string
        self.headers, self.raw, self._query, self._body = headers, raw, None, _UNREAD

    def body(self):
        """The body's JSON value (None for no body), or ``NOT_JSON``; decoded once."""
        if self._body is _UNREAD:
            try:
                self._body = json.loads(self.raw) if self.raw else None
            except (ValueError, RecursionError):
                self._body = NOT_JSON
        return self._body

    @property
    def path_with_query(self):
        return self.path + ("?" + self.query_string if self.query_string else "")

    @property
    def query(self):
        """The query string's parameters, parsed as Django parses ``request.GET`` (may raise
        ``TooManyFieldsSent``)."""
        if self._query is None:
            # WSGI hands the query string over as latin-1 text of the raw bytes (PEP 3333).
            self._query = QueryDict(self.query_string.encode("iso-8859-1", "replace"))
        return self._query

    def header(self, name):
        return self.headers.get("HTTP_" + name.upper().replace("-", "_"))


@dataclass(frozen=True, slots=True)
class Credentials:
    """The four authentication headers, well formed (not yet checked against anything)."""

    device_id: str
    timestamp: int
    sequence: int
    signature: str


def _integer(value, name):
    if value is None or not (value.isascii() and value.isdigit()) or len(value) > 18:
        raise ProtocolError("auth_missing", f"{name} must be a positive integer.", status=400)
    number = int(value)
    if number <= 0:
        raise ProtocolError("auth_missing", f"{name} must be a positive integer.", status=400)
    return number


def credentials(call):
    """The request's ``Credentials``, or ProtocolError ``auth_missing`` (400)."""
    device_id = call.header("X-Terminal-Id")
    signature = call.header("X-Terminal-Signature")
    if not device_id or len(device_id) > 32 or not device_id.isprintable():
        raise ProtocolError("auth_missing", "X-Terminal-Id is missing.", status=400)
    timestamp = _integer(call.header("X-Terminal-Timestamp"), "X-Terminal-Timestamp")
    sequence = _integer(call.header("X-Terminal-Sequence"), "X-Terminal-Sequence")
    if not signature or len(signature) != 64:
        raise ProtocolError("auth_missing", "X-Terminal-Signature must be 64 hex characters.",
                            status=400)
    return Credentials(device_id, timestamp, sequence, signature)


def _terminal(device_id):
    """The terminal with ``device_id`` (only ``TERMINAL_FIELDS`` read; others load on access), or
    None. Hand-written and prepared: the ORM's query building cost more than the query."""
    with hot_cursor() as cursor:
        cursor.execute(TERMINAL_SQL, [device_id])
        row = cursor.fetchone()
    return Terminal.from_db(connection.alias, TERMINAL_COLUMNS, row) if row else None


def _signature_matches(secret_box, call, creds):
    expected = sign(keys.unseal(secret_box), call.method, call.path_with_query, creds.timestamp,
                    creds.sequence, call.raw)
    return hmac.compare_digest(expected, creds.signature.lower())


def fresh(creds, now):
    return abs(now.timestamp() - creds.timestamp) <= MAX_SKEW_SECONDS


# Device id → the sealed secret its last good signature in this process was checked with. Only a
# hint: a request whose signature matches it is claimed on the condition that the stored secret
# is still this one (``claim_sequence(secret_box=…)``), so a rotated secret is never trusted.
_known_secrets = {}
MAX_KNOWN_SECRETS = 10_000


def _remember(terminal):
    if len(_known_secrets) >= MAX_KNOWN_SECRETS:
        _known_secrets.clear()
    _known_secrets[terminal.device_id] = terminal.secret_box


def known_secret(call, creds):
    """The sealed secret this process last saw the device sign with, if it signed this request
    (so its sequence may be claimed before anything else is read), or None."""
    box = _known_secrets.get(creds.device_id)
    return box if box is not None and _signature_matches(box, call, creds) else None


def claim(call, creds, now, *, secret_box=None, then=None):
    """``(terminal, more columns)``: the active terminal that signed this fresh request, its
    sequence accepted, and ``then``'s columns (``actions.claim_sequence``); or ``(None, None)``,
    which tells nothing about why: ask ``verify`` and ``require_sequence``, which answer and
    count the refusal.

    With ``secret_box`` (from ``known_secret``: the signature matched it) nothing changes unless
    the stored secret is still that one. Without, the signature is checked against the stored
    secret after the claim: the caller must hold a transaction and roll it back on None."""
    row = claim_sequence(creds.device_id, creds.sequence, now, TERMINAL_COLUMNS,
                         secret_box=secret_box, then=then)
    if row is None:
        return None, None
    width = len(TERMINAL_COLUMNS)
    terminal = Terminal.from_db(connection.alias, TERMINAL_COLUMNS, row[:width])
    if secret_box is None:
        if not _signature_matches(terminal.secret_box, call, creds):
            return None, None
        _remember(terminal)
    return terminal, row[width:]


def require_sequence(terminal, sequence, now):
    """Accept ``sequence`` as the terminal's last, or count the replay and refuse it."""
    if not accept_sequence(terminal.pk, sequence, now):
        count_auth_failure(terminal.pk, AuthFailure.REPLAYED_SEQUENCE, now)
        raise ProtocolError("replayed_sequence",
                            "The sequence is not above the last accepted one.", status=401)


def verify(call, creds, now=None):
    """The terminal of a well-signed, fresh request of an active terminal, or ProtocolError
    (counted on the terminal when it is known). The sequence is not accepted: see
    ``require_sequence``."""
    terminal = _terminal(creds.device_id)
    if terminal is None:
        raise ProtocolError("unknown_device", "Unknown device.", status=401)
    now = now or timezone.now()
    if terminal.state != TerminalState.ACTIVE:
        count_auth_failure(terminal.pk, AuthFailure.DEVICE_DISABLED, now)
        raise ProtocolError("device_disabled", "This device is not active.", status=403)
    if not _signature_matches(terminal.secret_box, call, creds):
        count_auth_failure(terminal.pk, AuthFailure.BAD_SIGNATURE, now)
        raise ProtocolError("bad_signature", "The signature does not match.", status=401)
    if not fresh(creds, now):
        count_auth_failure(terminal.pk, AuthFailure.STALE_TIMESTAMP, now)
        raise ProtocolError("stale_timestamp",
                            f"The timestamp is more than {MAX_SKEW_SECONDS} s from server time.",
                            status=401)
    _remember(terminal)
    return terminal


def authenticate(call, now=None):
    """The active ``Terminal`` that signed ``call``, or ProtocolError; its sequence is accepted
    (recorded) by this call, in its own transaction unless the caller holds one."""
    creds = credentials(call)
    now = now or timezone.now()
    terminal = verify(call, creds, now)
    require_sequence(terminal, creds.sequence, now)
    return terminal
