"""Card fixtures, built through the real actions on top of the ``world`` fixture.

Stable for every cards test module (lifecycle, stock, provisioning, terminals):

- ``serial(n)``, ``iccid(n)``, ``imsi(n)``, ``sim_row(n)``, ``ic_row(n, chip_type)``: valid,
  distinct identifiers for card ``n`` (Luhn check digits where due).
- ``plans``: every application (identity, access, attendance, purse) enabled, no quota, for
  customers A and B.
- ``cards``: stock received (by the operator admin) at county A and county B, and one card
  issued to each of ``members_a[0]``, ``members_a[1]`` and ``members_b[0]`` (RFID-SIM, all four
  applications). Handles: ``cards.a0``, ``cards.a1``, ``cards.b0`` (issued); ``cards.stock_a``,
  ``cards.stock_b`` (RFID-SIM cards still in stock, 6 each); ``cards.ic_a`` (a CPU IC card and an
  M1 IC card in stock at county A).
- ``books``: the wallet ledger opened for A and B, purses for every member, a cash drawer each;
  ``books.top_up(member, fen)`` puts money on a purse.
"""

from types import SimpleNamespace

import pytest

from onecard.cards.actions import lifecycle, provisioning, stock
from onecard.cards.choices import ApplicationKind
from onecard.cards.validation import luhn_check_digit

ALL_APPLICATIONS = [ApplicationKind.IDENTITY, ApplicationKind.ACCESS, ApplicationKind.ATTENDANCE,
                    ApplicationKind.PURSE]


def serial(n):
    body = f"898611{n:012d}"
    return body + luhn_check_digit(body)


def iccid(n):
    body = f"8986111{n:012d}"
    return body + luhn_check_digit(body)


def imsi(n):
    return f"46011{n:010d}"


def sim_row(n):
    return {"number": serial(n), "iccid": iccid(n), "imsi": imsi(n)}


def ic_row(n, chip_type="cpu"):
    return {"number": f"{0xA0000000 + n:08X}", "chip_type": chip_type}


def receive_sims(world, numbers, *, branch=None):
    return stock.receive_cards(actor=world.admin, branch=branch or world.county_a,
                               medium="rfid_sim", cards=[sim_row(n) for n in numbers])


def receive_ic(world, rows, *, branch=None):
    return stock.receive_cards(actor=world.admin, branch=branch or world.county_a,
                               medium="ic_card", cards=rows)


@pytest.fixture
def plans(world):
    for customer in (world.customer_a, world.customer_b):
        for kind in ALL_APPLICATIONS:
            provisioning.set_application_plan(actor=world.admin, group_customer=customer,
                                              kind=kind, enabled=True)
    return ALL_APPLICATIONS


@pytest.fixture
def cards(world, plans):
    stock_a = receive_sims(world, range(1, 9), branch=world.county_a)
    stock_b = receive_sims(world, range(101, 108), branch=world.county_b)
    ic_a = receive_ic(world, [ic_row(1, "cpu"), ic_row(2, "m1")], branch=world.county_a)
    c = SimpleNamespace(stock_a=stock_a[2:], stock_b=stock_b[1:], ic_a=ic_a)
    c.a0 = lifecycle.issue_card(actor=world.manager, card=stock_a[0], member=world.members_a[0],
                                applications=ALL_APPLICATIONS)
    c.a1 = lifecycle.issue_card(actor=world.manager, card=stock_a[1], member=world.members_a[1],
                                applications=ALL_APPLICATIONS)
    c.b0 = lifecycle.issue_card(actor=world.manager_b, card=stock_b[0],
                                member=world.members_b[0], applications=ALL_APPLICATIONS)
    return c


@pytest.fixture
def books(world):
    from onecard.wallet import actions as wallet

    b = SimpleNamespace(drawers={})
    for customer in (world.customer_a, world.customer_b):
        wallet.open_ledger(actor=world.admin, group_customer=customer)
        wallet.open_purses_for_customer(actor=world.admin, group_customer=customer)
        b.drawers[customer.pk] = wallet.open_cash_drawer(actor=world.admin,
                                                         group_customer=customer, code="counter")
    counter = iter(range(1, 10**6))

    def top_up(member, amount):
        return wallet.top_up(actor=world.admin, member=member, amount=amount,
                             client_id=f"top-up-{next(counter)}",
                             source=b.drawers[member.group_customer_id])

    b.top_up = top_up
    return b
