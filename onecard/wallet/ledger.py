"""The posting engine: the only code that writes transfers and changes account totals.

``post`` takes requests (each one client id, one or more linked legs), and inside the caller's
transaction:

1. locks every account the requests touch, in primary-key order (no deadlocks between posts);
2. looks the client ids up: a known id answers ``exists`` (same content) or
   ``exists_with_different_<field>`` and posts nothing;
3. applies each new request's legs to a working copy of the locked accounts, checking that the
   accounts are open and of the same group customer, floors, pending and reversal rules and the
   daily limit; a request whose legs do not all pass is refused whole (linked: all or nothing);
4. inserts the transfers in one statement and writes the changed account totals in one.

With ``batch=False`` (one online request) a refusal raises and the caller's transaction rolls
back; with ``batch=True`` (an offline upload) each request gets its own result and refused ones
leave no trace. The database re-checks what it can (floor check constraint, unique client ids,
reversed-once, settled-once; on PostgreSQL the commit-time balance trigger).
"""

import operator
from dataclasses import dataclass, field
from datetime import datetime

from django.db import IntegrityError, connection
from django.db.models.base import ModelState
from django.utils import timezone
from django.utils.translation import gettext as _

from onecard.core.errors import NotFound
from onecard.core.sql import hot_cursor

from .choices import AccountKind, AccountStatus, Refusal, TransferPhase
from .errors import IdempotencyConflict, LedgerRefused
from .models import Account, Transfer

TOTAL_FIELDS = ("debits_posted", "credits_posted", "debits_pending", "credits_pending")
STATE_FIELDS = (*TOTAL_FIELDS, "status", "closed_at", "spent_on", "spent_that_day")
_STATE_VALUES = operator.attrgetter(*STATE_FIELDS)
_STATE_ITEMS = operator.itemgetter(*STATE_FIELDS)


@dataclass(slots=True)
class Leg:
    """One transfer of a request. ``amount=None`` with ``balancing=True`` means "all there is"."""

    debit_id: int
    credit_id: int
    amount: int | None
    balancing: bool = False
    close_debit: bool = False
    phase: str = TransferPhase.POSTED
    pending: Transfer | None = None
    timeout_at: datetime | None = None
    reverses: Transfer | None = None
    # Offline legs may take a purse down to minus its overdraft limit; online ones to zero.
    offline_floor: bool = False
    # Instead of ``amount``: what is left of this total after the request's earlier legs (a
    # purchase paid first from subsidy, the rest from the purse).
    rest_of: int | None = None


@dataclass(slots=True)
class Request:
    """One money request: a client id, its kind, the linked legs and what a retry must match."""

    client_id: str
    kind: str
    legs: list
    # What a retry with the same client id must match, e.g. {"amount": 500, "payer": 7}. Keys
    # are names of ``_stored_summary``; the first that differs names the conflict.
    compare: dict
    actor_id: int | None = None
    terminal_code: str = ""
    card_number: str = ""
    offline: bool = False
    memo: str = ""
    created_at: datetime | None = None
    # (member purse account id, amount, business day, daily limit or None)
    spend: tuple | None = None


@dataclass(slots=True)
class Result:
    """What happened to one request: ``ok``, ``exists``, ``exists_with_different_<field>`` or
    ``rejected:<rule>``; ``transfers`` are the request's legs (new or found)."""

    client_id: str
    status: str
    transfers: list = field(default_factory=list)
    message: str = ""
    # ``{account kind: available fen}`` of the payer's purse and subsidy purse right after a
    # purchase, when the posting read them anyway (None: ask ``purses_now``).
    balances: dict | None = None

    @property
    def accepted(self):
        return self.status in {"ok", "exists"}


class _Refused(Exception):
    def __init__(self, code, message, field=None):
        super().__init__(message)
        self.code, self.message, self.field = code, message, field


class ClientIdRace(Exception):
    """Another transaction committed one of these client ids after we looked: the caller must
    roll back (raising this out of its atomic block does) and answer from what committed."""


