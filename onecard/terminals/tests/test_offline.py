"""Offline: credential sync by cursor and batch upload of chained, MAC'd records."""

import threading

import pytest
from django.db import connection
from django.utils.dateparse import parse_datetime

from onecard.cards.actions import lifecycle
from onecard.terminals.models import OfflineRecord, Terminal, TerminalAlert
from onecard.terminals.protocol.signing import GENESIS_HASH, chain_records
from onecard.wallet.models import Account, Transfer


def purchase(seq, card, amount, client_id=None):
    return {"sequence": seq, "kind": "purchase", "client_id": client_id or f"off-{seq}",
            "card_number": card, "amount": amount, "created_at": "2026-11-25T12:00:00+08:00"}


def state():
    return (Transfer.objects.count(), OfflineRecord.objects.count(),
            sorted(Terminal.objects.values_list("pk", "offline_sequence", "offline_hash")))


def upload(client, records):
    status, body = client.call("POST", "offline-records", {"records": records})
    assert status == 200, body
    return [r["status"] for r in body["results"]], body["gaps"]


def test_batch_posts_once_and_reupload_answers_exists(world, fleet):
    fleet.books.top_up(world.members_a[0], 5000)
    client = fleet.client("pos")
    card = fleet.cards.a0.number
    records, head = chain_records(client.secret_hex, [purchase(1, card, 500),
                                                      purchase(2, card, 700)])
    assert upload(client, records) == (["ok", "ok"], [])
    terminal = Terminal.objects.get(pk=fleet.terminals["pos"].pk)
    assert (terminal.offline_sequence, terminal.offline_hash) == (2, head)
    before = state()
    assert upload(client, records) == (["exists", "exists"], [])
    assert state() == before
    purse = Account.objects.get(member=world.members_a[0], kind="member_purse")
    assert purse.balance == 3800
    changed = dict(records[1], amount=900)
    assert upload(client, [changed])[0] == ["exists_with_different_amount"]


def test_bad_mac_is_rejected_and_alerted(world, fleet):
    client = fleet.client("pos")
    records, _head = chain_records(client.secret_hex, [purchase(1, fleet.cards.a0.number, 100)])
    records[0]["mac"] = "0" * 64
    before = state()
    assert upload(client, records)[0] == ["rejected:bad_mac"]
    assert state() == before
    assert TerminalAlert.objects.get().kind == "bad_mac"


def test_forged_field_breaks_the_mac(world, fleet):
    client = fleet.client("pos")
    records, _head = chain_records(client.secret_hex, [purchase(1, fleet.cards.a0.number, 100)])
    records[0]["amount"] = 1  # changed after signing
    before = state()
    assert upload(client, records)[0] == ["rejected:bad_mac"]
    assert state() == before


def test_broken_chain_is_rejected(world, fleet):
    fleet.books.top_up(world.members_a[0], 5000)
    client = fleet.client("pos")
    card = fleet.cards.a0.number
    first, head = chain_records(client.secret_hex, [purchase(1, card, 100)])
    assert upload(client, first)[0] == ["ok"]
    forged, _ = chain_records(client.secret_hex, [purchase(2, card, 100)], prev_hash="f" * 64)
    before = state()
    assert upload(client, forged)[0] == ["rejected:broken_chain"]
    assert state() == before
    assert TerminalAlert.objects.get().kind == "broken_chain"
    good, _ = chain_records(client.secret_hex, [purchase(2, card, 100)], prev_hash=head)
    assert upload(client, good)[0] == ["ok"]


def test_first_record_must_start_from_genesis(fleet):
    client = fleet.client("pos")
    records, _ = chain_records(client.secret_hex, [purchase(1, fleet.cards.a0.number, 100)],
                               prev_hash="a" * 64)
    assert upload(client, records)[0] == ["rejected:broken_chain"]


def test_sequence_gap_is_recorded_as_an_alert(world, fleet):
    fleet.books.top_up(world.members_a[0], 5000)
    client = fleet.client("pos")
    card = fleet.cards.a0.number
    first, head = chain_records(client.secret_hex, [purchase(1, card, 100)])
    upload(client, first)
    later, _ = chain_records(client.secret_hex, [purchase(5, card, 100)], prev_hash="1" * 64)
    statuses, gaps = upload(client, later)
    assert (statuses, gaps) == (["ok"], [[2, 4]])
    alert = TerminalAlert.objects.get()
    assert (alert.kind, alert.first_sequence, alert.last_sequence) == ("sequence_gap", 2, 4)


