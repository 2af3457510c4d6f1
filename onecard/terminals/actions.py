"""Actions on terminals: the registry (register, enrol, disable, enable, retire, rotate the
secret) and what the protocol stores (sequences, refusal counters, heartbeats, punches, offline
record batches).

Registry actions have the house shape: keyword-only ``actor=``, atomic, the terminal row locked,
``TERMINAL_TRANSITIONS`` checked, a ``TerminalEvent`` and an audit record in the transaction.
The protocol's bookkeeping (``claim_sequence``/``accept_sequence``, ``count_auth_failure``,
``record_heartbeat``) runs on every request, so it is one conditional UPDATE each and writes no
audit record: the counters are the record (docs/adr/0008-terminals-are-untrusted.md).
"""

import hashlib
import hmac
import secrets
from collections import namedtuple
from datetime import timedelta

from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from onecard.audit.actions import write_audit
from onecard.core.errors import DomainError, InvalidInput, NotAllowed
from onecard.core.locks import lock_one
from onecard.core.sql import hot_cursor, insert_rows
from onecard.core.transitions import require_transition
from onecard.core.validation import clean_or_refuse, snapshot

from . import keys
from .choices import (
    OFFLINE_KINDS,
    TERMINAL_TRANSITIONS,
    AlertKind,
    AuthFailure,
    Frequency,
    OfflineRecordKind,
    TerminalEventKind,
    TerminalKind,
    TerminalState,
)
from .errors import ProtocolError
from .models import (
    AttendancePunch,
    EnrolmentCode,
    OfflineRecord,
    Terminal,
    TerminalAlert,
    TerminalEvent,
)
from .protocol.signing import record_hash, record_mac
from .querysets import customers_changeable_by

ENROLMENT_CODE_VALIDITY = timedelta(hours=24)
# Unambiguous upper-case letters and digits (no 0/O, 1/I): codes are typed in by installers.
CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 16
MAX_OFFLINE_BATCH = 500
RegisteredTerminal = namedtuple("RegisteredTerminal", ["terminal", "enrolment_code"])
RotatedSecret = namedtuple("RotatedSecret", ["terminal", "secret"])
Enrolment = namedtuple("Enrolment", ["terminal", "secret"])


# --- Helpers ----------------------------------------------------------------------------------


def _require_changer(actor, group_customer_id):
    """People may change a customer's terminals if they may change the customer (or are its
    enterprise admin); ``actor=None`` is the system (demo, simulator set-up)."""
    if actor is None:
        return
    if not customers_changeable_by(actor).filter(pk=group_customer_id).exists():
        raise NotAllowed(_("You may not change this group customer's terminals."))


def hash_code(code):
    return hashlib.sha256(code.strip().upper().encode("utf-8")).hexdigest()


def _new_code():
    return "".join(secrets.choice(CODE_ALPHABET) for _i in range(CODE_LENGTH))


def _new_device_id():
    while True:
        device_id = "T-" + "".join(secrets.choice(CODE_ALPHABET) for _i in range(10))
        if not Terminal.objects.filter(device_id=device_id).exists():
            return device_id


def _event(terminal, kind, *, actor, from_state="", to_state="", reason="", after=None,
           before=None):
    TerminalEvent.objects.create(
        terminal=terminal, kind=kind, from_state=from_state, to_state=to_state,
        actor=actor if getattr(actor, "pk", None) else None, reason=reason or "")
    write_audit(actor=actor, action=f"terminal.{kind}", obj=terminal,
                group_customer_id=terminal.group_customer_id, reason=reason,
                before=before, after=after if after is not None else {"state": terminal.state})


def _public(terminal):
    """What the audit trail may show of a terminal: everything but its secret."""
    data = snapshot(terminal)
    data.pop("secret_box", None)
    return data


def _clean_frequencies(values):
    values = list(values or [])
    unknown = [v for v in values if v not in Frequency.values]
    if unknown or len(set(values)) != len(values):
        raise InvalidInput({"frequencies": [_("Choose from: %(choices)s.")
                                            % {"choices": ", ".join(Frequency.values)}]})
    return sorted(values)