def post(group_customer_id, requests, *, batch=False, now=None, locked=None, lookup=True):
    """Post ``requests`` for one group customer; return one ``Result`` per request, in order.

    Must run inside the caller's ``transaction.atomic``. Single mode (``batch=False``) raises
    ``LedgerRefused`` / ``IdempotencyConflict`` instead of returning a refusal. ``locked``:
    accounts the caller already locked in this transaction (``lock_purse_and``).
    ``lookup=False`` skips looking the client ids up first (one round trip less): a known id then
    shows as ``ClientIdRace`` at insert time, or is looked up before a refusal is raised, and the
    caller answers the retry from what is stored.
    """
    now = now or timezone.now()
    accounts = _lock_accounts(group_customer_id, requests, locked)
    existing = (_existing_legs(group_customer_id, [r.client_id for r in requests]) if lookup
                else {})
    state = {pk: dict(zip(STATE_FIELDS, _STATE_VALUES(a), strict=True))
             for pk, a in accounts.items()}
    ctx = _Context(accounts, state, now)
    seen = {}
    results, new_transfers = [], []
    for request in requests:
        if request.client_id in existing:
            result = _answer_retry(request, existing[request.client_id])
        elif request.client_id in seen:
            first, first_result = seen[request.client_id]
            differing = _first_difference(request.compare, first.compare)
            if differing:
                result = Result(request.client_id, f"exists_with_different_{differing}")
            elif first_result.accepted:
                result = Result(request.client_id, "exists", first_result.transfers)
            else:  # the same request again: the same refusal
                result = Result(request.client_id, first_result.status,
                                message=first_result.message)
        else:
            try:
                transfers = _apply(request, ctx)
            except _Refused as refusal:
                if not lookup and _existing_legs(group_customer_id, [request.client_id]):
                    raise ClientIdRace() from None  # a retry of a request that went through
                if not batch:
                    raise as_ledger_refused(refusal) from None
                result = Result(request.client_id, f"rejected:{refusal.code}",
                                message=refusal.message)
            else:
                result = Result(request.client_id, "ok", transfers)
                new_transfers.extend(transfers)
            seen[request.client_id] = (request, result)
        if not batch and result.status.startswith("exists_with_different_"):
            name = result.status.removeprefix("exists_with_different_")
            raise IdempotencyConflict(
                _("This client id was already used for a request with a different %(field)s.")
                % {"field": name}, field=name)
        results.append(result)
    if new_transfers:
        changed = [a for pk, a in accounts.items() if _changed(a, state[pk])]
        _insert_transfers(new_transfers, changed, state)
    return results


# The hot path is hand-written SQL: the ORM's query building costs more than the database
# work of a purchase (docs/benchmarks.md).
LOCKED_COLUMNS = ("id", "group_customer_id", "kind", "member_id", "merchant_id", "code",
                  "floor_enforced", "overdraft_limit", "status", "debits_posted",
                  "credits_posted", "debits_pending", "credits_pending", "spent_on",
                  "spent_that_day")


class LockedAccount:
    """The locked row of an account, as the engine needs it (cheaper than a model instance)."""

    __slots__ = (*LOCKED_COLUMNS, "closed_at")

    def __init__(self, row):
        # Unpacked by hand: a batch locks about 900 accounts and a loop of setattr cost more.
        (self.id, self.group_customer_id, self.kind, self.member_id, self.merchant_id, self.code,
         floor_enforced, self.overdraft_limit, self.status, self.debits_posted,
         self.credits_posted, self.debits_pending, self.credits_pending, self.spent_on,
         self.spent_that_day) = row
        self.floor_enforced = bool(floor_enforced)
        self.closed_at = None

    @property
    def pk(self):
        return self.id

    def __str__(self):
        label = AccountKind(self.kind).label
        return f"{label} {self.code} #{self.id}" if self.code else f"{label} #{self.id}"


def lock_accounts(where, params):
    """Lock the accounts matching the SQL ``where`` in id order; return them by id."""
    # Only constants and "%s" placeholders are interpolated; values travel as parameters.
    sql = (f"SELECT {', '.join(LOCKED_COLUMNS)} FROM wallet_account WHERE {where} "  # noqa: S608
           "ORDER BY id" + (" FOR UPDATE" if connection.features.has_select_for_update else ""))
    with hot_cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    return {row[0]: LockedAccount(row) for row in rows}


def lock_purse_and(member_id, other_ids):
    """Lock a member's purse and subsidy purse plus the accounts ``other_ids``, in id order."""
    return lock_purses_and([member_id], other_ids)


