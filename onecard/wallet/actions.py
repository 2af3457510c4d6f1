"""Actions on the wallet ledger. Every movement of money goes through one of these.

Shape (STYLE.md rule 3): keyword-only ``actor=`` (a person, or ``None`` for a terminal or the
system), atomic, money moved only by ``ledger.post``. Actions a person takes write an audit
record in the same transaction; terminal purchases and offline uploads do not, because the
immutable transfer (with its terminal, card and client id) is itself the record
(docs/adr/0005-wallet-ledger.md).

Every money action takes a ``client_id``: calling it again with the same id returns the first
result (``Result.status == "exists"``); the same id with different content is refused with
``exists_with_different_<field>``.
"""

from datetime import timedelta

from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from onecard.accounts.choices import Role
from onecard.audit.actions import write_audit
from onecard.core.errors import Conflict, InvalidInput, NotAllowed, NotFound
from onecard.core.locks import lock_one
from onecard.core.money import fen
from onecard.core.sql import hot_cursor
from onecard.core.validation import clean_or_refuse, snapshot

from . import ledger
from .choices import (
    PURSE_KINDS,
    SINGLETON_KINDS,
    AccountKind,
    AccountStatus,
    Refusal,
    TransferKind,
    TransferPhase,
)
from .errors import IdempotencyConflict, LedgerRefused
from .ledger import Leg, Request
from .models import Account, Merchant, SpendingPolicy, Transfer

CLEARING_CODES = ("bank", "online")
LIMIT_FIELDS = ("per_transaction_limit", "daily_limit", "pin_threshold",
                "offline_per_transaction_limit", "offline_daily_limit")
MAX_HOLD_SECONDS = 7 * 24 * 3600


# --- Helpers ----------------------------------------------------------------------------------


def _amount(value, name="amount", *, allow_zero=False):
    try:
        return fen(value, allow_zero=allow_zero)
    except ValueError as error:
        raise InvalidInput({name: [str(error)]})


def _client_id(value):
    if not isinstance(value, str) or not 1 <= len(value) <= 64 or not value.isprintable():
        raise InvalidInput({"client_id": [_("A client id is 1 to 64 printable characters.")]})
    return value


def _person(actor):
    return actor if getattr(actor, "pk", None) else None


def _require_staff(actor):
    """People who may move money by hand: operator staff who manage customers, enterprise admins."""
    allowed = {Role.OPERATOR_ADMIN, Role.CUSTOMER_MANAGER, Role.ENTERPRISE_ADMIN}
    if actor is not None and getattr(actor, "role", None) not in allowed:
        raise NotAllowed(_("Your role may not move money."))


def _submit(group_customer_id, request, *, audit=None, now=None, lock=None):
    """Post one request atomically and answer its ``Result``.

    A concurrent request with the same client id can win the race to insert; then this one's
    transaction fails on the unique constraint and the retry is answered from what committed.
    ``audit(result)`` runs inside the transaction when the request posted something new.
    ``lock()`` (optional) locks accounts first and fills in the request's legs from them.
    """
    try:
        with transaction.atomic():
            locked = lock() if lock is not None else None
            result = ledger.post(group_customer_id, [request], now=now, locked=locked,
                                 lookup=False)[0]
            if audit is not None and result.status == "ok":
                audit(result)
            return result
    except ledger.ClientIdRace:
        pass
    except IntegrityError as error:
        if not ledger.is_duplicate_client_id(error):
            raise Conflict(_("The ledger refused this request."), code="ledger_constraint")
    with transaction.atomic():
        return _answer_stored(group_customer_id, request)


def _answer_stored(group_customer_id, request):
    """The ``Result`` of a request whose client id is stored: ``exists``, or refused naming
    the first field that differs."""
    found = ledger._existing_legs(group_customer_id, [request.client_id])
    if request.client_id not in found:
        raise Conflict(_("The ledger refused this request."), code="ledger_constraint")
    result = ledger._answer_retry(request, found[request.client_id])
    if result.status != "exists":
        name = result.status.removeprefix("exists_with_different_")
        raise IdempotencyConflict(
            _("This client id was already used for a request with a different %(field)s.")
            % {"field": name}, field=name)
    return result


def _audit_money(actor, action, result, *, group_customer_id, reason=""):
    transfers = result.transfers
    write_audit(
        actor=actor, action=action, object_type="wallet.transfer",
        object_id=transfers[0].client_id, group_customer_id=group_customer_id, reason=reason,
        after={"client_id": transfers[0].client_id,
               "legs": [{"debit": t.debit_account_id, "credit": t.credit_account_id,
                         "amount": t.amount, "kind": t.kind} for t in transfers]},
    )


def customer_account(group_customer, kind, code=""):
    """The group customer's account of ``kind`` (equity, refunds payable, clearing…)."""
    account = Account.objects.filter(group_customer=group_customer, kind=kind, code=code,
                                     member__isnull=True, merchant__isnull=True).first()
    if account is None:
        raise InvalidInput({"group_customer": [_("This customer's ledger is not open.")]})
    return account


def purses_of(member):
    """``(member purse, subsidy purse)`` of a member; refused if the member has none."""
    found = {a.kind: a for a in Account.objects.filter(member=member, kind__in=PURSE_KINDS)}
    if len(found) != 2:
        raise InvalidInput({"member": [_("This member has no purse.")]})
    return found[AccountKind.MEMBER_PURSE], found[AccountKind.SUBSIDY_PURSE]