# --- Registry ---------------------------------------------------------------------------------


@transaction.atomic
def register_terminal(*, actor, group_customer, kind, name, location="", frequencies=(),
                      merchant=None, vendor=None, serial="", firmware=""):
    """Register a terminal (state pending) and issue its first enrolment code.

    A POS needs a ``merchant`` of the same customer and gets its own merchant sub-account; a
    top-up machine gets its own cash drawer. Returns ``RegisteredTerminal(terminal, code)``:
    the code is shown once and stored only hashed.
    """
    _require_changer(actor, group_customer.pk)
    if kind not in TerminalKind.values:
        raise InvalidInput({"kind": [_("Unknown terminal kind.")]})
    if kind == TerminalKind.POS:
        if merchant is None:
            raise InvalidInput({"merchant": [_("A POS belongs to a merchant.")]})
        if merchant.group_customer_id != group_customer.pk:
            raise InvalidInput({"merchant": [_("This merchant belongs to another customer.")]})
    elif merchant is not None:
        raise InvalidInput({"merchant": [_("Only a POS belongs to a merchant.")]})
    terminal = Terminal(group_customer=group_customer, kind=kind, name=(name or "").strip(),
                        location=location or "", frequencies=_clean_frequencies(frequencies),
                        vendor=vendor, serial=serial or "", firmware=firmware or "",
                        device_id=_new_device_id(), state=TerminalState.PENDING)
    clean_or_refuse(terminal, exclude=["group_customer", "merchant_account", "cash_drawer",
                                       "vendor"])
    from onecard.wallet import actions as wallet

    if kind == TerminalKind.POS:
        terminal.merchant_account = wallet.open_merchant_terminal_account(
            actor=actor, merchant=merchant, code=terminal.device_id)
    elif kind == TerminalKind.TOP_UP:
        terminal.cash_drawer = wallet.open_cash_drawer(actor=actor, group_customer=group_customer,
                                                       code=terminal.device_id)
    terminal.state_changed_at = timezone.now()
    terminal.save(force_insert=True)
    _event(terminal, TerminalEventKind.REGISTERED, actor=actor, to_state=terminal.state,
           after=_public(terminal))
    code = _issue_code(actor, terminal)
    return RegisteredTerminal(terminal, code)


def _issue_code(actor, terminal, valid_for=ENROLMENT_CODE_VALIDITY):
    now = timezone.now()
    EnrolmentCode.objects.filter(terminal=terminal, used_at__isnull=True,
                                 revoked_at__isnull=True).update(revoked_at=now)
    code = _new_code()
    EnrolmentCode.objects.create(terminal=terminal, code_hash=hash_code(code),
                                 expires_at=now + valid_for,
                                 created_by=actor if getattr(actor, "pk", None) else None)
    _event(terminal, TerminalEventKind.CODE_ISSUED, actor=actor,
           after={"state": terminal.state, "expires_at": (now + valid_for).isoformat()})
    return code


@transaction.atomic
def issue_enrolment_code(*, actor, terminal, valid_for=ENROLMENT_CODE_VALIDITY):
    """A new one-time enrolment code for a pending terminal (earlier unused codes stop
    working). Returns the code; only its hash is stored."""
    current = lock_one(Terminal.objects.all(), terminal.pk)
    _require_changer(actor, current.group_customer_id)
    if current.state != TerminalState.PENDING:
        raise DomainError(_("Only a terminal pending enrolment gets an enrolment code."),
                          field="state", code="not_pending")
    return _issue_code(actor, current, valid_for)


