"""The fleet simulator against a live server: a tiny fleet for a few seconds, every fault on.

The run must answer only what protocol v1 promises (no unexpected status), its tallies must add
up to what the database holds, duplicate uploads must answer ``exists``, and the ledger and the
audit chains must verify afterwards.
"""

import importlib
import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.db.models import Count

from onecard.audit.actions import verify_audit_log
from onecard.cards.actions import lifecycle, provisioning, stock
from onecard.people.actions import create_member
from onecard.terminals.fleet import busiest_customer, member_cards, prepare_fleet, retire_fleet
from onecard.terminals.models import AttendancePunch, Terminal
from onecard.terminals.simulator import FleetPlan, SimulationConfig, Summary, run_simulation
from onecard.wallet import actions as wallet
from onecard.wallet.choices import TransferKind
from onecard.wallet.models import Transfer
from onecard.wallet.verify import verify_ledger

pytestmark = pytest.mark.django_db(transaction=True)

KINDS = ("purse", "access", "attendance")


@pytest.fixture(autouse=True)
def _transfers_removable_at_teardown(transactional_db):
    """A transactional test ends with a flush, which on SQLite deletes rows one by one: the
    ledger's trigger refuses to delete transfers. Delete them first with the trigger lifted
    (and put it back), so the flush finds the table empty. PostgreSQL truncates: no trigger."""
    yield
    if connection.vendor != "sqlite":
        return
    triggers = importlib.import_module("onecard.wallet.migrations.0002_ledger_triggers")
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA foreign_keys=OFF")
        cursor.execute("DROP TRIGGER IF EXISTS wallet_transfer_no_delete")
        cursor.execute("DELETE FROM wallet_transfer")
        cursor.execute(triggers.SQLITE_FORWARD[1])
        cursor.execute("PRAGMA foreign_keys=ON")


def _cardholders(world):
    """Customer A: three members with funded purses and an IC card carrying every application;
    a fourth member whose card is reported lost."""
    customer, admin = world.customer_a, world.admin
    for kind in KINDS:
        provisioning.set_application_plan(actor=admin, group_customer=customer, kind=kind,
                                          enabled=True)
    wallet.open_ledger(actor=admin, group_customer=customer)
    lost_member = create_member(actor=admin, group_customer=customer, name="Lost card",
                                phone="13900009999")
    wallet.open_purses_for_customer(actor=admin, group_customer=customer)
    drawer = wallet.open_cash_drawer(actor=None, group_customer=customer, code="TEST-DRAWER")
    members = [*world.members_a, lost_member]
    cards = stock.receive_cards(actor=admin, branch=world.county_a, medium="ic_card",
                                cards=[{"number": f"AB{i:06X}", "chip_type": "cpu"}
                                       for i in range(len(members))])
    for member, card in zip(members, cards, strict=True):
        lifecycle.issue_card(actor=admin, card=card, member=member, applications=list(KINDS))
        wallet.top_up(actor=None, member=member, amount=200_000, client_id=f"fund-{member.pk}",
                      source=drawer)
    lifecycle.report_card_lost(actor=admin, card=cards[-1], reason="test")
    return cards


def _run(live_server, plan, **overrides):
    settings = {
        "base_url": live_server.url, "seconds": 5.0, "speed": 86400 / 5, "load": 20.0,
        "heartbeat_every": 1.0, "sync_every": 2.0, "drop_rate": 0.2, "denied_rate": 0.3,
        "unknown_rate": 0.05, "skewed": 1, "far_skewed": 1, "offline_min_records": 5,
        "batch": 2, "timeout": 10.0,
    }
    if connection.vendor == "sqlite":
        # Django's live server shares the test's one in-memory SQLite connection between its
        # threads: one request at a time, and abandoned requests finish before the next.
        settings |= {"max_in_flight": 1, "abandon_settle": 0.15}
    return run_simulation(plan, SimulationConfig(**settings | overrides))


def test_fleet_prepared_for_a_customer(world):
    cards = _cardholders(world)
    before = Terminal.objects.count()

    plan = prepare_fleet(world.customer_a, pos=2, doors=1, clocks=1, topups=1)

    assert [kind for kind, _code in plan.enrolments] == ["pos", "pos", "door", "clock", "topup"]
    assert len({code for _kind, code in plan.enrolments}) == 5
    assert Terminal.objects.count() == before + 5
    assert set(Terminal.objects.filter(group_customer=world.customer_a)
               .values_list("kind", "state").distinct()) == {
        ("pos", "pending"), ("door_controller", "pending"), ("attendance_clock", "pending"),
        ("top_up", "pending")}
    live = [card.number for card in cards[:3]]
    assert (plan.purse_cards, plan.access_cards, plan.attendance_cards) == (live, live, live)
    assert plan.denied_cards == [cards[3].number]
    assert member_cards(world.customer_b) == ([], [], [], [])
    assert busiest_customer() == world.customer_a

    assert retire_fleet(plan) == 5
    assert set(Terminal.objects.filter(pk__in=plan.terminal_ids)
               .values_list("state", flat=True)) == {"retired"}
    assert retire_fleet(plan) == 0