def policy_for(group_customer_id, category):
    """The member category's limits, or None. Hand-written SQL: it is on every purchase."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT per_transaction_limit, daily_limit, pin_threshold FROM wallet_spendingpolicy "
            "WHERE group_customer_id = %s AND category = %s", [group_customer_id, category])
        row = cursor.fetchone()
    if row is None:
        return None
    return SpendingPolicy(group_customer_id=group_customer_id, category=category,
                          per_transaction_limit=row[0], daily_limit=row[1], pin_threshold=row[2])


# --- Opening accounts -----------------------------------------------------------------------


@transaction.atomic
def open_ledger(*, actor, group_customer):
    """Create the group customer's own accounts (equity, refunds payable, fee income, offline
    overdraft receivable, bank and online clearing). Safe to call again."""
    created = []
    wanted = [(kind, "") for kind in SINGLETON_KINDS]
    wanted += [(AccountKind.EXTERNAL_CLEARING, code) for code in CLEARING_CODES]
    for kind, code in wanted:
        _, made = Account.objects.get_or_create(group_customer=group_customer, kind=kind,
                                                code=code, member=None, merchant=None)
        if made:
            created.append(f"{kind}:{code}" if code else kind)
    if created:
        write_audit(actor=actor, action="wallet.ledger_opened", obj=group_customer,
                    group_customer_id=group_customer.pk, after={"accounts": created})
    return created


@transaction.atomic
def open_purses(*, actor, member, overdraft_limit=0):
    """Give a member their purse and subsidy purse (one of each, ever). Safe to call again."""
    overdraft_limit = _amount(overdraft_limit, "overdraft_limit", allow_zero=True)
    accounts = []
    for kind in (AccountKind.MEMBER_PURSE, AccountKind.SUBSIDY_PURSE):
        account, made = Account.objects.get_or_create(
            member=member, kind=kind,
            defaults={"group_customer_id": member.group_customer_id, "floor_enforced": True,
                      "overdraft_limit": overdraft_limit if kind == AccountKind.MEMBER_PURSE
                      else 0},
        )
        if made:
            write_audit(actor=actor, action="wallet.purse_opened", obj=account,
                        group_customer_id=member.group_customer_id, after=snapshot(account))
        accounts.append(account)
    return tuple(accounts)


@transaction.atomic
def open_purses_for_customer(*, actor, group_customer):
    """Give every member of a group customer who has none their two purses, in bulk, with one
    audit record counting them. Safe to call again."""
    from onecard.people.models import Member

    have = set(Account.objects.filter(group_customer=group_customer, kind__in=PURSE_KINDS)
               .values_list("member_id", "kind"))
    new = [Account(group_customer=group_customer, member_id=pk, kind=kind, floor_enforced=True)
           for pk in Member.objects.filter(group_customer=group_customer)
           .exclude(status="departed").values_list("pk", flat=True)
           for kind in (AccountKind.MEMBER_PURSE, AccountKind.SUBSIDY_PURSE)
           if (pk, kind) not in have]
    if new:
        Account.objects.bulk_create(new)
        write_audit(actor=actor, action="wallet.purses_opened", obj=group_customer,
                    group_customer_id=group_customer.pk, after={"accounts": len(new)})
    return len(new)


@transaction.atomic
def create_merchant(*, actor, group_customer, name, code):
    """A merchant with its main account."""
    _require_staff(actor)
    merchant = Merchant(group_customer=group_customer, name=name, code=code)
    # Uniqueness is the database's answer below (409 naming "code"), not a validation error.
    clean_or_refuse(merchant, validate_constraints=False)
    try:
        with transaction.atomic():
            merchant.save(force_insert=True)
    except IntegrityError:
        raise Conflict(_("A merchant with this code exists."), field="code", code="duplicate")
    Account.objects.create(group_customer=group_customer, kind=AccountKind.MERCHANT,
                           merchant=merchant)
    write_audit(actor=actor, action="wallet.merchant_created", obj=merchant,
                group_customer_id=group_customer.pk, after=snapshot(merchant))
    return merchant


@transaction.atomic
def open_merchant_terminal_account(*, actor, merchant, code):
    """The sub-account of one merchant terminal (so a busy merchant is many rows). Idempotent."""
    if not code or len(code) > 50:
        raise InvalidInput({"code": [_("A terminal code is 1 to 50 characters.")]})
    account, made = Account.objects.get_or_create(
        merchant=merchant, kind=AccountKind.MERCHANT_TERMINAL, code=code,
        defaults={"group_customer_id": merchant.group_customer_id},
    )
    if made:
        write_audit(actor=actor, action="wallet.merchant_terminal_opened", obj=account,
                    group_customer_id=merchant.group_customer_id, after=snapshot(account))
    return account


@transaction.atomic
def open_cash_drawer(*, actor, group_customer, code):
    """The cash drawer of one top-up terminal or counter. Idempotent."""
    if not code or len(code) > 50:
        raise InvalidInput({"code": [_("A cash drawer code is 1 to 50 characters.")]})
    account, made = Account.objects.get_or_create(
        group_customer=group_customer, kind=AccountKind.CASH_DRAWER, code=code,
        member=None, merchant=None,
    )
    if made:
        write_audit(actor=actor, action="wallet.cash_drawer_opened", obj=account,
                    group_customer_id=group_customer.pk, after=snapshot(account))
    return account


@transaction.atomic
def set_spending_policy(*, actor, group_customer, category, **limits):
    """Set the limits of one member category (``None`` removes a limit)."""
    _require_staff(actor)
    from onecard.people.choices import MemberCategory

    if category not in MemberCategory.values:
        raise InvalidInput({"category": [_("Unknown member category.")]})
    unknown = set(limits) - set(LIMIT_FIELDS)
    if unknown:
        raise InvalidInput({name: [_("Unknown field.")] for name in sorted(unknown)})
    for name, value in limits.items():
        if value is not None:
            _amount(value, name)
    policy = SpendingPolicy.objects.select_for_update().filter(
        group_customer=group_customer, category=category).first()
    before = snapshot(policy) if policy else None
    if policy is None:
        policy = SpendingPolicy(group_customer=group_customer, category=category)
    for name, value in limits.items():
        setattr(policy, name, value)
    policy.save()
    write_audit(actor=actor, action="wallet.policy_set", obj=policy,
                group_customer_id=group_customer.pk, before=before, after=snapshot(policy))
    return policy


@transaction.atomic
def set_overdraft_limit(*, actor, account, limit):
    """How far below zero offline spending may take this member purse."""
    _require_staff(actor)
    limit = _amount(limit, "overdraft_limit", allow_zero=True)
    current = lock_one(Account.objects.all(), account.pk)
    if current.kind != AccountKind.MEMBER_PURSE:
        raise InvalidInput({"overdraft_limit": [_("Only a member purse has an overdraft.")]})
    if current.available < -limit:
        raise LedgerRefused(_("The purse is already below that limit."),
                            code=Refusal.OFFLINE_LIMIT, field="overdraft_limit")
    before = current.overdraft_limit
    Account.objects.filter(pk=current.pk).update(overdraft_limit=limit)
    write_audit(actor=actor, action="wallet.overdraft_limit_set", obj=current,
                group_customer_id=current.group_customer_id,
                before={"overdraft_limit": before}, after={"overdraft_limit": limit})
    current.overdraft_limit = limit
    return current


# --- Moving money -----------------------------------------------------------------------------


def top_up(*, actor, member, amount, client_id, source, terminal_code=""):
    """Money paid in (cash at a counter or top-up machine, or online) onto a member's purse.

    ``source`` is a cash drawer or external clearing account of the same group customer.
    """
    if actor is not None:
        _require_staff(actor)
    amount, client_id = _amount(amount), _client_id(client_id)
    if source.kind not in (AccountKind.CASH_DRAWER, AccountKind.EXTERNAL_CLEARING):
        raise InvalidInput({"source": [_("Top-ups come from a cash drawer or clearing.")]})
    purse, _subsidy = purses_of(member)
    request = Request(
        client_id=client_id, kind=TransferKind.TOP_UP,
        legs=[Leg(source.pk, purse.pk, amount)],
        compare={"amount": amount, "kind": TransferKind.TOP_UP, "credit_account": purse.pk,
                 "debit_account": source.pk},
        actor_id=getattr(_person(actor), "pk", None), terminal_code=terminal_code,
    )
    audit = None
    if _person(actor):
        def audit(result):
            _audit_money(actor, "wallet.top_up", result,
                         group_customer_id=member.group_customer_id)
    return _submit(member.group_customer_id, request, audit=audit)


def purchase(*, actor=None, member, merchant_account, amount, client_id, pin_verified=False,
             terminal_code="", card_number="", created_at=None):
    """A member pays a merchant: from the subsidy purse first, the rest from the purse (one
    linked request). Refused by rule: ``limit_per_transaction``, ``pin_required``,
    ``limit_daily``, ``insufficient_funds``, ``account_closed``."""
    amount, client_id = _amount(amount), _client_id(client_id)
    if merchant_account.kind not in (AccountKind.MERCHANT, AccountKind.MERCHANT_TERMINAL):
        raise InvalidInput({"merchant_account": [_("Purchases pay a merchant account.")]})
    now = created_at or timezone.now()
    today = timezone.localdate(now)
    request = Request(
        client_id=client_id, kind=TransferKind.PURCHASE, legs=[],
        compare={"amount": amount, "kind": TransferKind.PURCHASE, "phase": TransferPhase.POSTED,
                 "payer": member.pk, "credit_account": merchant_account.pk},
        actor_id=getattr(_person(actor), "pk", None), terminal_code=terminal_code,
        card_number=card_number, created_at=created_at,
    )
    if PURCHASE_IN_DATABASE and connection.vendor == "postgresql":
        return _purchase_in_database(member, merchant_account.pk, amount, pin_verified, request,
                                     now, today)

    def lock():
        # One statement locks both purses and the merchant account (id order) and reads the
        # member category's limits.
        accounts, limits = ledger.lock_purse_with_limits(member.pk, member.category,
                                                         [merchant_account.pk])
        kinds = {a.kind: a.pk for a in accounts.values() if a.member_id == member.pk}
        if len(kinds) != 2:
            raise InvalidInput({"member": [_("This member has no purse.")]})
        policy = SpendingPolicy(per_transaction_limit=limits[0], daily_limit=limits[1],
                                pin_threshold=limits[2])
        try:
            _check_policy(policy, amount, pin_verified)
        except LedgerRefused:
            # A retry of a purchase that went through answers with it, whatever the limits now.
            if ledger._existing_legs(member.group_customer_id, [client_id]):
                raise ledger.ClientIdRace() from None
            raise
        purse, subsidy = kinds[AccountKind.MEMBER_PURSE], kinds[AccountKind.SUBSIDY_PURSE]
        request.legs = [Leg(subsidy, merchant_account.pk, amount, balancing=True),
                        Leg(purse, merchant_account.pk, None, rest_of=amount)]
        request.spend = (purse, amount, today, policy.daily_limit)
        return accounts
    return _submit(member.group_customer_id, request, lock=lock)


# On PostgreSQL an online purchase is ONE statement: the ``wallet_purchase`` function (migration
# 0004, ADR 0010) applies the engine's rules in the engine's order, with no round trip between
# the lock and the write. Tests switch it off to compare both paths on the same database.
PURCHASE_IN_DATABASE = True
PURCHASE_SQL = "SELECT * FROM wallet_purchase(%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"


def _purchase_in_database(member, merchant_id, amount, pin_verified, request, now, today):
    """``purchase`` on PostgreSQL. One statement is atomic by itself: without an atomic block
    it needs no BEGIN/COMMIT (or SAVEPOINT) round trips of its own, and a refusal has written
    nothing, so raising it cannot leave a caller's transaction half done."""
    customer_id = member.group_customer_id
    with hot_cursor() as cursor:
        cursor.execute(PURCHASE_SQL, [
            customer_id, member.pk, member.category, merchant_id, amount, request.client_id,
            pin_verified, request.actor_id, request.terminal_code, request.card_number, now,
            today])
        (outcome, account_id, figure, figure2, subsidy_id, purse_id, subsidy_leg_id,
         subsidy_taken, purse_leg_id, purse_taken, subsidy_left, purse_left) = cursor.fetchone()
    if outcome == "ok":
        transfers = []
        for pk, debit_id, taken in ((subsidy_leg_id, subsidy_id, subsidy_taken),
                                    (purse_leg_id, purse_id, purse_taken)):
            if taken:
                transfers.append(ledger.stored_transfer(
                    pk, request, len(transfers), debit_id, merchant_id, taken, customer_id,
                    created_at=now))
        return ledger.Result(request.client_id, "ok", transfers, balances={
            AccountKind.MEMBER_PURSE: purse_left, AccountKind.SUBSIDY_PURSE: subsidy_left})
    if outcome == "retry":
        return _answer_stored(customer_id, request)
    if outcome == "no_purse":
        raise InvalidInput({"member": [_("This member has no purse.")]})
    if outcome == "not_found":
        raise NotFound(f"Account {account_id}")
    if outcome == Refusal.LIMIT_PER_TRANSACTION:
        _check_policy(SpendingPolicy(per_transaction_limit=figure), amount, pin_verified)
    if outcome == Refusal.PIN_REQUIRED:
        _check_policy(SpendingPolicy(pin_threshold=figure), amount, pin_verified)
    if outcome == Refusal.ACCOUNT_CLOSED:
        raise ledger.as_ledger_refused(ledger.closed(Account.objects.get(pk=account_id)))
    if outcome == Refusal.INSUFFICIENT_FUNDS:
        raise ledger.as_ledger_refused(
            ledger.insufficient(Account.objects.get(pk=account_id), figure))
    if outcome == Refusal.LIMIT_DAILY:
        raise ledger.as_ledger_refused(ledger.over_daily_limit(figure, figure2))
    raise Conflict(_("The ledger refused this request."), code="ledger_constraint")