def enrol_terminal(*, code, serial, firmware, now=None):
    """Exchange a one-time enrolment code for the terminal's device id and a fresh secret.

    Unknown, used, revoked and expired codes get one answer (``enrolment_code_invalid``) so
    nothing can be learnt by guessing. Returns ``Enrolment(terminal, secret_hex)``.
    """
    if not isinstance(code, str) or not 1 <= len(code) <= 64:
        raise ProtocolError("enrolment_code_invalid", _("This enrolment code is not valid."),
                            status=403)
    for name, value, limit in (("serial", serial, 64), ("firmware", firmware, 32)):
        if not isinstance(value, str) or len(value) > limit or not value.isprintable():
            raise ProtocolError("bad_request", f"{name}: a text of at most {limit} characters.",
                                field=name)
    now = now or timezone.now()
    with transaction.atomic():
        found = (EnrolmentCode.objects.select_for_update()
                 .filter(code_hash=hash_code(code)).first())
        terminal = lock_one(Terminal.objects.all(), found.terminal_id) if found else None
        if (found is None or found.used_at or found.revoked_at or found.expires_at <= now
                or terminal.state != TerminalState.PENDING):
            raise ProtocolError("enrolment_code_invalid",
                                _("This enrolment code is not valid."), status=403)
        require_transition(TERMINAL_TRANSITIONS, TerminalState, terminal.state,
                           TerminalState.ACTIVE)
        secret = keys.new_secret_hex()
        before = terminal.state
        terminal.state, terminal.state_changed_at = TerminalState.ACTIVE, now
        terminal.secret_box = keys.seal(secret)
        terminal.serial, terminal.firmware, terminal.enrolled_at = serial, firmware, now
        terminal.save(update_fields=["state", "state_changed_at", "secret_box", "serial",
                                     "firmware", "enrolled_at", "updated_at"])
        EnrolmentCode.objects.filter(pk=found.pk).update(used_at=now)
        _event(terminal, TerminalEventKind.ENROLLED, actor=None, from_state=before,
               to_state=terminal.state, before={"state": before},
               after={"state": terminal.state, "serial": serial, "firmware": firmware})
    return Enrolment(terminal, secret)


def _transition(*, actor, terminal, target, kind, reason=""):
    with transaction.atomic():
        current = lock_one(Terminal.objects.all(), terminal.pk)
        _require_changer(actor, current.group_customer_id)
        require_transition(TERMINAL_TRANSITIONS, TerminalState, current.state, target)
        before = current.state
        current.state, current.state_changed_at = target, timezone.now()
        current.save(update_fields=["state", "state_changed_at", "updated_at"])
        if target == TerminalState.RETIRED:
            EnrolmentCode.objects.filter(terminal=current, used_at__isnull=True,
                                         revoked_at__isnull=True).update(
                revoked_at=timezone.now())
        _event(current, kind, actor=actor, from_state=before, to_state=target, reason=reason,
               before={"state": before})
    return current


def disable_terminal(*, actor, terminal, reason=""):
    """active → disabled: every request of the device is refused (403) from the commit on."""
    return _transition(actor=actor, terminal=terminal, target=TerminalState.DISABLED,
                       kind=TerminalEventKind.DISABLED, reason=reason)


def enable_terminal(*, actor, terminal, reason=""):
    """disabled → active."""
    return _transition(actor=actor, terminal=terminal, target=TerminalState.ACTIVE,
                       kind=TerminalEventKind.ENABLED, reason=reason)


def retire_terminal(*, actor, terminal, reason=""):
    """→ retired, for good: its device id is never served again."""
    return _transition(actor=actor, terminal=terminal, target=TerminalState.RETIRED,
                       kind=TerminalEventKind.RETIRED, reason=reason)


@transaction.atomic
def rotate_secret(*, actor, terminal, reason=""):
    """Replace an enrolled terminal's secret; the old one stops working at the commit.
    Returns ``RotatedSecret(terminal, secret_hex)``: shown once, to be loaded into the device."""
    current = lock_one(Terminal.objects.all(), terminal.pk)
    _require_changer(actor, current.group_customer_id)
    if current.state not in (TerminalState.ACTIVE, TerminalState.DISABLED):
        raise DomainError(_("Only an enrolled terminal has a secret to rotate."),
                          field="state", code="not_enrolled")
    secret = keys.new_secret_hex()
    current.secret_box = keys.seal(secret)
    current.save(update_fields=["secret_box", "updated_at"])
    _event(current, TerminalEventKind.SECRET_ROTATED, actor=actor, reason=reason)
    return RotatedSecret(current, secret)


