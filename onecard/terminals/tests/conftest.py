"""Terminal fixtures: the cards world (``cards``, ``books`` from the cards tests) plus a fleet
of customer A's terminals, registered and enrolled through the real actions and protocol.

``fleet.client(kind)`` is a signing ``TerminalClient`` for one enrolled terminal, talking to
the Django test client; ``fleet.terminals[kind]`` the Terminal rows.
"""

from types import SimpleNamespace

import pytest
from django.test import Client

from onecard.cards.tests.conftest import books, cards, plans  # noqa: F401 - fixtures
from onecard.terminals import actions
from onecard.terminals.models import Terminal
from onecard.terminals.protocol.signing import TerminalClient, enrol
from onecard.wallet import actions as wallet

BASE = "http://testserver/terminal/v1"
KINDS = ("pos", "top_up", "door_controller", "attendance_clock", "issuing")


class DjangoSession:
    """What ``TerminalClient`` needs of a session, served by the Django test client."""

    def __init__(self):
        self.client = Client()

    def request(self, method, url, data=None, headers=None, timeout=None):
        headers = dict(headers or {})
        content_type = headers.pop("Content-Type", "application/json")
        path = url.split("testserver", 1)[1]
        return self.client.generic(method, path, data=data or b"", content_type=content_type,
                                   headers=headers)


def enrol_kind(world, kind, merchant=None, *, name=None):
    registered = actions.register_terminal(
        actor=world.ent_admin_a, group_customer=world.customer_a, kind=kind,
        name=name or f"{kind} 1", location="Gate 1", frequencies=["2.4ghz"],
        merchant=merchant if kind == "pos" else None)
    status, body = enrol(BASE, registered.enrolment_code, "SN-1", "1.0.0",
                         session=DjangoSession())
    assert status == 200, body
    terminal = Terminal.objects.get(pk=registered.terminal.pk)
    return terminal, TerminalClient(BASE, body["device_id"], body["secret"],
                                    session=DjangoSession())


@pytest.fixture
def fleet(world, cards, books):  # noqa: F811 - pytest fixtures by name
    merchant = wallet.create_merchant(actor=world.manager, group_customer=world.customer_a,
                                      name="Canteen", code="canteen")
    wallet.set_spending_policy(actor=world.manager, group_customer=world.customer_a,
                               category="staff", per_transaction_limit=20000, daily_limit=50000,
                               pin_threshold=10000, offline_per_transaction_limit=3000,
                               offline_daily_limit=5000)
    f = SimpleNamespace(terminals={}, clients={}, merchant=merchant, cards=cards, books=books)
    for kind in KINDS:
        f.terminals[kind], f.clients[kind] = enrol_kind(world, kind, merchant)
    f.client = f.clients.__getitem__
    return f