def _check_policy(policy, amount, pin_verified):
    if policy is None:
        return
    if policy.per_transaction_limit is not None and amount > policy.per_transaction_limit:
        raise LedgerRefused(_("Over the per-transaction limit of %(limit)s fen.")
                            % {"limit": policy.per_transaction_limit},
                            code=Refusal.LIMIT_PER_TRANSACTION, field="amount")
    if policy.pin_threshold is not None and amount >= policy.pin_threshold and not pin_verified:
        raise LedgerRefused(_("Purchases from %(limit)s fen need the card PIN.")
                            % {"limit": policy.pin_threshold},
                            code=Refusal.PIN_REQUIRED, field="pin")


def reverse_transfer(*, actor, transfer, client_id, amount=None, reason="",
                     kind=TransferKind.REVERSAL):
    """Undo (part of) one transfer by moving the money back; at most once per transfer, never
    for more than it moved. ``kind`` is ``reversal`` (an error corrected) or ``refund``."""
    _require_staff(actor)
    client_id = _client_id(client_id)
    if kind not in (TransferKind.REVERSAL, TransferKind.REFUND):
        raise InvalidInput({"kind": [_("A correction is a reversal or a refund.")]})
    if transfer.phase != TransferPhase.POSTED:
        raise LedgerRefused(_("Only posted transfers can be reversed; void a pending one."),
                            code=Refusal.NOT_POSTED)
    amount = transfer.amount if amount is None else _amount(amount)
    request = Request(
        client_id=client_id, kind=kind,
        legs=[Leg(transfer.credit_account_id, transfer.debit_account_id, amount,
                  reverses=transfer)],
        compare={"amount": amount, "kind": kind, "reverses": transfer.pk},
        actor_id=getattr(_person(actor), "pk", None), memo=reason[:200],
    )

    def audit(result):
        _audit_money(actor, f"wallet.{kind}", result,
                     group_customer_id=transfer.group_customer_id, reason=reason)
    return _submit(transfer.group_customer_id, request, audit=audit)