# --- Protocol bookkeeping (every request) -----------------------------------------------------


# The statements every signed request runs: fixed texts, prepared on PostgreSQL (``hot_cursor``).
# Their parameters are ints, text and an aware datetime, whose types the server can infer
# (int2/int4/int8, text, timestamptz), so no casts are needed.
ACCEPT_SEQUENCE_SQL = ("UPDATE terminals_terminal SET last_sequence = %s, last_seen_at = %s "
                       "WHERE id = %s AND last_sequence < %s")
CLAIM_SEQUENCE_SQL = ("UPDATE terminals_terminal SET last_sequence = %s, last_seen_at = %s "
                      "WHERE device_id = %s AND state = %s{secret} AND last_sequence < %s "
                      "RETURNING {columns}")


def accept_sequence(terminal_id, sequence, now):
    """Record ``sequence`` as the last accepted one if it is above it; False for a replay.

    One conditional UPDATE: two requests with the same sequence cannot both pass. (Hand-written
    and prepared: it runs on every request, and the ORM's query building cost more than the
    UPDATE.)"""
    with hot_cursor() as cursor:
        cursor.execute(ACCEPT_SEQUENCE_SQL, [sequence, connection.ops.adapt_datetimefield_value(
            now), terminal_id, sequence])
        return cursor.rowcount == 1


def claim_sequence(device_id, sequence, now, columns, *, secret_box=None, then=None):
    """Record ``sequence`` as the last accepted one of the ACTIVE terminal ``device_id`` if it
    is above it (and, with ``secret_box``, if its sealed secret is still that one) and return
    the terminal's ``columns`` (a row); None when nothing changed (no such device, not active,
    a replay, another secret: the caller reads the row to tell which).

    ``accept_sequence``'s conditional UPDATE and the terminal read in one round trip. Unless
    the caller checked the signature against ``secret_box`` first, it must run this inside a
    transaction and roll that back if the signature does not match the returned secret, so a
    forged request never uses up a sequence. ``then`` (PostgreSQL): ``(select, params)``, more
    columns read in the same statement, ``select`` being what follows ``SELECT`` with the
    claimed row as ``t`` (``… FROM t LEFT JOIN …``); they follow ``columns`` in the row.
    ``columns`` and ``select`` must be constants (part of the prepared statement's text)."""
    sql = CLAIM_SEQUENCE_SQL.format(secret=" AND secret_box = %s" if secret_box else "",
                                    columns=", ".join(columns))
    params = [sequence, connection.ops.adapt_datetimefield_value(now), device_id,
              str(TerminalState.ACTIVE), *([secret_box] if secret_box else []), sequence]
    if then is not None:
        select, more = then
        sql = f"WITH t AS ({sql}) SELECT t.*, {select}"  # noqa: S608 - constants
        params += more
    with hot_cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()


FAILURE_FIELDS = {
    AuthFailure.DEVICE_DISABLED: "failures_device_disabled",
    AuthFailure.STALE_TIMESTAMP: "failures_stale_timestamp",
    AuthFailure.REPLAYED_SEQUENCE: "failures_replayed_sequence",
    AuthFailure.BAD_SIGNATURE: "failures_bad_signature",
}


def count_auth_failure(terminal_id, reason, now=None):
    """Count one refused request of a known terminal (for the console)."""
    name = FAILURE_FIELDS[reason]
    Terminal.objects.filter(pk=terminal_id).update(
        **{name: F(name) + 1}, last_failure_at=now or timezone.now())


def record_heartbeat(*, terminal, firmware, clock, state, now=None):
    """Store what a terminal reports about itself; return its clock skew in whole seconds
    (terminal clock minus server time)."""
    now = now or timezone.now()
    skew = round((clock - now).total_seconds())
    skew = max(min(skew, 2**31 - 1), -(2**31))
    Terminal.objects.filter(pk=terminal.pk).update(
        firmware=firmware, clock_skew_seconds=skew, reported_state=state, last_seen_at=now)
    return skew


