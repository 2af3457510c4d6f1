"""Card stock: receive, assign, return, scrap (actions). Every refusal changes nothing."""

import pytest

from onecard.audit.models import AuditRecord
from onecard.cards.actions import stock
from onecard.cards.models import Card, CardEvent
from onecard.cards.validation import luhn_check_digit
from onecard.core.errors import Conflict, InvalidInput, NotAllowed, TransitionRefused


def serial(n):
    body = f"898600{n:012d}"
    return body + luhn_check_digit(body)


def iccid(n):
    body = f"8986001{n:012d}"
    return body + luhn_check_digit(body)


def imsi(n):
    return f"46000{n:010d}"


def sim_row(n):
    return {"number": serial(n), "iccid": iccid(n), "imsi": imsi(n)}


def state():
    """What a refusal must leave untouched."""
    return (list(Card.objects.order_by("pk").values_list("pk", "status", "group_customer_id")),
            CardEvent.objects.count(), AuditRecord.objects.count())


def receive(world, rows, *, actor=None, branch=None, medium="rfid_sim", **kwargs):
    return stock.receive_cards(actor=actor or world.admin, branch=branch or world.county_a,
                               medium=medium, cards=rows, **kwargs)


def test_receive_rfid_sim_cards_stores_them_in_stock_with_events(world):
    cards = receive(world, [sim_row(1), sim_row(2)], prepared=True)
    assert [(c.number, c.iccid, c.imsi, c.status, c.prepared, c.branch_id) for c in cards] == [
        (serial(1), iccid(1), imsi(1), "in_stock", True, world.county_a.pk),
        (serial(2), iccid(2), imsi(2), "in_stock", True, world.county_a.pk),
    ]
    events = CardEvent.objects.filter(card__in=cards)
    assert sorted(events.values_list("kind", "to_status", "actor_id")) == [
        ("received", "in_stock", world.admin.pk)] * 2
    assert AuditRecord.objects.filter(action="card.received").count() == 2


def test_receive_ic_cards_uppercases_the_uid(world):
    cards = receive(world, [{"number": "04a1b2c3", "chip_type": "m1"},
                            {"number": "04A1B2C3D4E5F6", "chip_type": "CPU"}],
                    medium="ic_card")
    assert [(c.number, c.chip_type, c.iccid, c.imsi) for c in cards] == [
        ("04A1B2C3", "m1", "", ""), ("04A1B2C3D4E5F6", "cpu", "", "")]


def test_customer_manager_receives_only_into_own_subtree(world):
    assert len(receive(world, [sim_row(1)], actor=world.manager)) == 1
    before = state()
    with pytest.raises(NotAllowed):
        receive(world, [sim_row(2)], actor=world.manager, branch=world.county_b)
    with pytest.raises(NotAllowed):
        receive(world, [sim_row(3)], actor=world.manager, branch=world.city)
    assert state() == before


@pytest.mark.parametrize("user", ["agent1", "integrator_engineer", "ent_admin_a", "member_user_a"])
def test_other_roles_may_not_receive(world, user):
    before = state()
    with pytest.raises(NotAllowed):
        receive(world, [sim_row(1)], actor=getattr(world, user))
    assert state() == before


@pytest.mark.parametrize("row, field, message", [
    ({"number": serial(5)[:-1] + str((int(serial(5)[-1]) + 1) % 10), "iccid": iccid(5),
      "imsi": imsi(5)}, "number", "Row 2: The check digit of this card number is wrong."),
    ({"number": serial(5)[:18], "iccid": iccid(5), "imsi": imsi(5)}, "number",
     "Row 2: An RFID-SIM card number has 19 digits."),
    ({"number": serial(5), "iccid": iccid(5)[:-1] + str((int(iccid(5)[-1]) + 1) % 10),
      "imsi": imsi(5)}, "iccid", "Row 2: The check digit of this ICCID is wrong."),
    ({"number": serial(5), "iccid": "8986001234", "imsi": imsi(5)}, "iccid",
     "Row 2: An ICCID has 19 or 20 digits and starts with 89."),
    ({"number": serial(5), "iccid": iccid(5), "imsi": "4600012345"}, "imsi",
     "Row 2: An IMSI has 15 digits."),
    ({"number": serial(5), "iccid": iccid(5), "imsi": 460001234567890}, "imsi",
     "Row 2: Enter the value as text."),
    ({"number": serial(5), "iccid": iccid(5)}, "imsi", "Row 2: This field is required."),
    ({**sim_row(5), "chip_type": "m1"}, "chip_type", "Row 2: Unknown field for this medium."),
])
def test_bad_rfid_sim_row_refuses_the_whole_batch(world, row, field, message):
    before = state()
    with pytest.raises(InvalidInput) as refused:
        receive(world, [sim_row(1), row])
    assert refused.value.errors == {f"cards[1].{field}": [message]}
    assert state() == before


@pytest.mark.parametrize("row, field, message", [
    ({"number": "04A1B2C", "chip_type": "m1"}, "number",
     "Row 1: An IC card UID has 8, 14 or 20 hexadecimal characters."),
    ({"number": "04A1B2CG", "chip_type": "m1"}, "number",
     "Row 1: An IC card UID has 8, 14 or 20 hexadecimal characters."),
    ({"number": "04A1B2C3", "chip_type": "desfire"}, "chip_type", "Row 1: Choose M1 or CPU."),
    ({"number": "04A1B2C3"}, "chip_type", "Row 1: This field is required."),
])
def test_bad_ic_row_is_refused(world, row, field, message):
    before = state()
    with pytest.raises(InvalidInput) as refused:
        receive(world, [row], medium="ic_card")
    assert refused.value.errors == {f"cards[0].{field}": [message]}
    assert state() == before