def lock_purse_with_limits(member_id, category, other_ids):
    """Lock a member's two purses and the accounts ``other_ids`` (id order), and read the
    member category's limits, in one statement: ``(accounts, (per transaction, daily, PIN))``.
    """
    features = connection.features
    lock = (" FOR UPDATE OF a" if features.has_select_for_update_of
            else " FOR UPDATE" if features.has_select_for_update else "")
    columns = ", ".join(f"a.{name}" for name in LOCKED_COLUMNS)
    sql = (f"SELECT {columns}, p.per_transaction_limit, p.daily_limit, p.pin_threshold "  # noqa: S608
           "FROM wallet_account a LEFT JOIN wallet_spendingpolicy p ON "
           "p.group_customer_id = a.group_customer_id AND p.category = %s "
           "WHERE (a.member_id = %s AND a.kind IN ('member_purse', 'subsidy_purse')) "
           f"OR a.id {_in(other_ids)} ORDER BY a.id{lock}")
    with hot_cursor() as cursor:
        cursor.execute(sql, [category, member_id, *_in_params(other_ids)])
        rows = cursor.fetchall()
    width = len(LOCKED_COLUMNS)
    accounts = {row[0]: LockedAccount(row[:width]) for row in rows}
    limits = next((row[width:] for row in rows if row[3] == member_id), (None, None, None))
    return accounts, limits


def lock_purses_and(member_ids, other_ids):
    """Lock the purses of ``member_ids`` plus the accounts ``other_ids``, in id order."""
    return lock_accounts(
        f"(member_id {_in(member_ids)} AND kind IN ('member_purse', 'subsidy_purse')) "
        f"OR id {_in(other_ids)}", [*_in_params(member_ids), *_in_params(other_ids)])


def _in(values):
    """``IN (%s, …)``, or on PostgreSQL ``= ANY(%s)`` with one array parameter (short SQL)."""
    if connection.vendor == "postgresql":
        return "= ANY(%s)"
    return "IN (" + ", ".join(["%s"] * len(values)) + ")"


def _in_params(values):
    return [list(values)] if connection.vendor == "postgresql" else list(values)


def _lock_accounts(group_customer_id, requests, locked=None):
    ids = sorted({pk for r in requests for leg in r.legs for pk in (leg.debit_id, leg.credit_id)})
    accounts = dict(locked or {})
    missing = [pk for pk in ids if pk not in accounts]
    if missing:
        accounts.update(lock_accounts(f"id {_in(missing)}", _in_params(missing)))
    for pk in ids:
        account = accounts.get(pk)
        if account is None or account.group_customer_id != group_customer_id:
            raise NotFound(f"Account {pk}")
    return accounts


# On PostgreSQL, one probe per client id (``LATERAL … LIMIT 1``): with a plain
# ``client_id = ANY(…)`` the planner, believing a new customer's transfers few, scanned all of
# them and filtered (a batch's lookup grew from 12 to 76 ms within 30,000 transfers). With
# statistics of an empty table the probe may still pick the (customer, time) index; the unique
# index is picked once the table has grown (measured flat at about 1.5 ms).
KNOWN_CLIENT_IDS_SQL = (
    "SELECT c.id FROM unnest(%b::varchar[]) AS c(id), LATERAL (SELECT 1 FROM wallet_transfer t "
    "WHERE t.group_customer_id = %s AND t.client_id = c.id LIMIT 1) AS hit")


def _existing_legs(group_customer_id, client_ids):
    client_ids = sorted(set(client_ids))
    with hot_cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(KNOWN_CLIENT_IDS_SQL, [client_ids, group_customer_id])
        else:
            cursor.execute("SELECT DISTINCT client_id FROM wallet_transfer WHERE "  # noqa: S608
                           f"group_customer_id = %s AND client_id {_in(client_ids)}",
                           [group_customer_id, *client_ids])
        known = [row[0] for row in cursor.fetchall()]
    found = {}
    if known:  # a retry: rare, so the ORM may fetch the whole rows
        rows = Transfer.objects.filter(group_customer_id=group_customer_id,
                                       client_id__in=known).order_by("client_id", "leg")
        for transfer in rows:
            found.setdefault(transfer.client_id, []).append(transfer)
    return found


