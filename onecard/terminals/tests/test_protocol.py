"""The terminal protocol end to end: enrolment, authentication refusals, online calls.

Every refusal asserts that nothing changed (transfers, punches, the terminal's sequence) and
that the refusal was counted on the terminal. Requests go through the production entry point
(``onecard.wsgi.application``: the gateway); ``test_gateway.py`` compares it with the DRF views.
"""

import json
import time
from datetime import timedelta

import pytest
from django.utils import timezone

from onecard.cards.actions import lifecycle
from onecard.terminals import actions
from onecard.terminals.models import AttendancePunch, EnrolmentCode, Terminal
from onecard.terminals.protocol.signing import TerminalClient, enrol
from onecard.wallet.models import Transfer

from .conftest import BASE, WsgiSession


def snapshot():
    return (Transfer.objects.count(), AttendancePunch.objects.count(),
            sorted(Terminal.objects.values_list("pk", "last_sequence", "state")))


def failures(terminal):
    t = Terminal.objects.get(pk=terminal.pk)
    return (t.failures_device_disabled, t.failures_stale_timestamp,
            t.failures_replayed_sequence, t.failures_bad_signature)


# --- Enrolment -------------------------------------------------------------------------------


def test_enrolment_code_works_once(world, fleet):
    registered = actions.register_terminal(actor=world.ent_admin_a,
                                           group_customer=world.customer_a,
                                           kind="door_controller", name="Back door")
    status, body = enrol(BASE, registered.enrolment_code, "SN-9", "2.0", session=WsgiSession())
    assert status == 200
    assert body["device_id"] == registered.terminal.device_id
    assert len(body["secret"]) == 64 and body["kind"] == "door_controller"
    terminal = Terminal.objects.get(pk=registered.terminal.pk)
    assert (terminal.state, terminal.serial, terminal.firmware) == ("active", "SN-9", "2.0")
    assert body["secret"] not in terminal.secret_box  # stored sealed, not plain
    status, again = enrol(BASE, registered.enrolment_code, "SN-9", "2.0", session=WsgiSession())
    assert (status, again["error"]) == (403, "enrolment_code_invalid")


def test_expired_and_unknown_codes_are_refused_alike(world, fleet):
    registered = actions.register_terminal(actor=world.ent_admin_a,
                                           group_customer=world.customer_a,
                                           kind="attendance_clock", name="Clock 2")
    EnrolmentCode.objects.filter(terminal=registered.terminal).update(
        expires_at=timezone.now() - timedelta(seconds=1))
    before = snapshot()
    for code in (registered.enrolment_code, "NOSUCHCODE", ""):
        status, body = enrol(BASE, code, "SN", "1", session=WsgiSession())
        assert (status, body["error"]) == (403, "enrolment_code_invalid")
    assert snapshot() == before
    assert Terminal.objects.get(pk=registered.terminal.pk).state == "pending"


# --- Authentication refusals --------------------------------------------------------------------


def test_forged_signature_is_refused_and_counted(fleet):
    pos = fleet.terminals["pos"]
    forger = TerminalClient(BASE, pos.device_id, "ab" * 32, session=WsgiSession())
    before = snapshot()
    status, body = forger.call("POST", "purchases", {"client_id": "f-1", "amount": 100,
                                                     "card_number": fleet.cards.a0.number})
    assert (status, body["error"]) == (401, "bad_signature")
    assert snapshot() == before
    assert failures(pos) == (0, 0, 0, 1)


def test_replayed_and_lower_sequences_are_refused(fleet):
    client, pos = fleet.client("pos"), fleet.terminals["pos"]
    status, _body = client.call("GET", "time", sequence=1000)
    assert status == 200
    before = snapshot()
    for sequence in (1000, 999):
        status, body = client.call("GET", "time", sequence=sequence)
        assert (status, body["error"]) == (401, "replayed_sequence")
    assert snapshot() == before
    assert failures(pos) == (0, 0, 2, 0)
    assert client.call("GET", "time", sequence=1001)[0] == 200