def test_simulated_fleet_day(world, live_server):
    _cardholders(world)
    plan = prepare_fleet(world.customer_a, pos=2, doors=2, clocks=1, topups=2)

    summary = _run(live_server, plan)

    assert summary.unexpected == {}, "\n".join(summary.lines())
    assert summary.ok
    assert dict(summary.enrolled) == {"pos": 2, "door": 2, "clock": 1, "topup": 2}
    # The last terminal (a top-up machine) runs 900 s fast: every signed request refused.
    refused = {key.split()[0]: n for key, n in summary.expected_refusals.items()}
    assert refused and all(key.endswith("401 stale_timestamp")
                           for key in summary.expected_refusals)
    assert summary.total_requests == sum(summary.statuses.values())
    for endpoint in ("purchases", "top-ups", "access", "punches"):
        answered = sum(summary.outcomes[endpoint].values()) + refused.get(endpoint, 0)
        assert summary.requests[endpoint] == answered, endpoint
    assert summary.requests["purchases"] > 0 and summary.requests["access"] > 0
    assert summary.outcomes["credentials"]["snapshot"] >= 5
    # Faults happened and were answered as the protocol promises.
    assert summary.drops > 0
    assert summary.replayed <= summary.drops
    assert sum(summary.offline_records.values()) >= 15  # three offline terminals, ≥ 5 each
    assert summary.duplicate_records["exists"] > 0
    assert set(summary.duplicate_records) <= {"exists"} | {
        status for status in summary.offline_records if status.startswith("rejected:")}
    assert any(reason.endswith("card_lost") for reason in summary.refusals_by_reason())
    # The tallies are what the database holds.
    customer = world.customer_a
    purchases = (Transfer.objects.filter(group_customer=customer, kind=TransferKind.PURCHASE)
                 .aggregate(n=Count("client_id", distinct=True))["n"])
    assert purchases == (summary.outcomes["purchases"]["approved"]
                         + summary.offline_by_kind["purchase ok"])
    top_ups = (Transfer.objects.filter(group_customer=customer, kind=TransferKind.TOP_UP)
               .exclude(client_id__startswith="fund-")
               .aggregate(n=Count("client_id", distinct=True))["n"])
    assert top_ups == summary.outcomes["top-ups"]["approved"]
    punches = AttendancePunch.objects.filter(group_customer=customer).count()
    assert punches == (summary.outcomes["punches"]["stored"]
                       + summary.outcomes["punches"]["exists"]
                       + summary.offline_by_kind["punch ok"])
    assert verify_ledger().ok
    assert verify_audit_log().ok


def test_summary_counts_an_unexpected_status():
    summary = Summary()
    summary.answered("purchases", 200, 0.010, "approved")
    summary.answered("purchases", 200, 0.020, "refused:insufficient_funds")
    summary.answered("access", 500, 0.030)
    summary.wrong("access 500", {"error": "server_error"})

    assert not summary.ok
    assert summary.unexpected == {"access 500": 1}
    assert summary.approvals == 1
    assert summary.refusals_by_reason() == {"purchases refused:insufficient_funds": 1}
    assert summary.percentiles("purchases")[0] == pytest.approx(20.0)
    assert summary.as_dict()["total_requests"] == 3
    assert any(line.startswith("UNEXPECTED: access 500") for line in summary.lines())


def test_an_unreachable_server_is_unexpected():
    plan = FleetPlan(enrolments=[("door", "NOPE")], purse_cards=[], access_cards=["1"],
                     attendance_cards=[])
    config = SimulationConfig(base_url="http://127.0.0.1:9", seconds=0.5, offline=False,
                              skewed=0, far_skewed=0, timeout=1.0)

    summary = run_simulation(plan, config)

    assert not summary.ok
    assert summary.total_requests == 0


def test_simulate_command(world, live_server, tmp_path):
    _cardholders(world)
    out = StringIO()
    extra = ["--max-in-flight", "1"] if connection.vendor == "sqlite" else []

    call_command("simulate", "--url", live_server.url, "--customer", world.customer_a.code,
                 "--pos", "1", "--doors", "1", "--clocks", "1", "--topups", "2",
                 "--minutes", "0.05", "--load", "10", "--json", str(tmp_path / "run.json"),
                 *extra, stdout=out)

    text = out.getvalue()
    assert "simulation OK" in text
    assert "ledger verify: ok" in text and "audit verify: ok" in text
    result = json.loads((tmp_path / "run.json").read_text())
    assert result["ok"] is True and result["unexpected"] == {}
    assert result["enrolled"] == {"pos": 1, "door": 1, "clock": 1, "topup": 2}
    assert result["checks"]["ledger"]["ok"] and result["checks"]["audit"]["ok"]
    assert set(Terminal.objects.filter(group_customer=world.customer_a)
               .values_list("state", flat=True)) == {"retired"}


def test_simulate_command_refuses_an_unknown_customer(world):
    before = Terminal.objects.count()

    with pytest.raises(CommandError, match="no group customer with code 'NOPE'"):
        call_command("simulate", "--customer", "NOPE", stdout=StringIO())

    assert Terminal.objects.count() == before