def refund_purchase(*, actor, purchase_client_id, group_customer, amount, client_id, reason=""):
    """Give back (part of) a purchase: to the purse first, then to the subsidy purse, each leg
    reversed at most once. One linked request."""
    _require_staff(actor)
    amount, client_id = _amount(amount), _client_id(client_id)
    legs = list(Transfer.objects.filter(group_customer=group_customer,
                                        client_id=purchase_client_id,
                                        kind=TransferKind.PURCHASE).order_by("-leg"))
    if not legs:
        raise InvalidInput({"purchase": [_("No purchase with this client id.")]})
    if amount > sum(t.amount for t in legs):
        raise LedgerRefused(_("A refund cannot exceed the purchase."),
                            code=Refusal.REVERSAL_EXCEEDS_TRANSFER, field="amount")
    plan, left = [], amount
    for original in legs:  # the purse leg (last) first
        part = min(left, original.amount)
        if part:
            plan.append(Leg(original.credit_account_id, original.debit_account_id, part,
                            reverses=original))
        left -= part
    request = Request(client_id=client_id, kind=TransferKind.REFUND, legs=plan,
                      compare={"amount": amount, "kind": TransferKind.REFUND,
                               "reverses": plan[0].reverses.pk},
                      actor_id=getattr(_person(actor), "pk", None), memo=reason[:200])

    def audit(result):
        _audit_money(actor, "wallet.refund", result, group_customer_id=group_customer.pk,
                     reason=reason)
    return _submit(group_customer.pk, request, audit=audit)