TRANSFER_COLUMNS = ("group_customer_id", "client_id", "leg", "debit_account_id",
                    "credit_account_id", "amount", "kind", "phase", "pending_id", "timeout_at",
                    "reverses_id", "actor_id", "terminal_code", "card_number", "offline", "memo",
                    "created_at")
INSERT_CHUNK = 500


TRANSFER_TYPES = ("bigint", "varchar", "smallint", "bigint", "bigint", "bigint", "varchar",
                  "varchar", "bigint", "timestamptz", "bigint", "bigint", "varchar", "varchar",
                  "boolean", "varchar", "timestamptz")


def _insert_transfers(transfers, changed=(), state=None):
    """Insert the transfers, then write the ``changed`` accounts' totals; a client id that
    exists by now raises ClientIdRace (and the caller's transaction rolls back).

    PostgreSQL gets the rows as arrays (``_unnest_source``): a short statement, whatever the
    batch; when everything fits one chunk, the account update rides in the same statement (a
    data-modifying CTE that only updates if every row was inserted): one round trip, not two.
    """
    if connection.vendor != "postgresql":
        _write_on_sqlite(transfers, changed, state)
        return
    together = bool(changed) and len(transfers) <= INSERT_CHUNK
    for start in range(0, len(transfers), INSERT_CHUNK):
        chunk = transfers[start:start + INSERT_CHUNK]
        sql, params = _insert_statement(chunk)
        if together:
            update, update_params = _update_statement(changed, state)
            sql = (f"WITH ins AS ({sql}), upd AS ({update} "  # noqa: S608
                   "AND (SELECT count(*) FROM ins) = %s RETURNING 1) "
                   "SELECT id, client_id, leg FROM ins")
            params = [*params, *update_params, len(chunk)]
        with hot_cursor() as cursor:
            cursor.execute(sql, params)
            _take_ids(chunk, cursor.fetchall())
    if changed and not together:
        sql, params = _update_statement(changed, state)
        with hot_cursor() as cursor:
            cursor.execute(sql, params)


def _take_ids(transfers, rows):
    """Give each inserted transfer its id from ``(id, client_id, leg)`` rows."""
    ids = {(client_id, leg): pk for pk, client_id, leg in rows}
    if len(ids) != len(transfers):
        raise ClientIdRace()
    for transfer in transfers:
        transfer.pk = ids[(transfer.client_id, transfer.leg)]
        transfer._state.adding = False


# SQLite: one prepared single-row statement run per row (``executemany``) costs less than
# compiling a multi-row statement of thousands of parameters. The ids are read back after:
# the transaction holds SQLite's only write lock, and ids only grow (AUTOINCREMENT), so the
# rows above the highest id before the insert are exactly this insert's.
SQLITE_INSERT = (f"INSERT INTO wallet_transfer ({', '.join(TRANSFER_COLUMNS)}) "  # noqa: S608
                 f"VALUES ({', '.join(['%s'] * len(TRANSFER_COLUMNS))}) "
                 "ON CONFLICT (group_customer_id, client_id, leg) DO NOTHING")
SQLITE_UPDATE = ("UPDATE wallet_account SET debits_posted = %s, credits_posted = %s, "
                 "debits_pending = %s, credits_pending = %s, status = %s, "
                 "closed_at = COALESCE(%s, closed_at), spent_on = %s, spent_that_day = %s "
                 "WHERE id = %s")


def _write_on_sqlite(transfers, changed, state):
    adapt = connection.ops.adapt_datetimefield_value
    rows = [list(_TRANSFER_VALUES(t)) for t in transfers]
    for row in rows:
        for index in _DATETIME_COLUMNS:
            if row[index] is not None:
                row[index] = adapt(row[index])
    with connection.cursor() as cursor:
        cursor.execute("SELECT COALESCE(MAX(id), 0) FROM wallet_transfer")
        highest = cursor.fetchone()[0]
        cursor.executemany(SQLITE_INSERT, rows)
        cursor.execute("SELECT id, client_id, leg FROM wallet_transfer WHERE id > %s",
                       [highest])
        _take_ids(transfers, cursor.fetchall())
        if changed:
            cursor.executemany(SQLITE_UPDATE, _account_rows(changed, state))


