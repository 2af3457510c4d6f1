"""Card actions: stock (see actions/__init__.py).

Cards enter the platform here: received into a branch's inventory (blank, or pre-prepared 备卡),
assigned to a group customer for its card swap day, returned to stock, scrapped.

Invariants:
- Only operator staff who keep stock act here: an operator admin (any branch) or a customer
  manager (their branch and the branches under it). ``actor=None`` is the system (demo, CLI).
- ``receive_cards`` is all-or-nothing: one bad or duplicate row refuses the whole batch, naming
  the row (``cards[<index>].<field>``, index from 0; the message says "Row <index + 1>").
- A card is assigned only to a group customer under its stock branch's tree.
- Every card changed writes a card event and an audit record in the same transaction.
"""

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from onecard.accounts.choices import Role
from onecard.core.errors import Conflict, InvalidInput, NotAllowed
from onecard.core.locks import lock_many
from onecard.organizations.choices import GroupCustomerStatus

from ..choices import CardEventKind, CardMedium, CardStatus, ChipType
from ..models import Card
from ..validation import clean_card_serial, clean_iccid, clean_imsi, clean_uid
from ._shared import lock_card, record, transition

__all__ = ["MAX_BATCH", "STOCK_ROLES", "assign_cards", "may_keep_stock", "receive_cards",
           "return_cards", "scrap_card"]

# Roles that keep card stock.
STOCK_ROLES = {Role.OPERATOR_ADMIN, Role.CUSTOMER_MANAGER}
# The most cards one receipt (or one assignment) may carry.
MAX_BATCH = 2000
# Statuses from which a card may be scrapped.
SCRAPPABLE = (CardStatus.IN_STOCK, CardStatus.ASSIGNED, CardStatus.REPLACED,
              CardStatus.DEREGISTERED)
MAX_REASON = 500

RFID_SIM_FIELDS = {"number", "iccid", "imsi"}
IC_CARD_FIELDS = {"number", "chip_type"}


def may_keep_stock(actor, branch):
    """True if ``actor`` may change stock held by ``branch``."""
    if actor is None:
        return True
    if not getattr(actor, "is_active", False) or getattr(actor, "role", None) not in STOCK_ROLES:
        return False
    if actor.role == Role.OPERATOR_ADMIN:
        return True
    own = actor.branch
    return own is not None and branch.path.startswith(own.path)


def _require_stock_keeper(actor, branch):
    if actor is not None and getattr(actor, "role", None) not in STOCK_ROLES:
        raise NotAllowed(_("Only an operator admin or a customer manager keeps card stock."))
    if not may_keep_stock(actor, branch):
        raise NotAllowed(_("You may only handle card stock of your branch and the branches "
                           "under it."))


def _row_error(index, field, message):
    return InvalidInput({f"cards[{index}].{field}": [
        _("Row %(row)s: %(message)s") % {"row": index + 1, "message": message}]})


def _clean_row(index, row, medium):
    """Validate one row of a receipt; return the Card (unsaved) or raise naming the row."""
    if not isinstance(row, dict):
        raise _row_error(index, "number", _("Each row is an object with the card's numbers."))
    allowed = RFID_SIM_FIELDS if medium == CardMedium.RFID_SIM else IC_CARD_FIELDS
    for name in sorted(str(key)[:40] for key in set(row) - allowed):
        raise _row_error(index, name, _("Unknown field for this medium."))
    for name in sorted(allowed - set(row)):
        raise _row_error(index, name, _("This field is required."))
    try:
        if medium == CardMedium.RFID_SIM:
            return Card(medium=medium, number=clean_card_serial(row["number"]),
                        iccid=clean_iccid(row["iccid"]), imsi=clean_imsi(row["imsi"]))
        number = clean_uid(row["number"])
        chip_type = row["chip_type"]
        if not isinstance(chip_type, str) or chip_type.strip().lower() not in ChipType.values:
            raise InvalidInput({"chip_type": [_("Choose M1 or CPU.")]})
        return Card(medium=medium, number=number, chip_type=chip_type.strip().lower())
    except InvalidInput as error:
        raise _row_error(index, error.field, error.message) from None


def _refuse_duplicates(cards):
    """Refuse a number, ICCID or IMSI that appears twice in the batch or is already stored."""
    labels = {"number": _("card number"), "iccid": _("ICCID"), "imsi": _("IMSI")}
    for field in ("number", "iccid", "imsi"):
        first_row = {}
        for index, card in enumerate(cards):
            value = getattr(card, field)
            if not value:
                continue
            if value in first_row:
                raise Conflict(
                    _("Row %(row)s: this %(field)s is also on row %(other)s.")
                    % {"row": index + 1, "field": labels[field], "other": first_row[value] + 1},
                    field=f"cards[{index}].{field}", code=f"duplicate_{field}")
            first_row[value] = index
        if not first_row:
            continue
        stored = set(Card.objects.filter(**{f"{field}__in": list(first_row)})
                     .values_list(field, flat=True))
        for index, card in enumerate(cards):
            if getattr(card, field) in stored:
                raise Conflict(
                    _("Row %(row)s: another card already has this %(field)s.")
                    % {"row": index + 1, "field": labels[field]},
                    field=f"cards[{index}].{field}", code=f"duplicate_{field}")