@pytest.mark.parametrize("field", ["number", "iccid", "imsi"])
def test_duplicate_in_batch_is_refused_naming_both_rows(world, field):
    second = sim_row(2)
    second[field] = sim_row(1)[field]
    before = state()
    with pytest.raises(Conflict) as refused:
        receive(world, [sim_row(1), second])
    assert refused.value.field == f"cards[1].{field}"
    assert refused.value.code == f"duplicate_{field}"
    assert "Row 2:" in refused.value.message and "row 1" in refused.value.message
    assert state() == before


@pytest.mark.parametrize("field", ["number", "iccid", "imsi"])
def test_duplicate_of_a_stored_card_is_refused(world, field):
    receive(world, [sim_row(1)])
    second = sim_row(2)
    second[field] = sim_row(1)[field]
    before = state()
    with pytest.raises(Conflict) as refused:
        receive(world, [sim_row(3), second])
    assert refused.value.field == f"cards[1].{field}"
    assert refused.value.message.startswith("Row 2: another card already has this")
    assert state() == before


@pytest.mark.parametrize("kwargs, field", [
    ({"cards": []}, "cards"), ({"cards": "x"}, "cards"), ({"medium": "nfc"}, "medium"),
    ({"prepared": "yes"}, "prepared"), ({"cards": [sim_row(1)] * (stock.MAX_BATCH + 1)}, "cards"),
    ({"cards": ["not a dict"]}, "cards[0].number"),
])
def test_malformed_receipt_is_refused(world, kwargs, field):
    before = state()
    arguments = {"actor": world.admin, "branch": world.county_a, "medium": "rfid_sim",
                 "cards": [sim_row(1)], **kwargs}
    with pytest.raises(InvalidInput) as refused:
        stock.receive_cards(**arguments)
    assert field in refused.value.errors
    assert state() == before


def test_assign_and_return(world):
    cards = receive(world, [sim_row(1), sim_row(2)])
    assigned = stock.assign_cards(actor=world.manager, cards=cards,
                                  group_customer=world.customer_a)
    assert [(c.status, c.group_customer_id) for c in assigned] == [
        ("assigned", world.customer_a.pk)] * 2
    returned = stock.return_cards(actor=world.manager, cards=[cards[0].pk])
    assert [(c.status, c.group_customer_id) for c in returned] == [("in_stock", None)]
    assert list(CardEvent.objects.filter(card=cards[0]).values_list("kind", flat=True)) == [
        "received", "assigned", "returned"]
    assert Card.objects.get(pk=cards[1].pk).status == "assigned"


def test_assign_refusals_change_nothing(world):
    at_a = receive(world, [sim_row(1)])
    at_b = receive(world, [sim_row(2)], branch=world.county_b)
    before = state()
    with pytest.raises(InvalidInput) as refused:  # stock of county A, customer in county B
        stock.assign_cards(actor=world.admin, cards=at_a, group_customer=world.customer_b)
    assert "outside this group customer's tree" in refused.value.message
    with pytest.raises(NotAllowed):  # manager A may not hand out county B's stock
        stock.assign_cards(actor=world.manager, cards=at_b, group_customer=world.customer_b)
    with pytest.raises(InvalidInput):
        stock.assign_cards(actor=world.admin, cards=[999999], group_customer=world.customer_a)
    with pytest.raises(InvalidInput):
        stock.assign_cards(actor=world.admin, cards=[], group_customer=world.customer_a)
    assert state() == before
    stock.assign_cards(actor=world.admin, cards=at_a, group_customer=world.customer_a)
    before = state()
    with pytest.raises(Conflict) as refused:
        stock.assign_cards(actor=world.admin, cards=at_a, group_customer=world.customer_a)
    assert refused.value.code == "not_in_stock"
    with pytest.raises(Conflict) as refused:
        stock.return_cards(actor=world.admin, cards=at_b)
    assert refused.value.code == "not_assigned"
    assert state() == before


def test_a_closed_customer_gets_no_cards(world):
    from onecard.organizations import actions as org

    cards = receive(world, [sim_row(1)])
    org.close_group_customer(actor=world.admin, group_customer=world.customer_a, reason="Ended")
    world.customer_a.refresh_from_db()
    before = state()
    with pytest.raises(InvalidInput):
        stock.assign_cards(actor=world.admin, cards=cards, group_customer=world.customer_a)
    assert state() == before


def test_scrap(world):
    card = receive(world, [sim_row(1)])[0]
    before = state()
    with pytest.raises(InvalidInput):
        stock.scrap_card(actor=world.admin, card=card, reason="  ")
    with pytest.raises(NotAllowed):
        stock.scrap_card(actor=world.manager_b, card=card, reason="Damaged")
    assert state() == before
    scrapped = stock.scrap_card(actor=world.manager, card=card, reason="Damaged")
    assert (scrapped.status, CardEvent.objects.filter(card=card).last().reason) == (
        "scrapped", "Damaged")
    before = state()
    with pytest.raises(Conflict) as refused:
        stock.scrap_card(actor=world.admin, card=card, reason="Again")
    assert refused.value.code == "not_scrappable"
    assert state() == before
    assert not issubclass(Conflict, TransitionRefused)
