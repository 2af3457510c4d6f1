"""Authentication of every terminal request (docs/terminal-protocol.md, ADR 0008).

Order of checks: headers present and well formed (``auth_missing``, 400) → device known
(``unknown_device``) → device active (``device_disabled``, 403) → signature
(``bad_signature``) → timestamp within ±300 s (``stale_timestamp``) → sequence above the last
accepted one (``replayed_sequence``, by a conditional UPDATE, so two requests with the same
sequence cannot both pass). The sequence is recorded only for requests whose signature checks.
Each refusal of a known device is counted on it. Queries: one read of the terminal, one UPDATE.

``verify`` does everything but the sequence; the views then accept the sequence in the same
transaction as the call's own work (one commit per request, not two), and, if the call fails,
accept it on its own afterwards, so a refused request can never be replayed later.
"""

import hmac

from django.db import connection
from django.utils import timezone

from .. import keys
from ..actions import accept_sequence, count_auth_failure
from ..choices import AuthFailure, TerminalState
from ..errors import ProtocolError
from ..models import Terminal
from .signing import sign

MAX_SKEW_SECONDS = 300
TERMINAL_FIELDS = ("id", "group_customer_id", "kind", "state", "device_id", "secret_box",
                   "merchant_account_id", "cash_drawer_id", "name")


def _terminal(device_id):
    """The terminal with ``device_id`` (only ``TERMINAL_FIELDS`` read; others load on access), or
    None. Hand-written: the ORM's query building cost more than the query."""
    columns = tuple(f.attname for f in Terminal._meta.concrete_fields
                    if f.attname in TERMINAL_FIELDS)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {', '.join(columns)} FROM terminals_terminal "  # noqa: S608
                       "WHERE device_id = %s", [device_id])
        row = cursor.fetchone()
    return Terminal.from_db(connection.alias, columns, row) if row else None


def _header(request, name):
    return request.META.get("HTTP_" + name.upper().replace("-", "_"))


def _integer(value, name):
    if value is None or not (value.isascii() and value.isdigit()) or len(value) > 18:
        raise ProtocolError("auth_missing", f"{name} must be a positive integer.", status=400)
    number = int(value)
    if number <= 0:
        raise ProtocolError("auth_missing", f"{name} must be a positive integer.", status=400)
    return number


def path_with_query(request):
    query = request.META.get("QUERY_STRING", "")
    return request.path + ("?" + query if query else "")


def authenticate(request, body, now=None):
    """The active ``Terminal`` that signed this request, or ProtocolError; its sequence is
    accepted (recorded) by this call."""
    terminal, sequence, now = verify(request, body, now)
    require_sequence(terminal, sequence, now)
    return terminal


def require_sequence(terminal, sequence, now):
    """Accept ``sequence`` as the terminal's last, or count the replay and refuse it."""
    if not accept_sequence(terminal.pk, sequence, now):
        count_auth_failure(terminal.pk, AuthFailure.REPLAYED_SEQUENCE, now)
        raise ProtocolError("replayed_sequence",
                            "The sequence is not above the last accepted one.", status=401)


def verify(request, body, now=None):
    """``(terminal, sequence, now)`` for a well-signed, fresh request of an active terminal, or
    ProtocolError. The sequence is not yet accepted: see ``require_sequence``."""
    device_id = _header(request, "X-Terminal-Id")
    signature = _header(request, "X-Terminal-Signature")
    if not device_id or len(device_id) > 32 or not device_id.isprintable():
        raise ProtocolError("auth_missing", "X-Terminal-Id is missing.", status=400)
    timestamp = _integer(_header(request, "X-Terminal-Timestamp"), "X-Terminal-Timestamp")
    sequence = _integer(_header(request, "X-Terminal-Sequence"), "X-Terminal-Sequence")
    if not signature or len(signature) != 64:
        raise ProtocolError("auth_missing", "X-Terminal-Signature must be 64 hex characters.",
                            status=400)
    terminal = _terminal(device_id)
    if terminal is None:
        raise ProtocolError("unknown_device", "Unknown device.", status=401)
    now = now or timezone.now()
    if terminal.state != TerminalState.ACTIVE:
        count_auth_failure(terminal.pk, AuthFailure.DEVICE_DISABLED, now)
        raise ProtocolError("device_disabled", "This device is not active.", status=403)
    expected = sign(keys.unseal(terminal.secret_box), request.method, path_with_query(request),
                    timestamp, sequence, body)
    if not hmac.compare_digest(expected, signature.lower()):
        count_auth_failure(terminal.pk, AuthFailure.BAD_SIGNATURE, now)
        raise ProtocolError("bad_signature", "The signature does not match.", status=401)
    if abs(now.timestamp() - timestamp) > MAX_SKEW_SECONDS:
        count_auth_failure(terminal.pk, AuthFailure.STALE_TIMESTAMP, now)
        raise ProtocolError("stale_timestamp",
                            f"The timestamp is more than {MAX_SKEW_SECONDS} s from server time.",
                            status=401)
    return terminal, sequence, now