def test_stale_timestamps_are_refused(fleet):
    client, pos = fleet.client("pos"), fleet.terminals["pos"]
    before = snapshot()
    for offset in (-301, 301):
        status, body = client.call("GET", "time", timestamp=int(time.time()) + offset)
        assert (status, body["error"]) == (401, "stale_timestamp")
    assert snapshot() == before
    assert failures(pos) == (0, 2, 0, 0)
    assert client.call("GET", "time", timestamp=int(time.time()) - 290)[0] == 200


def test_unknown_device_is_refused(fleet):
    stranger = TerminalClient(BASE, "T-NOSUCH", "00" * 32, session=WsgiSession())
    before = snapshot()
    status, body = stranger.call("GET", "time")
    assert (status, body["error"]) == (401, "unknown_device")
    assert snapshot() == before


def test_disabled_device_is_refused_until_enabled(world, fleet):
    client, pos = fleet.client("pos"), fleet.terminals["pos"]
    actions.disable_terminal(actor=world.ent_admin_a, terminal=pos, reason="stolen")
    before = snapshot()
    status, body = client.call("POST", "purchases", {"client_id": "d-1", "amount": 100,
                                                     "card_number": fleet.cards.a0.number})
    assert (status, body["error"]) == (403, "device_disabled")
    assert snapshot() == before
    assert failures(pos) == (1, 0, 0, 0)
    actions.enable_terminal(actor=world.ent_admin_a, terminal=pos)
    assert client.call("GET", "time")[0] == 200


def test_rotated_secret_replaces_the_old_one(world, fleet):
    client, pos = fleet.client("pos"), fleet.terminals["pos"]
    rotated = actions.rotate_secret(actor=world.ent_admin_a, terminal=pos)
    assert client.call("GET", "time")[1]["error"] == "bad_signature"
    fresh = TerminalClient(BASE, pos.device_id, rotated.secret, session=WsgiSession())
    assert fresh.call("GET", "time")[0] == 200


def test_missing_headers_are_a_bad_request(fleet):
    response = WsgiSession().request("GET", BASE + "/time")
    assert response.status_code == 400
    assert json.loads(response.content)["error"] == "auth_missing"


def test_wrong_terminal_kind_is_refused(fleet):
    before = snapshot()
    status, body = fleet.client("door_controller").call(
        "POST", "purchases", {"client_id": "k-1", "amount": 100,
                              "card_number": fleet.cards.a0.number})
    assert (status, body["error"]) == (403, "wrong_terminal_kind")
    status, body = fleet.client("pos").call("POST", "access", {
        "card_number": fleet.cards.a0.number, "direction": "in"})
    assert (status, body["error"]) == (403, "wrong_terminal_kind")
    assert snapshot()[:2] == before[:2]


@pytest.mark.parametrize("body, field", [
    ({"client_id": "b-1", "amount": 0, "card_number": "1"}, "amount"),
    ({"client_id": "b-1", "amount": "5", "card_number": "1"}, "amount"),
    ({"client_id": "", "amount": 5, "card_number": "1"}, "client_id"),
    ({"client_id": "b-1", "amount": 5}, "card_number"),
    ({"client_id": "b-1", "amount": 5, "card_number": "1", "pin_verified": "yes"},
     "pin_verified"),
])
def test_bad_purchase_bodies_name_the_field(fleet, body, field):
    before = snapshot()
    status, answer = fleet.client("pos").call("POST", "purchases", body)
    assert (status, answer["error"], answer["field"]) == (400, "bad_request", field)
    assert snapshot()[:2] == before[:2]