def grant_subsidy(*, actor, member, amount, client_id, expires_at=None):
    """The enterprise grants a subsidy (from its equity account) onto the member's subsidy
    purse; ``expires_at`` (if given) moves the purse's expiry to the later of the two."""
    _require_staff(actor)
    amount, client_id = _amount(amount), _client_id(client_id)
    _purse, subsidy = purses_of(member)
    equity = customer_account(member.group_customer_id, AccountKind.EQUITY)
    request = Request(client_id=client_id, kind=TransferKind.SUBSIDY_GRANT,
                      legs=[Leg(equity.pk, subsidy.pk, amount)],
                      compare={"amount": amount, "kind": TransferKind.SUBSIDY_GRANT,
                               "credit_account": subsidy.pk},
                      actor_id=getattr(_person(actor), "pk", None))

    def audit(result):
        if expires_at is not None:
            current = lock_one(Account.objects.all(), subsidy.pk)
            if current.subsidy_expires_at is None or current.subsidy_expires_at < expires_at:
                Account.objects.filter(pk=subsidy.pk).update(subsidy_expires_at=expires_at)
        _audit_money(actor, "wallet.subsidy_grant", result,
                     group_customer_id=member.group_customer_id)
    return _submit(member.group_customer_id, request, audit=audit)


def expire_subsidies(*, actor, group_customer, now=None):
    """Move what is left on every subsidy purse whose expiry has passed back to equity (one
    balancing transfer each, client id ``expiry:<account>:<expiry>`` so a re-run is a no-op).
    Returns the results of the purses that had something to expire."""
    now = now or timezone.now()
    equity = customer_account(group_customer, AccountKind.EQUITY)
    due = Account.objects.filter(group_customer=group_customer, kind=AccountKind.SUBSIDY_PURSE,
                                 status=AccountStatus.OPEN, subsidy_expires_at__lte=now)
    results = []
    for account in due.only("pk", "subsidy_expires_at", "credits_posted", "debits_posted"):
        if account.available <= 0:
            continue
        # credits_posted only grows: a re-run with nothing new is the same request (exists),
        # and any money that reached the purse since makes a new one.
        client_id = f"expiry:{account.pk}:{account.credits_posted}"
        request = Request(client_id=client_id, kind=TransferKind.SUBSIDY_EXPIRY,
                          legs=[Leg(account.pk, equity.pk, None, balancing=True)],
                          compare={"kind": TransferKind.SUBSIDY_EXPIRY},
                          actor_id=getattr(_person(actor), "pk", None))

        def audit(result):
            _audit_money(actor, "wallet.subsidy_expiry", result,
                         group_customer_id=group_customer.pk)
        results.append(_submit(group_customer.pk, request, audit=audit))
    return results


def move_balance(*, actor, source_member, target_member, client_id):
    """Move everything on one member's purse and subsidy purse to another's of the same group
    customer, closing the source purses: one linked request, all or nothing, without reading
    the balances first (balancing legs)."""
    _require_staff(actor)
    client_id = _client_id(client_id)
    if source_member.group_customer_id != target_member.group_customer_id:
        raise InvalidInput({"target": [_("Balances move only within one group customer.")]})
    if source_member.pk == target_member.pk:
        raise InvalidInput({"target": [_("Source and target are the same member.")]})
    source_purse, source_subsidy = purses_of(source_member)
    target_purse, target_subsidy = purses_of(target_member)
    request = Request(client_id=client_id, kind=TransferKind.BALANCE_MOVE,
                      legs=[Leg(source_purse.pk, target_purse.pk, None, balancing=True,
                                close_debit=True),
                            Leg(source_subsidy.pk, target_subsidy.pk, None, balancing=True,
                                close_debit=True)],
                      compare={"kind": TransferKind.BALANCE_MOVE,
                               "debit_account": source_purse.pk,
                               "credit_account": target_purse.pk},
                      actor_id=getattr(_person(actor), "pk", None))

    def audit(result):
        _audit_money(actor, "wallet.balance_move", result,
                     group_customer_id=source_member.group_customer_id)
    return _submit(source_member.group_customer_id, request, audit=audit)