def record_punch(*, terminal, client_id, card, card_number, punched_at, offline=False):
    """Store one attendance punch; ``stored``, ``exists`` (same punch again) or
    ``exists_with_different_<field>``."""
    try:
        with transaction.atomic():
            AttendancePunch.objects.create(
                terminal_id=terminal.pk, group_customer_id=terminal.group_customer_id,
                client_id=client_id, card=card, card_number=card_number,
                member_id=card.member_id if card is not None else None,
                punched_at=punched_at, offline=offline)
        return "stored"
    except IntegrityError:
        first = AttendancePunch.objects.filter(terminal_id=terminal.pk,
                                               client_id=client_id).first()
        if first is None:
            raise
        if first.card_number != card_number:
            return "exists_with_different_card_number"
        if first.punched_at != punched_at:
            return "exists_with_different_punched_at"
        return "exists"


# --- Offline record batches --------------------------------------------------------------------


class _Parsed:
    """One uploaded record after shape checks: ``error`` is set when it cannot be used."""

    __slots__ = ("index", "raw", "sequence", "kind", "client_id", "card_number", "amount",
                 "created_at", "prev_hash", "mac", "error", "digest")


HEX = frozenset("0123456789abcdef")


def _is_hex64(value):
    return isinstance(value, str) and len(value) == 64 and set(value) <= HEX


def _parse(index, raw):
    item = _Parsed()
    item.index, item.raw, item.error, item.digest = index, raw, None, None
    item.sequence = item.client_id = item.kind = item.card_number = None
    item.amount = item.created_at = item.prev_hash = item.mac = None
    if not isinstance(raw, dict):
        item.error = "rejected:bad_request"
        return item
    sequence = raw.get("sequence")
    if isinstance(sequence, int) and not isinstance(sequence, bool) and 0 < sequence < 2**63:
        item.sequence = sequence
    client_id = raw.get("client_id")
    if isinstance(client_id, str) and 1 <= len(client_id) <= 64 and client_id.isprintable():
        item.client_id = client_id
    kind = raw.get("kind")
    card_number = raw.get("card_number")
    parsed_at = parse_aware(raw.get("created_at"))
    if (item.sequence is None or item.client_id is None or kind not in OfflineRecordKind.values
            or not isinstance(card_number, str) or not 1 <= len(card_number) <= 32
            or not card_number.isprintable() or parsed_at is None
            or not _is_hex64(raw.get("prev_hash")) or not _is_hex64(raw.get("mac"))):
        item.error = "rejected:bad_request"
        return item
    item.kind, item.card_number, item.created_at = kind, card_number, parsed_at
    item.prev_hash, item.mac = raw["prev_hash"], raw["mac"]
    amount = raw.get("amount")
    if isinstance(amount, int) and not isinstance(amount, bool) and 0 < amount < 2**53:
        item.amount = amount
    return item


def _stored_difference(stored, item):
    """The first field where a re-uploaded record differs from the stored one, or None."""
    pairs = (("kind", stored.kind, item.kind), ("client_id", stored.client_id, item.client_id),
             ("card_number", stored.card_number, item.card_number),
             ("amount", stored.amount, item.amount if item.kind == "purchase" else None),
             ("created_at", stored.created_at, item.created_at),
             ("prev_hash", stored.prev_hash, item.prev_hash))
    for name, have, new in pairs:
        if have != new:
            return name
    return None