def test_non_json_body_is_a_bad_request(fleet):
    client = fleet.client("pos")
    session = client.session
    from onecard.terminals.protocol.signing import signed_headers

    raw = b"[1, 2"
    headers = signed_headers(client.device_id, client.secret_hex, "POST",
                             "/terminal/v1/purchases", int(time.time()),
                             client.next_sequence(), raw)
    response = session.request("POST", BASE + "/purchases", data=raw, headers=headers)
    assert response.status_code == 400
    assert json.loads(response.content)["error"] == "bad_request"


def test_a_failed_call_uses_up_its_sequence(fleet):
    # The sequence commits with the call's work; a call that fails still records it, so the
    # same signed request cannot be sent again later, when it might succeed.
    client, pos = fleet.client("pos"), fleet.terminals["pos"]
    status, answer = client.call("POST", "purchases", {"client_id": "s-1", "amount": 0,
                                                       "card_number": "1"}, sequence=5000)
    assert (status, answer["error"]) == (400, "bad_request")
    assert Terminal.objects.get(pk=pos.pk).last_sequence == 5000
    before = snapshot()
    status, answer = client.call("POST", "purchases", {"client_id": "s-1", "amount": 0,
                                                       "card_number": "1"}, sequence=5000)
    assert (status, answer["error"]) == (401, "replayed_sequence")
    assert snapshot() == before
    assert failures(pos) == (0, 0, 1, 0)


# --- Online calls --------------------------------------------------------------------------------


def test_purchase_is_approved_once_and_replayed(world, fleet):
    fleet.books.top_up(world.members_a[0], 5000)
    client = fleet.client("pos")
    body = {"client_id": "p-1", "amount": 1200, "card_number": fleet.cards.a0.number}
    status, first = client.call("POST", "purchases", body)
    assert status == 200
    assert first == {"result": "approved", "client_id": "p-1", "amount": 1200,
                     "balance_after": 3800, "subsidy_balance_after": 0, "subsidy_used": 0,
                     "purse_used": 1200}
    count = Transfer.objects.count()
    status, again = client.call("POST", "purchases", body)
    assert again == {**first, "replayed": True}
    assert Transfer.objects.count() == count
    status, other = client.call("POST", "purchases", {**body, "amount": 1300})
    assert other == {"result": "refused", "reason": "exists_with_different_amount",
                     "client_id": "p-1"}
    transfer = Transfer.objects.get(client_id="p-1")
    assert transfer.terminal_code == fleet.terminals["pos"].device_id
    assert transfer.credit_account_id == fleet.terminals["pos"].merchant_account_id


@pytest.mark.parametrize("amount, reason", [
    (20001, "limit_per_transaction"), (10000, "pin_required"), (6000, "insufficient_funds")])
def test_purchase_refusals_name_the_rule(world, fleet, amount, reason):
    fleet.books.top_up(world.members_a[0], 5000)
    before = snapshot()
    status, body = fleet.client("pos").call("POST", "purchases", {
        "client_id": f"r-{amount}", "amount": amount, "card_number": fleet.cards.a0.number})
    assert (status, body["result"], body["reason"]) == (200, "refused", reason)
    assert snapshot()[:2] == before[:2]


def test_lost_card_is_refused_by_the_very_next_request(world, fleet):
    fleet.books.top_up(world.members_a[0], 5000)
    client = fleet.client("pos")
    card = fleet.cards.a0.number
    assert client.call("POST", "purchases", {"client_id": "l-1", "amount": 100,
                                             "card_number": card})[1]["result"] == "approved"
    lifecycle.report_card_lost(actor=world.ent_admin_a, card=fleet.cards.a0)
    before = snapshot()
    status, body = client.call("POST", "purchases", {"client_id": "l-2", "amount": 100,
                                                     "card_number": card})
    assert body == {"result": "refused", "reason": "card_lost", "client_id": "l-2"}
    assert snapshot()[:2] == before[:2]
    # A retry of the purchase that went through before the report still answers with it.
    assert client.call("POST", "purchases", {"client_id": "l-1", "amount": 100,
                                             "card_number": card})[1]["replayed"] is True
    door = fleet.client("door_controller")
    assert door.call("POST", "access", {"card_number": card, "direction": "in"})[1] == {
        "decision": "deny", "reason": "card_lost"}