def test_over_limit_offline_purchase_is_rejected(world, fleet):
    fleet.books.top_up(world.members_a[0], 50000)
    client = fleet.client("pos")
    records, _ = chain_records(client.secret_hex, [
        purchase(1, fleet.cards.a0.number, 3001), purchase(2, fleet.cards.a0.number, 3000)])
    transfers = Transfer.objects.count()
    assert upload(client, records)[0] == ["rejected:offline_limit", "ok"]
    assert Transfer.objects.count() == transfers + 1
    # Re-uploading answers the same refusal, and still posts nothing.
    assert upload(client, records)[0] == ["rejected:offline_limit", "exists"]
    assert Transfer.objects.count() == transfers + 1


def test_denied_card_is_flagged_and_charged_to_the_overdraft_receivable(world, fleet):
    client = fleet.client("pos")
    lifecycle.report_card_lost(actor=world.ent_admin_a, card=fleet.cards.a0)
    records, _ = chain_records(client.secret_hex, [purchase(1, fleet.cards.a0.number, 800)])
    assert upload(client, records)[0] == ["ok"]
    record = OfflineRecord.objects.get()
    assert record.review_required is True
    overdraft = Account.objects.get(group_customer=world.customer_a, kind="offline_overdraft")
    assert overdraft.balance == -800
    merchant = Account.objects.get(pk=fleet.terminals["pos"].merchant_account_id)
    assert merchant.balance == 800
    purse = Account.objects.get(member=world.members_a[0], kind="member_purse")
    assert purse.balance == 0


def test_wrong_kind_and_unknown_card_records_are_rejected_but_chain_on(fleet):
    client = fleet.client("pos")
    punch = {"sequence": 1, "kind": "punch", "client_id": "x", "created_at":
             "2026-11-25T08:00:00+08:00", "card_number": fleet.cards.a0.number}
    records, _ = chain_records(client.secret_hex, [punch, purchase(2, "nope", 100)])
    assert upload(client, records)[0] == ["rejected:wrong_kind", "rejected:unknown_card"]
    assert Terminal.objects.get(pk=fleet.terminals["pos"].pk).offline_sequence == 2


def test_bad_batch_shapes(fleet):
    client = fleet.client("pos")
    for body in ({"records": []}, {"records": "x"}, {"records": [{}] * 501}):
        status, answer = client.call("POST", "offline-records", body)
        assert (status, answer["field"]) == (400, "records")
    status, answer = client.call("POST", "offline-records", {"records": [{"sequence": "1"}]})
    assert answer["results"][0]["status"] == "rejected:bad_request"


def test_punch_records_offline(fleet):
    client = fleet.client("attendance_clock")
    punch = {"sequence": 1, "kind": "punch", "client_id": "op-1",
             "created_at": "2026-11-25T08:00:00+08:00", "card_number": fleet.cards.a0.number}
    records, _ = chain_records(client.secret_hex, [punch])
    assert upload(client, records)[0] == ["ok"]
    from onecard.terminals.models import AttendancePunch

    assert AttendancePunch.objects.get().offline is True


# --- Credential sync ----------------------------------------------------------------------------


def test_credentials_snapshot_then_delta(world, fleet):
    door, pos = fleet.client("door_controller"), fleet.client("pos")
    status, snap = door.call("GET", "credentials")
    assert snap["mode"] == "snapshot" and snap["more"] is False
    assert {e["card_number"]: e["state"] for e in snap["entries"]} == {
        fleet.cards.a0.number: "allow", fleet.cards.a1.number: "allow"}
    status, pos_snap = pos.call("GET", "credentials?since=0")
    assert pos_snap["entries"] == []  # only the deny list for a POS
    lifecycle.report_card_lost(actor=world.ent_admin_a, card=fleet.cards.a0)
    status, delta = pos.call("GET", f"credentials?since={snap['version']}")
    assert delta["mode"] == "delta"
    assert [(e["card_number"], e["state"]) for e in delta["entries"]] == [
        (fleet.cards.a0.number, "deny")]
    assert delta["version"] == snap["version"] + 1
    status, page = door.call("GET", "credentials?limit=1")
    assert (page["more"], len(page["entries"])) == (True, 1)
    status, rest = door.call("GET", f"credentials?limit=1&after={page['next_after']}")
    assert (rest["more"], len(rest["entries"])) == (False, 1)
    status, body = door.call("GET", "credentials?since=abc")
    assert (status, body["field"]) == (400, "since")