def ingest_offline_records(*, terminal, records, now=None):
    """Check and store a terminal's batch of offline records; answer ``(results, gaps)``.

    Per record (in sequence order): shape, MAC with the device key, the kind this terminal
    may record, and the chain — the next sequence must carry the head's hash as ``prev_hash``;
    a jump opens a gap (recorded as a ``TerminalAlert``) and a late record filling a gap must
    fit its stored neighbours. A record already stored answers ``exists`` (or its first
    refusal, or ``exists_with_different_<field>``) and changes nothing. Records with a bad MAC
    or a broken chain are not stored and leave the head where it was. Purchases post through
    ``wallet.ingest_offline_purchases`` (offline limits apply); a card already denied at upload
    time is accepted, flagged for review and charged to the offline-overdraft receivable.
    The terminal row is locked for the whole batch: concurrent re-uploads of one batch are
    served one after the other, and the second finds everything stored.
    """
    from onecard.cards.choices import DENIED_STATUSES
    from onecard.cards.models import Card
    from onecard.wallet import actions as wallet
    from onecard.wallet.models import Account

    now = now or timezone.now()
    items = [_parse(i, r) for i, r in enumerate(records)]
    results = [None] * len(items)
    gaps, alerts = [], []
    with transaction.atomic():
        current = lock_one(Terminal.objects.all(), terminal.pk)
        secret = keys.unseal(current.secret_box)
        usable = sorted((i for i in items if i.error is None), key=lambda i: (i.sequence, i.index))
        wanted = {s for i in usable for s in (i.sequence - 1, i.sequence, i.sequence + 1)}
        stored = {r.sequence: r for r in OfflineRecord.objects.filter(terminal=current,
                                                                      sequence__in=wanted)}
        numbers = {i.card_number for i in usable}
        cards = {c.number: c for c in Card.objects.filter(
            group_customer_id=current.group_customer_id, number__in=numbers)
            .select_related("member")}
        purse_cards = _cards_with_active(cards.values(), "purse")
        head_sequence, head_hash = current.offline_sequence, current.offline_hash
        new_rows, purchases, punches = {}, [], []
        for item in usable:
            if item.sequence in stored:
                first = stored[item.sequence]
                differing = _stored_difference(first, item)
                results[item.index] = (f"exists_with_different_{differing}" if differing
                                       else first.status if first.status != "ok" else "exists")
                continue
            if item.sequence in new_rows:
                first = new_rows[item.sequence]
                differing = _stored_difference(first, item)
                results[item.index] = (f"exists_with_different_{differing}" if differing
                                       else "exists")
                continue
            item.digest = record_hash(item.raw)
            if not hmac.compare_digest(record_mac(secret, item.digest), item.mac):
                results[item.index] = "rejected:bad_mac"
                alerts.append(TerminalAlert(
                    terminal=current, group_customer_id=current.group_customer_id,
                    kind=AlertKind.BAD_MAC, first_sequence=item.sequence,
                    last_sequence=item.sequence, detail={"client_id": item.client_id}))
                continue
            if item.sequence > head_sequence:
                contiguous = head_sequence == 0 or item.sequence == head_sequence + 1
                if contiguous and item.prev_hash != head_hash:
                    results[item.index] = "rejected:broken_chain"
                    alerts.append(_chain_alert(current, item))
                    continue
                if not contiguous:
                    gap = [head_sequence + 1, item.sequence - 1]
                    gaps.append(gap)
                    alerts.append(TerminalAlert(
                        terminal=current, group_customer_id=current.group_customer_id,
                        kind=AlertKind.SEQUENCE_GAP, first_sequence=gap[0],
                        last_sequence=gap[1], detail={}))
                head_sequence, head_hash = item.sequence, item.digest
            else:  # a late record filling a gap: it must fit its stored neighbours
                before = stored.get(item.sequence - 1) or new_rows.get(item.sequence - 1)
                after = stored.get(item.sequence + 1) or new_rows.get(item.sequence + 1)
                if ((before is not None and before.record_hash != item.prev_hash)
                        or (after is not None and after.prev_hash != item.digest)):
                    results[item.index] = "rejected:broken_chain"
                    alerts.append(_chain_alert(current, item))
                    continue
            row = OfflineRecord(
                terminal=current, group_customer_id=current.group_customer_id,
                sequence=item.sequence, kind=item.kind, client_id=item.client_id,
                card_number=item.card_number,
                amount=item.amount if item.kind == OfflineRecordKind.PURCHASE else None,
                created_at=item.created_at, record_hash=item.digest, prev_hash=item.prev_hash,
                status="ok")
            new_rows[item.sequence] = row
            card = cards.get(item.card_number)
            row.card = card
            row.member_id = card.member_id if card is not None else None
            if current.kind not in OFFLINE_KINDS[item.kind]:
                row.status = "rejected:wrong_kind"
            elif item.kind == OfflineRecordKind.PURCHASE:
                if item.amount is None:
                    row.status = "rejected:bad_amount"
                elif card is None or card.member_id is None:
                    row.status = "rejected:unknown_card"
                elif card.status in DENIED_STATUSES:
                    row.review_required = True
                    purchases.append((item, row))
                elif card.pk not in purse_cards:
                    row.status = "rejected:no_purse_application"
                else:
                    purchases.append((item, row))
            elif item.kind == OfflineRecordKind.PUNCH:
                if card is None or card.member_id is None:
                    row.status = "rejected:unknown_card"
                else:
                    punches.append((item, row))
        if purchases:
            merchant_account = Account.objects.get(pk=current.merchant_account_id)
            posted = wallet.ingest_offline_purchases(
                group_customer_id=current.group_customer_id, merchant_account=merchant_account,
                terminal_code=current.device_id,
                records=[{"client_id": item.client_id, "member": row.card.member,
                          "amount": item.amount, "created_at": item.created_at,
                          "card_number": item.card_number, "flagged": row.review_required}
                         for item, row in purchases])
            for (_item, row), result in zip(purchases, posted, strict=True):
                row.status = "ok" if result.status == "ok" else result.status
                if not result.accepted:
                    row.review_required = False
        for item, row in punches:
            answer = record_punch(terminal=current, client_id=item.client_id, card=row.card,
                                  card_number=item.card_number, punched_at=item.created_at,
                                  offline=True)
            row.status = "ok" if answer in ("stored", "exists") else answer
        insert_rows(OfflineRecord, new_rows.values(), now=now)
        TerminalAlert.objects.bulk_create(alerts)
        if head_sequence != current.offline_sequence:
            Terminal.objects.filter(pk=current.pk).update(offline_sequence=head_sequence,
                                                          offline_hash=head_hash)
    by_sequence = {row.sequence: row for row in new_rows.values()}
    answer = []
    for item in items:
        status = results[item.index] or item.error
        if status is None:
            status = by_sequence[item.sequence].status
        answer.append({"sequence": item.sequence, "client_id": item.client_id,
                       "status": status})
    return answer, gaps