def deregister_purses(*, actor, member, client_id):
    """Empty and close a departing member's purses in one linked request: the purse to refunds
    payable, the subsidy back to equity, amounts decided under the lock (balancing legs)."""
    _require_staff(actor)
    client_id = _client_id(client_id)
    purse, subsidy = purses_of(member)
    refunds = customer_account(member.group_customer_id, AccountKind.REFUNDS_PAYABLE)
    equity = customer_account(member.group_customer_id, AccountKind.EQUITY)
    request = Request(client_id=client_id, kind=TransferKind.DEREGISTRATION,
                      legs=[Leg(purse.pk, refunds.pk, None, balancing=True, close_debit=True),
                            Leg(subsidy.pk, equity.pk, None, balancing=True, close_debit=True)],
                      compare={"kind": TransferKind.DEREGISTRATION,
                               "debit_account": purse.pk},
                      actor_id=getattr(_person(actor), "pk", None))

    def audit(result):
        _audit_money(actor, "wallet.deregistration", result,
                     group_customer_id=member.group_customer_id)
    return _submit(member.group_customer_id, request, audit=audit)


def pay_out_merchant(*, actor, merchant, client_id, clearing_code="bank"):
    """Pay a merchant everything its accounts hold, to external clearing (one linked request)."""
    _require_staff(actor)
    client_id = _client_id(client_id)
    clearing = customer_account(merchant.group_customer_id, AccountKind.EXTERNAL_CLEARING,
                                clearing_code)
    accounts = [a for a in merchant.accounts.order_by("pk") if a.balance > 0]
    if not accounts:
        raise LedgerRefused(_("This merchant has nothing to pay out."),
                            code=Refusal.INSUFFICIENT_FUNDS)
    legs = [Leg(a.pk, clearing.pk, None, balancing=True) for a in accounts]
    request = Request(client_id=client_id, kind=TransferKind.PAYOUT, legs=legs,
                      compare={"kind": TransferKind.PAYOUT, "credit_account": clearing.pk},
                      actor_id=getattr(_person(actor), "pk", None))

    def audit(result):
        _audit_money(actor, "wallet.payout", result, group_customer_id=merchant.group_customer_id)
    return _submit(merchant.group_customer_id, request, audit=audit)


def charge_fee(*, actor, merchant_account, amount, client_id):
    """The operator's fee, from a merchant account to fee income."""
    _require_staff(actor)
    amount, client_id = _amount(amount), _client_id(client_id)
    income = customer_account(merchant_account.group_customer_id, AccountKind.FEE_INCOME)
    request = Request(client_id=client_id, kind=TransferKind.FEE,
                      legs=[Leg(merchant_account.pk, income.pk, amount)],
                      compare={"amount": amount, "kind": TransferKind.FEE,
                               "debit_account": merchant_account.pk},
                      actor_id=getattr(_person(actor), "pk", None))

    def audit(result):
        _audit_money(actor, "wallet.fee", result,
                     group_customer_id=merchant_account.group_customer_id)
    return _submit(merchant_account.group_customer_id, request, audit=audit)


# --- Holds (pending transfers) ----------------------------------------------------------------


def hold(*, actor=None, member, merchant_account, amount, client_id, timeout_seconds=900,
         terminal_code="", pin_verified=False):
    """Reserve ``amount`` of a member's purse for a merchant, to be posted (for at most that
    much) or voided later; after ``timeout_seconds`` it can only be voided. The member
    category's limits apply to the amount held, as to a purchase."""
    amount, client_id = _amount(amount), _client_id(client_id)
    if isinstance(timeout_seconds, bool) or not isinstance(timeout_seconds, int) or not (
            1 <= timeout_seconds <= MAX_HOLD_SECONDS):
        raise InvalidInput({"timeout_seconds": [_("A hold lasts 1 second to 7 days.")]})
    if merchant_account.kind not in (AccountKind.MERCHANT, AccountKind.MERCHANT_TERMINAL):
        raise InvalidInput({"merchant_account": [_("Holds are for a merchant account.")]})
    policy = policy_for(member.group_customer_id, member.category)
    try:
        _check_policy(policy, amount, pin_verified)
    except LedgerRefused:
        if not ledger._existing_legs(member.group_customer_id, [client_id]):
            raise
        policy = None
    purse, _subsidy = purses_of(member)
    now = timezone.now()
    request = Request(client_id=client_id, kind=TransferKind.PURCHASE,
                      legs=[Leg(purse.pk, merchant_account.pk, amount,
                                phase=TransferPhase.PENDING,
                                timeout_at=now + timedelta(seconds=timeout_seconds))],
                      compare={"amount": amount, "kind": TransferKind.PURCHASE,
                               "phase": TransferPhase.PENDING, "debit_account": purse.pk,
                               "credit_account": merchant_account.pk},
                      actor_id=getattr(_person(actor), "pk", None), terminal_code=terminal_code,
                      spend=(purse.pk, amount, timezone.localdate(now),
                             policy.daily_limit if policy else None))
    return _submit(member.group_customer_id, request)