@transaction.atomic
def receive_cards(*, actor, branch, medium, cards, prepared=False):
    """Receive a batch of new cards into ``branch``'s stock (status IN_STOCK); return them.

    ``cards`` is a list of dicts: ``{"number", "iccid", "imsi"}`` for RFID-SIM cards (19-digit
    serial and ICCID with Luhn check digits, 15-digit IMSI) or ``{"number", "chip_type"}`` for IC
    cards (UID of 8, 14 or 20 hex characters, stored upper-case; chip type ``m1`` or ``cpu``).
    All or nothing: any bad or duplicate row refuses the batch and nothing is stored.
    """
    if medium not in CardMedium.values:
        raise InvalidInput({"medium": [_("Choose RFID-SIM card or IC card.")]})
    if not isinstance(prepared, bool):
        raise InvalidInput({"prepared": [_("Enter true or false.")]})
    if not isinstance(cards, (list, tuple)) or not cards:
        raise InvalidInput({"cards": [_("Enter at least one card.")]})
    if len(cards) > MAX_BATCH:
        raise InvalidInput({"cards": [_("At most %(count)s cards per receipt.")
                                      % {"count": MAX_BATCH}]})
    _require_stock_keeper(actor, branch)
    new_cards = [_clean_row(index, row, medium) for index, row in enumerate(cards)]
    _refuse_duplicates(new_cards)
    for card in new_cards:
        card.branch = branch
        card.prepared = prepared
        card.status = CardStatus.IN_STOCK
    try:
        with transaction.atomic():
            created = Card.objects.bulk_create(new_cards)
    except IntegrityError:
        # Lost a race with another receipt of the same numbers: the constraints had the last word.
        raise Conflict(_("Another receipt stored one of these cards at the same time; "
                         "try again."), field="cards", code="duplicate_card") from None
    if any(card.pk is None for card in created):  # pragma: no cover - old SQLite only
        created = list(Card.objects.filter(number__in=[c.number for c in new_cards]))
    for card in created:
        record(card, CardEventKind.RECEIVED, actor=actor, to_status=CardStatus.IN_STOCK,
               detail={"branch": branch.pk, "prepared": prepared},
               audit_action="card.received")
    return created


def _card_ids(cards):
    if not isinstance(cards, (list, tuple)) or not cards:
        raise InvalidInput({"cards": [_("Choose at least one card.")]})
    if len(cards) > MAX_BATCH:
        raise InvalidInput({"cards": [_("At most %(count)s cards at once.")
                                      % {"count": MAX_BATCH}]})
    return [getattr(card, "pk", card) for card in cards]


def _lock_all(cards):
    ids = _card_ids(cards)
    locked = lock_many(Card.objects.select_related("branch"), ids)
    missing = [pk for pk in ids if pk not in locked]
    if missing:
        raise InvalidInput({"cards": [_("Unknown card: %(id)s.") % {"id": missing[0]}]})
    return [locked[pk] for pk in sorted(locked)]


@transaction.atomic
def assign_cards(*, actor, cards, group_customer):
    """Hand stock cards to ``group_customer`` for its card swap (IN_STOCK → ASSIGNED).

    Every card must be in stock at a branch whose tree contains the customer's branch, and the
    customer must not be closed or suspended. All or nothing."""
    if group_customer.status not in (GroupCustomerStatus.PENDING, GroupCustomerStatus.VERIFIED):
        raise InvalidInput({"group_customer": [
            _("Cards can only be assigned to a pending or verified group customer.")]})
    locked = _lock_all(cards)
    for card in locked:
        _require_stock_keeper(actor, card.branch)
    customer_path = group_customer.branch.path
    for card in locked:
        if card.status != CardStatus.IN_STOCK:
            raise Conflict(_("Card %(number)s is not in stock.") % {"number": card.number},
                           field="cards", code="not_in_stock")
        if not customer_path.startswith(card.branch.path):
            raise InvalidInput({"cards": [
                _("Card %(number)s is held by a branch outside this group customer's tree.")
                % {"number": card.number}]})
    for card in locked:
        transition(card, CardStatus.ASSIGNED, CardEventKind.ASSIGNED, actor=actor,
                   detail={"group_customer": group_customer.pk}, group_customer=group_customer)
    return locked


@transaction.atomic
def return_cards(*, actor, cards):
    """Take assigned, unissued cards back into their branch's stock (ASSIGNED → IN_STOCK)."""
    locked = _lock_all(cards)
    for card in locked:
        _require_stock_keeper(actor, card.branch)
    for card in locked:
        if card.status != CardStatus.ASSIGNED:
            raise Conflict(_("Card %(number)s is not assigned.") % {"number": card.number},
                           field="cards", code="not_assigned")
    for card in locked:
        previous = card.group_customer_id
        transition(card, CardStatus.IN_STOCK, CardEventKind.RETURNED, actor=actor,
                   detail={"group_customer": previous}, group_customer=None)
    return locked


@transaction.atomic
def scrap_card(*, actor, card, reason):
    """Destroy a card for good (damaged stock, or a recovered card not to be reused).

    Allowed from IN_STOCK, ASSIGNED, REPLACED and DEREGISTERED; a live card must first be
    replaced or deregistered. A reason is required."""
    if not isinstance(reason, str) or not reason.strip():
        raise InvalidInput({"reason": [_("Give the reason for scrapping.")]})
    if len(reason) > MAX_REASON:
        raise InvalidInput({"reason": [_("At most %(count)s characters.")
                                       % {"count": MAX_REASON}]})
    card = lock_card(card)
    _require_stock_keeper(actor, card.branch)
    if card.status not in SCRAPPABLE:
        raise Conflict(_("Only a card in stock, assigned, replaced or deregistered can be "
                         "scrapped; this one is “%(status)s”.")
                       % {"status": CardStatus(card.status).label},
                       field="status", code="not_scrappable")
    return transition(card, CardStatus.SCRAPPED, CardEventKind.SCRAPPED, actor=actor,
                      reason=reason.strip())