def _chain_alert(terminal, item):
    return TerminalAlert(terminal=terminal, group_customer_id=terminal.group_customer_id,
                         kind=AlertKind.BROKEN_CHAIN, first_sequence=item.sequence,
                         last_sequence=item.sequence,
                         detail={"client_id": item.client_id, "prev_hash": item.prev_hash})


def _cards_with_active(cards, kind):
    """The ids of ``cards`` that have an active application of ``kind``."""
    from onecard.cards.choices import ApplicationStatus
    from onecard.cards.models import CardApplication

    ids = [c.pk for c in cards]
    if not ids:
        return set()
    return set(CardApplication.objects.filter(card_id__in=ids, kind=kind,
                                              status=ApplicationStatus.ACTIVE)
               .values_list("card_id", flat=True))


def parse_aware(value):
    """An aware datetime from ISO 8601 text, or None."""
    if not isinstance(value, str) or len(value) > 40:
        return None
    try:
        parsed = parse_datetime(value)
    except ValueError:
        return None
    if parsed is None or timezone.is_naive(parsed):
        return None
    return parsed


__all__ = [
    "Enrolment", "RegisteredTerminal", "RotatedSecret", "accept_sequence", "claim_sequence",
    "count_auth_failure", "disable_terminal", "enable_terminal", "enrol_terminal", "hash_code",
    "ingest_offline_records", "issue_enrolment_code", "record_heartbeat", "record_punch",
    "register_terminal", "retire_terminal", "rotate_secret",
]