def settle_hold(*, actor=None, pending, client_id, amount=None, void=False, now=None):
    """Post (for at most the held amount; ``None``: all of it) or void a hold."""
    client_id = _client_id(client_id)
    if pending.phase != TransferPhase.PENDING:
        raise InvalidInput({"pending": [_("This transfer is not a hold.")]})
    if amount is not None:
        amount = _amount(amount, allow_zero=True)
    phase = TransferPhase.VOID_PENDING if void else TransferPhase.POST_PENDING
    moved = 0 if void else (pending.amount if amount is None else amount)
    request = Request(client_id=client_id, kind=pending.kind,
                      legs=[Leg(pending.debit_account_id, pending.credit_account_id,
                                None if void else amount, phase=phase, pending=pending)],
                      compare={"amount": moved, "phase": phase, "kind": pending.kind,
                               "pending": pending.pk},
                      actor_id=getattr(_person(actor), "pk", None))
    return _submit(pending.group_customer_id, request, now=now)


def expire_holds(*, now=None):
    """Void every hold whose timeout has passed (client id ``expire:<hold id>``)."""
    now = now or timezone.now()
    settled = Transfer.objects.filter(pending__isnull=False).values("pending_id")
    due = Transfer.objects.filter(phase=TransferPhase.PENDING, timeout_at__lte=now).exclude(
        pk__in=settled)
    return [settle_hold(pending=p, client_id=f"expire:{p.pk}", void=True, now=now)
            for p in due]


# --- Offline purchases (the terminal gateway's batch upload) ----------------------------------


def ingest_offline_purchases(*, group_customer_id, merchant_account, records,
                             terminal_code=""):
    """Post a terminal's batch of offline purchases; one ``Result`` per record.

    Each record is a dict: ``client_id``, ``member`` (a Member), ``amount``, ``created_at``,
    ``card_number`` and optionally ``flagged`` (True: the card was already denied when the
    batch arrived; the amount is charged to the customer's offline-overdraft receivable, not
    the member's purses, so the merchant is paid and the money is never lost; same client-id
    idempotency). Offline purchases may take a purse below zero down to its overdraft limit;
    the per-transaction and daily offline limits of the member's category apply. A record that
    cannot post is ``rejected:<rule>`` and the rest still post. Atomic: the batch commits
    whole (the results of records refused stay refused).
    """
    if merchant_account.group_customer_id != group_customer_id:
        raise InvalidInput({"merchant_account": [_("Unknown merchant account.")]})
    with hot_cursor() as cursor:  # hand-written: the ORM cost more than the query
        cursor.execute("SELECT category, offline_per_transaction_limit, offline_daily_limit "
                       "FROM wallet_spendingpolicy WHERE group_customer_id = %s",
                       [group_customer_id])
        policies = {row[0]: row[1:] for row in cursor.fetchall()}
    # A record with ``flagged=True`` (a card already denied when the batch arrived) is charged
    # to the customer's offline-overdraft receivable instead of the member's purses.
    flagged = any(r.get("flagged") for r in records)
    overdraft = (customer_account(group_customer_id, AccountKind.OFFLINE_OVERDRAFT).pk
                 if flagged else None)
    in_database = (OFFLINE_IN_DATABASE and not flagged and connection.vendor == "postgresql")
    for _attempt in range(3):
        try:
            with transaction.atomic():
                results = (_ingest_in_database(group_customer_id, merchant_account, records,
                                               policies, terminal_code)
                           if in_database else None)
                if results is None:
                    results = _ingest_through_engine(group_customer_id, merchant_account,
                                                     records, policies, terminal_code,
                                                     overdraft)
            return results
        except ledger.ClientIdRace:
            continue  # another upload of the same records committed first: look again
    raise Conflict(_("This batch keeps racing another upload; send it again."),
                   code="ledger_busy")


def _ingest_through_engine(group_customer_id, merchant_account, records, policies,
                           terminal_code, overdraft):
    # One statement finds and locks every purse of the batch and the merchant.
    locked = ledger.lock_purses_and(
        sorted({r["member"].pk for r in records}),
        [merchant_account.pk] + ([overdraft] if overdraft else []))
    purses = {(a.member_id, a.kind): a.pk for a in locked.values() if a.member_id}
    requests, early = _offline_requests(records, purses, policies, merchant_account,
                                        terminal_code, overdraft)
    posted = ledger.post(group_customer_id, [r for _i, r in requests], batch=True,
                         locked=locked)
    by_index = dict(zip([i for i, _r in requests], posted, strict=True))
    by_index.update(early)
    return [by_index[i] for i in range(len(records))]


# On PostgreSQL a batch whose every record posts is ONE statement: ``wallet_ingest_offline``
# (migration 0008) applies the engine's rules on the server; any other batch (a refusal, a
# retry, a flagged record) falls back to the engine, which writes nothing twice. Tests switch it
# off to compare both paths on the same database.
OFFLINE_IN_DATABASE = True
OFFLINE_SQL = ("SELECT * FROM wallet_ingest_offline(%s, %s, %s, %s, %b::text[], %b::bigint[], "
               "%b::bigint[], %b::timestamptz[], %b::text[], %b::date[], %b::bigint[])")