def test_unknown_and_other_customers_cards_are_unknown(fleet):
    client = fleet.client("pos")
    for number in ("0000", fleet.cards.b0.number):
        status, body = client.call("POST", "purchases", {"client_id": f"u-{number}",
                                                         "amount": 100, "card_number": number})
        assert (body["result"], body["reason"]) == ("refused", "unknown_card")


def test_top_up_and_balance(world, fleet):
    status, body = fleet.client("top_up").call("POST", "top-ups", {
        "client_id": "t-1", "amount": 3000, "card_number": fleet.cards.a0.number})
    assert body == {"result": "approved", "client_id": "t-1", "amount": 3000,
                    "balance_after": 3000}
    transfer = Transfer.objects.get(client_id="t-1")
    assert transfer.debit_account_id == fleet.terminals["top_up"].cash_drawer_id
    status, body = fleet.client("pos").call("POST", "balance",
                                            {"card_number": fleet.cards.a0.number})
    assert body == {"card_number": fleet.cards.a0.number, "balance": 3000,
                    "subsidy_balance": 0}


def test_access_decision(fleet):
    door = fleet.client("door_controller")
    assert door.call("POST", "access", {"card_number": fleet.cards.a0.number,
                                        "direction": "in"})[1] == {
        "decision": "allow", "reason": "card_active"}
    assert door.call("POST", "access", {"card_number": "nope", "direction": "out"})[1] == {
        "decision": "deny", "reason": "unknown_card"}
    status, body = door.call("POST", "access", {"card_number": "x", "direction": "up"})
    assert (status, body["field"]) == (400, "direction")


def test_punches_are_stored_once(fleet):
    clock = fleet.client("attendance_clock")
    body = {"client_id": "c-1", "card_number": fleet.cards.a0.number,
            "punched_at": "2026-11-25T08:59:00+08:00"}
    assert clock.call("POST", "punches", body)[1] == {"result": "stored"}
    assert clock.call("POST", "punches", body)[1] == {"result": "exists"}
    assert clock.call("POST", "punches", {**body, "punched_at": "2026-11-25T09:00:00+08:00"})[
        1] == {"result": "exists_with_different_punched_at"}
    punch = AttendancePunch.objects.get()
    assert (punch.member_id, punch.card_number) == (fleet.cards.a0.member_id,
                                                    fleet.cards.a0.number)
    status, body = clock.call("POST", "punches", {**body, "punched_at": "2026-11-25 09:00"})
    assert (status, body["field"]) == (400, "punched_at")


def test_heartbeat_time_and_lookup(fleet):
    pos = fleet.client("pos")
    clock = (timezone.now() + timedelta(seconds=42)).isoformat()
    status, body = pos.call("POST", "heartbeat", {"firmware": "1.2.3", "clock": clock,
                                                  "state": "ok"})
    assert status == 200 and body["clock_skew_seconds"] in (41, 42)
    from onecard.cards.credentials import current_version

    assert body["credential_version"] == current_version(fleet.terminals["pos"].group_customer_id)
    terminal = Terminal.objects.get(pk=fleet.terminals["pos"].pk)
    assert (terminal.firmware, terminal.clock_skew_seconds) == ("1.2.3", body["clock_skew_seconds"])
    assert terminal.last_seen_at is not None
    assert "server_time" in pos.call("GET", "time")[1]
    status, body = pos.call("POST", "cards/lookup", {"card_number": fleet.cards.a0.number})
    assert body == {"card_number": fleet.cards.a0.number, "status": "active", "accepted": True,
                    "applications": ["access", "attendance", "identity", "purse"],
                    "member_name": "M" + "*" * (len("Member a0") - 1)}