# --- Concurrency (PostgreSQL) ---------------------------------------------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_reuploads_double_nothing(world, fleet):
    """Six uploads of one batch at once (the action, as six gateway workers would run it):
    one posts, the others answer ``exists``."""
    from onecard.terminals import actions

    fleet.books.top_up(world.members_a[0], 5000)
    client = fleet.client("pos")
    terminal = fleet.terminals["pos"]
    card = fleet.cards.a0.number
    records, _ = chain_records(client.secret_hex, [purchase(i, card, 100) for i in range(1, 6)])
    before = Transfer.objects.count()
    outcomes, errors = [], []
    barrier = threading.Barrier(6)

    def send():
        try:
            barrier.wait()
            outcomes.append(actions.ingest_offline_records(terminal=terminal, records=records))
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=send) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    statuses = sorted(tuple(r["status"] for r in results) for results, _gaps in outcomes)
    assert statuses == [("exists",) * 5] * 5 + [("ok",) * 5]
    assert Transfer.objects.count() == before + 5
    assert OfflineRecord.objects.count() == 5
    assert Account.objects.get(member=world.members_a[0], kind="member_purse").balance == 4500
    assert GENESIS_HASH != Terminal.objects.get(pk=terminal.pk).offline_hash


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_reuploads_over_http_double_nothing(world, fleet):
    """The same over the protocol: requests whose sequence arrives late are refused as
    replays (401); every answered upload is all ``ok`` (one) or all ``exists``."""
    fleet.books.top_up(world.members_a[0], 5000)
    client = fleet.client("pos")
    card = fleet.cards.a0.number
    records, _ = chain_records(client.secret_hex, [purchase(i, card, 100) for i in range(1, 6)])
    before = Transfer.objects.count()
    outcomes = []
    barrier = threading.Barrier(6)

    def send():
        try:
            barrier.wait()
            outcomes.append(client.call("POST", "offline-records", {"records": records}))
        finally:
            connection.close()

    threads = [threading.Thread(target=send) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if not any(status == 200 for status, _b in outcomes):  # all raced: send once more
        outcomes.append(client.call("POST", "offline-records", {"records": records}))
    answered = [body for status, body in outcomes if status == 200]
    refused = [body["error"] for status, body in outcomes if status != 200]
    assert set(refused) <= {"replayed_sequence"}
    kinds = sorted({r["status"] for r in body["results"]} for body in answered)
    assert kinds.count({"ok"}) == 1 and all(k in ({"ok"}, {"exists"}) for k in kinds)
    assert Transfer.objects.count() == before + 5
    assert Account.objects.get(member=world.members_a[0], kind="member_purse").balance == 4500


def test_stored_records_keep_every_field(world, fleet):
    """The batch stores its records with hand-written INSERTs (``core.sql.insert_rows``): every
    field reads back as sent, the receipt time included."""
    fleet.books.top_up(world.members_a[0], 5000)
    client = fleet.client("pos")
    card = fleet.cards.a0
    records, head = chain_records(client.secret_hex, [purchase(1, card.number, 250),
                                                      purchase(2, "NO-SUCH-CARD", 100)])
    assert upload(client, records) == (["ok", "rejected:unknown_card"], [])
    rows = list(OfflineRecord.objects.filter(terminal=fleet.terminals["pos"]).order_by("sequence")
                .values("group_customer_id", "sequence", "kind", "client_id", "card_number",
                        "amount", "created_at", "prev_hash", "record_hash", "status",
                        "review_required", "card_id", "member_id", "received_at"))
    first, second = rows
    assert first["received_at"] == second["received_at"] is not None
    assert first | {"received_at": None} == {
        "group_customer_id": world.customer_a.pk, "sequence": 1, "kind": "purchase",
        "client_id": "off-1", "card_number": card.number, "amount": 250,
        "created_at": parse_datetime("2026-11-25T12:00:00+08:00"), "prev_hash": GENESIS_HASH,
        "record_hash": records[1]["prev_hash"], "status": "ok", "review_required": False,
        "card_id": card.pk, "member_id": card.member_id, "received_at": None}
    assert (second["status"], second["card_id"], second["member_id"], second["prev_hash"]) == (
        "rejected:unknown_card", None, None, records[1]["prev_hash"])
    assert second["record_hash"] == head