_TRANSFER_VALUES = operator.attrgetter(*TRANSFER_COLUMNS)
_DATETIME_COLUMNS = [TRANSFER_COLUMNS.index(name) for name in ("timeout_at", "created_at")]


def _insert_statement(chunk):
    """PostgreSQL's INSERT of ``chunk``, answering ``(id, client_id, leg)`` per row."""
    source, params = _unnest_source(TRANSFER_COLUMNS, TRANSFER_TYPES,
                                    [_TRANSFER_VALUES(t) for t in chunk])
    sql = (f"INSERT INTO wallet_transfer ({', '.join(TRANSFER_COLUMNS)}) "  # noqa: S608
           f"{source} ON CONFLICT (group_customer_id, client_id, leg) DO NOTHING "
           "RETURNING id, client_id, leg")
    return sql, params


def _unnest_source(names, types, rows):
    """``SELECT …`` of ``rows`` for PostgreSQL: a column whose value is the same in every row is
    one parameter, the others one array each (``unnest``). Parameters travel in binary (``%b``):
    psycopg then neither quotes nor scans each string (a batch of 500 spent 8 ms there). The
    text depends only on which columns vary, so a handful of texts get prepared."""
    columns = [list(column) for column in zip(*rows, strict=True)]
    select, scalars, arrays, varying = [], [], [], []
    for name, kind, values in zip(names, types, columns, strict=True):
        first = values[0]
        if all(value == first for value in values):
            select.append(f"%b::{kind}")
            scalars.append(first)
        else:
            select.append(f"r.{name}")
            arrays.append(values)
            varying.append((name, kind))
    sql = "SELECT " + ", ".join(select)
    if varying:
        sql += (" FROM unnest(" + ", ".join(f"%b::{kind}[]" for _n, kind in varying) + ") AS r("
                + ", ".join(name for name, _k in varying) + ")")
    return sql, [*scalars, *arrays]


_UPDATE_NAMES = ("dp", "cp", "dpe", "cpe", "st", "ca", "so", "sd", "id")
_UPDATE_TYPES = ("bigint", "bigint", "bigint", "bigint", "varchar", "timestamptz", "date",
                 "bigint", "bigint")


def _account_rows(changed, state):
    """The new totals of the ``changed`` accounts, one row each, in ``_UPDATE_NAMES`` order."""
    ops = connection.ops
    rows = []
    for account in changed:
        values = state[account.pk]
        rows.append([
            values["debits_posted"], values["credits_posted"], values["debits_pending"],
            values["credits_pending"], values["status"],
            ops.adapt_datetimefield_value(values["closed_at"]),
            ops.adapt_datefield_value(values["spent_on"]), values["spent_that_day"], account.pk,
        ])
    return rows


def _update_statement(changed, state):
    """PostgreSQL's one UPDATE of all changed accounts (values from ``_unnest_source``); it
    ends in its WHERE clause."""
    select, params = _unnest_source(_UPDATE_NAMES, _UPDATE_TYPES, _account_rows(changed, state))
    sql = ("UPDATE wallet_account SET debits_posted = v.dp, "  # noqa: S608
           "credits_posted = v.cp, debits_pending = v.dpe, credits_pending = v.cpe, "
           "status = v.st, closed_at = COALESCE(v.ca, wallet_account.closed_at), "
           f"spent_on = v.so, spent_that_day = v.sd FROM ({select}) AS v"
           f"({', '.join(_UPDATE_NAMES)}) WHERE wallet_account.id = v.id")
    return sql, params


def _stored_summary(legs, wanted):
    first = legs[0]
    summary = {
        "amount": sum(t.amount for t in legs),
        "kind": first.kind,
        "phase": first.phase,
        "debit_account": first.debit_account_id,
        "credit_account": first.credit_account_id,
        "reverses": first.reverses_id,
        "pending": first.pending_id,
        "terminal": first.terminal_code,
        "card": first.card_number,
    }
    if "payer" in wanted:
        summary["payer"] = (Account.objects.filter(pk=first.debit_account_id)
                            .values_list("member_id", flat=True).first())
    return summary


def _first_difference(wanted, have):
    for name, value in wanted.items():
        if have.get(name) != value:
            return name
    return None