def _ingest_in_database(group_customer_id, merchant_account, records, policies, terminal_code):
    """The batch's results if ``wallet_ingest_offline`` posted all of it, else None (nothing
    written). Records ``_offline_refusal`` refuses never reach the database."""
    zone, now = timezone.get_current_timezone(), timezone.now()
    early, columns = {}, ([], [], [], [], [], [], [])
    client_ids, members, amounts, created, cards, days, dailies = columns
    for index, record in enumerate(records):
        refusal = _offline_refusal(record, policies)
        if refusal is not None:
            early[index] = refusal
            continue
        member, created_at = record["member"], record.get("created_at")
        client_ids.append(record["client_id"])
        members.append(member.pk)
        amounts.append(record["amount"])
        created.append(created_at)
        cards.append(record.get("card_number", ""))
        days.append(_business_day(created_at or now, zone))
        dailies.append(policies.get(member.category, (None, None))[1])
    if not client_ids:
        return None
    with hot_cursor() as cursor:
        cursor.execute(OFFLINE_SQL, [group_customer_id, merchant_account.pk, terminal_code, now,
                                     *columns])
        outcome, *stored = cursor.fetchone()
    if outcome == "race":
        raise ledger.ClientIdRace()
    if outcome != "ok":
        return None
    legs = {}
    for client_id, leg, pk, debit_id, amount in zip(*stored, strict=True):
        legs.setdefault(client_id, []).append((leg, pk, debit_id, amount))
    results, position = [], 0
    for index, record in enumerate(records):
        if index in early:
            results.append(early[index])
            continue
        created_at = created[position] or now
        position += 1
        results.append(ledger.Result(record["client_id"], "ok", [
            ledger.transfer_of((
                pk, group_customer_id, record["client_id"], leg, debit_id, merchant_account.pk,
                amount, TransferKind.PURCHASE, TransferPhase.POSTED, None, None, None, None,
                terminal_code, record.get("card_number", ""), True, "", created_at))
            for leg, pk, debit_id, amount in sorted(legs[record["client_id"]])]))
    return results


def _business_day(moment, zone):
    """``timezone.localdate(moment)`` with the zone looked up once by the caller."""
    return moment.astimezone(zone).date() if moment.tzinfo is not None else (
        timezone.localdate(moment))


def _offline_refusal(record, policies):
    """The ``Result`` of a record refused before any account is read, or None."""
    member, amount, client_id = record["member"], record["amount"], record["client_id"]
    try:
        _client_id(client_id)
    except InvalidInput:
        return ledger.Result(str(client_id)[:64], "rejected:bad_client_id")
    try:
        fen(amount)
    except ValueError:
        return ledger.Result(client_id, "rejected:bad_amount")
    per_transaction = policies.get(member.category, (None, None))[0]
    if per_transaction is not None and amount > per_transaction:
        return ledger.Result(client_id, f"rejected:{Refusal.OFFLINE_LIMIT}")
    return None


def _offline_requests(records, purses, policies, merchant_account, terminal_code,
                      overdraft=None):
    requests, early = [], {}
    # The business day of each record, in the current time zone (read once per batch).
    zone, now = timezone.get_current_timezone(), timezone.now()
    for index, record in enumerate(records):
        refusal = _offline_refusal(record, policies)
        if refusal is not None:
            early[index] = refusal
            continue
        member, amount = record["member"], record["amount"]
        daily = policies.get(member.category, (None, None))[1]
        if record.get("flagged"):
            requests.append((index, Request(
                client_id=record["client_id"], kind=TransferKind.PURCHASE,
                legs=[Leg(overdraft, merchant_account.pk, amount)],
                compare={"amount": amount, "kind": TransferKind.PURCHASE,
                         "phase": TransferPhase.POSTED, "debit_account": overdraft,
                         "credit_account": merchant_account.pk},
                terminal_code=terminal_code, card_number=record.get("card_number", ""),
                offline=True, created_at=record.get("created_at"),
                memo=f"flagged:member {member.pk}",
            )))
            continue
        purse = purses.get((member.pk, AccountKind.MEMBER_PURSE))
        subsidy = purses.get((member.pk, AccountKind.SUBSIDY_PURSE))
        if purse is None or subsidy is None:
            early[index] = ledger.Result(record["client_id"], "rejected:no_purse")
            continue
        created_at = record.get("created_at")
        requests.append((index, Request(
            client_id=record["client_id"], kind=TransferKind.PURCHASE,
            legs=[Leg(subsidy, merchant_account.pk, amount, balancing=True),
                  Leg(purse, merchant_account.pk, None, rest_of=amount, offline_floor=True)],
            compare={"amount": amount, "kind": TransferKind.PURCHASE,
                     "phase": TransferPhase.POSTED, "payer": member.pk,
                     "credit_account": merchant_account.pk},
            terminal_code=terminal_code, card_number=record.get("card_number", ""),
            offline=True, created_at=created_at,
            spend=(purse, amount, _business_day(created_at or now, zone), daily),
        )))
    return requests, early


__all__ = [
    "IdempotencyConflict", "LedgerRefused", "charge_fee", "create_merchant", "deregister_purses",
    "expire_holds", "expire_subsidies", "grant_subsidy", "hold", "ingest_offline_purchases",
    "move_balance", "open_cash_drawer", "open_ledger", "open_merchant_terminal_account",
    "open_purses", "open_purses_for_customer", "pay_out_merchant", "purchase", "refund_purchase",
    "reverse_transfer", "set_overdraft_limit", "set_spending_policy", "settle_hold", "top_up",
]