def _answer_retry(request, legs):
    differing = _first_difference(request.compare, _stored_summary(legs, request.compare))
    if differing:
        return Result(request.client_id, f"exists_with_different_{differing}", legs)
    return Result(request.client_id, "exists", legs)


def _changed(account, values):
    return _STATE_VALUES(account) != _STATE_ITEMS(values)


def _available(values):
    return values["credits_posted"] - values["debits_posted"] - values["debits_pending"]


@dataclass(slots=True)
class _Context:
    """The locked accounts, their working totals, and the transfers this post has already
    settled or reversed (so two requests of one batch cannot both claim the same one)."""

    accounts: dict
    state: dict
    now: datetime
    claimed: set = field(default_factory=set)


# The refusals both the engine and PostgreSQL's ``wallet_purchase`` (migration 0004) give.
def closed(account):
    return _Refused(Refusal.ACCOUNT_CLOSED,
                    _("Account %(account)s is closed.") % {"account": account})


def insufficient(account, available):
    return _Refused(Refusal.INSUFFICIENT_FUNDS,
                    _("Insufficient funds: %(account)s holds %(available)s fen.")
                    % {"account": account, "available": available}, field="amount")


def over_daily_limit(limit, spent):
    return _Refused(Refusal.LIMIT_DAILY,
                    _("Daily spending limit of %(limit)s fen reached (%(spent)s spent today).")
                    % {"limit": limit, "spent": spent}, field="amount")


def as_ledger_refused(refusal):
    """The ``LedgerRefused`` an online request raises for an engine refusal."""
    return LedgerRefused(refusal.message, code=refusal.code, field=refusal.field)


def stored_transfer(pk, request, index, debit_id, credit_id, amount, group_customer_id,
                    phase=TransferPhase.POSTED, created_at=None):
    """A ``Transfer`` of ``request`` as inserted (``pk`` known, or None before the insert)."""
    return transfer_of((pk, group_customer_id, request.client_id, index, debit_id, credit_id,
                        amount, request.kind, phase, None, None, None, request.actor_id,
                        request.terminal_code, request.card_number, request.offline,
                        request.memo, request.created_at or created_at))


_TRANSFER_ATTNAMES = tuple(f.attname for f in Transfer._meta.concrete_fields)


def transfer_of(values):
    """A ``Transfer`` from the values of its fields in field order (``id`` first; with an id it
    is a stored one), made as unpickling makes a model: without ``Model.__init__``'s work per
    field (2 µs instead of 9; an offline batch makes hundreds)."""
    transfer = Transfer.__new__(Transfer)
    transfer.__dict__.update(zip(_TRANSFER_ATTNAMES, values, strict=True))
    transfer._state = ModelState()
    transfer._state.adding = values[0] is None
    return transfer


def _apply(request, ctx):
    """Apply the request's legs to the working state (all or nothing); return unsaved transfers."""
    touched = {pk for leg in request.legs for pk in (leg.debit_id, leg.credit_id)}
    saved = {pk: dict(ctx.state[pk]) for pk in touched}
    claimed = set(ctx.claimed)
    try:
        transfers, moved = [], 0
        for leg in request.legs:
            transfer = _apply_leg(request, len(transfers), leg, ctx, moved)
            if transfer is not None:
                transfers.append(transfer)
                moved += transfer.amount
        if not transfers:
            raise _Refused(Refusal.INSUFFICIENT_FUNDS, _("Nothing to move."), field="amount")
        if request.spend:
            _count_spending(request.spend, ctx.state)
        return transfers
    except _Refused:
        ctx.state.update(saved)
        ctx.claimed = claimed
        raise


def _apply_leg(request, index, leg, ctx, moved_so_far):
    accounts, state, now = ctx.accounts, ctx.state, ctx.now
    debit, credit = state[leg.debit_id], state[leg.credit_id]
    for values, pk in ((debit, leg.debit_id), (credit, leg.credit_id)):
        if values["status"] != AccountStatus.OPEN:
            raise closed(accounts[pk])
    amount = leg.amount if leg.rest_of is None else leg.rest_of - moved_so_far
    if leg.phase in (TransferPhase.POST_PENDING, TransferPhase.VOID_PENDING):
        amount = _settle_pending(leg, debit, credit, ctx)
    elif leg.balancing:
        room = max(_available(debit), 0)
        amount = room if amount is None else min(amount, room)
    if leg.reverses is not None:
        _check_reversal(leg, amount, ctx)
    if leg.phase == TransferPhase.PENDING:
        debit["debits_pending"] += amount
        credit["credits_pending"] += amount
    elif leg.phase != TransferPhase.VOID_PENDING:
        debit["debits_posted"] += amount
        credit["credits_posted"] += amount
    debit_account = accounts[leg.debit_id]
    # The floor binds a leg that takes money out (or closes the purse); a leg that moves
    # nothing leaves an overdrawn purse as it was.
    if debit_account.floor_enforced and (amount or leg.close_debit):
        floor = -debit_account.overdraft_limit if leg.offline_floor else 0
        if _available(debit) < floor:
            raise insufficient(debit_account, _available(debit) + amount)
    if leg.close_debit:
        if debit["debits_pending"] or debit["credits_pending"]:
            raise _Refused(Refusal.PENDING_ALREADY_RESOLVED,
                           _("Account %(account)s has pending transfers and cannot close.")
                           % {"account": debit_account})
        debit["status"], debit["closed_at"] = AccountStatus.CLOSED, now
    # A leg with nothing to move is left out (None), unless it closes an account or settles a
    # hold (a void moves nothing by definition).
    if not amount and not leg.close_debit and leg.pending is None:
        return None
    return transfer_of((
        None, debit_account.group_customer_id, request.client_id, index, leg.debit_id,
        leg.credit_id, amount, request.kind, leg.phase,
        leg.pending.pk if leg.pending is not None else None, leg.timeout_at,
        leg.reverses.pk if leg.reverses is not None else None, request.actor_id,
        request.terminal_code, request.card_number, request.offline, request.memo,
        request.created_at or now,
    ))


def _settle_pending(leg, debit, credit, ctx):
    """Release a pending transfer's hold; return the amount to post (0 for a void)."""
    pending = leg.pending
    key = ("pending", pending.pk)
    if key in ctx.claimed or Transfer.objects.filter(pending=pending).exists():
        raise _Refused(Refusal.PENDING_ALREADY_RESOLVED,
                       _("This pending transfer was already posted or voided."))
    ctx.claimed.add(key)
    if (leg.phase == TransferPhase.POST_PENDING and pending.timeout_at
            and ctx.now >= pending.timeout_at):
        raise _Refused(Refusal.PENDING_EXPIRED, _("This pending transfer has timed out."))
    amount = pending.amount if leg.amount is None else leg.amount
    if amount > pending.amount:
        raise _Refused(Refusal.POST_EXCEEDS_PENDING,
                       _("Cannot post %(amount)s fen of a %(held)s fen hold.")
                       % {"amount": amount, "held": pending.amount}, field="amount")
    debit["debits_pending"] -= pending.amount
    credit["credits_pending"] -= pending.amount
    return 0 if leg.phase == TransferPhase.VOID_PENDING else amount


def _check_reversal(leg, amount, ctx):
    original = leg.reverses
    key = ("reverses", original.pk)
    if key in ctx.claimed or Transfer.objects.filter(reverses=original).exists():
        raise _Refused(Refusal.ALREADY_REVERSED, _("This transfer was already reversed."))
    ctx.claimed.add(key)
    if amount > original.amount:
        raise _Refused(Refusal.REVERSAL_EXCEEDS_TRANSFER,
                       _("Cannot reverse %(amount)s fen of a %(moved)s fen transfer.")
                       % {"amount": amount, "moved": original.amount}, field="amount")


def _count_spending(spend, state):
    account_id, amount, day, daily_limit = spend
    values = state[account_id]
    spent = values["spent_that_day"] if values["spent_on"] == day else 0
    if daily_limit is not None and spent + amount > daily_limit:
        raise over_daily_limit(daily_limit, spent)
    values["spent_on"], values["spent_that_day"] = day, spent + amount


def is_duplicate_client_id(error):
    """Whether an IntegrityError is the unique client id (a concurrent first request won)."""
    text = str(error)
    return isinstance(error, IntegrityError) and (
        "wallet_transfer_unique_client_id" in text
        or "wallet_transfer.group_customer_id, wallet_transfer.client_id" in text)
