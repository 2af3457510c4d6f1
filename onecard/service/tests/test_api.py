"""The service desk through the public API: a ticket walked from intake to close, role scoping
per role (404 for "not found" and "not allowed" alike), refusals with nothing changed, and bad
input answered 4xx naming the field, never 500."""

import io

import openpyxl
import pytest

from onecard.audit.models import AuditRecord
from onecard.service import actions
from onecard.service.models import Ticket, WorkOrder

from .helpers import dispatched, later, open_for, resolved, state

TICKETS = "/api/v1/service/tickets/"
WORK_ORDERS = "/api/v1/service/work-orders/"


@pytest.fixture
def api_as():
    """An API client for ``user``, asking for answers in ``language`` (English by default, so
    messages can be matched)."""
    from rest_framework.test import APIClient

    def make(user, language="en"):
        client = APIClient()
        client.force_authenticate(user)
        client.credentials(HTTP_ACCEPT_LANGUAGE=language)
        return client

    return make


def ids(response):
    assert response.status_code == 200, response.content
    return sorted(item["id"] for item in response.json()["results"])


def post(client, url, body=None):
    return client.post(url, body or {}, format="json")


# --- The walk ---------------------------------------------------------------------------------


def test_ticket_walks_through_dispatch_escalation_resolution_and_close(world, api_as):
    agent1, agent2 = api_as(world.agent1), api_as(world.agent2)
    engineer, customer = api_as(world.integrator_engineer), api_as(world.ent_admin_a)

    response = post(agent1, TICKETS, {
        "group_customer": world.customer_a.pk, "member": world.members_a[0].pk,
        "ticket_class": "terminal", "priority": "p2", "title": "Canteen POS offline",
        "description": "POS 3 shows no network.", "contact_phone": "13900000000",
    })
    assert response.status_code == 201, response.content
    ticket = response.json()
    assert (ticket["status"], ticket["tier"], ticket["channel"], ticket["branch"]) == (
        "new", 1, "hotline", world.county_a.pk)
    assert ticket["number"] == f"SR{ticket['id']:08d}" and ticket["sla_breaches"] == []
    url = f"{TICKETS}{ticket['id']}/"

    assert post(agent1, url + "acknowledge/").json()["status"] == "acknowledged"
    suggested = agent1.get(url + "integrators/").json()
    assert [i["id"] for i in suggested] == [world.integrator.pk]
    response = post(agent1, url + "dispatch/", {"integrator": world.integrator.pk,
                                                "instructions": "Canteen, 2nd floor"})
    assert response.status_code == 201, response.content
    work_order = response.json()
    assert (work_order["status"], work_order["assignee_kind"], work_order["integrator"]) == (
        "dispatched", "integrator", world.integrator.pk)
    wo_url = f"{WORK_ORDERS}{work_order['id']}/"

    assert ids(engineer.get(WORK_ORDERS)) == [work_order["id"]]
    assert post(engineer, wo_url + "accept/").json()["status"] == "accepted"
    assert post(engineer, wo_url + "arrive/", {"note": "At the canteen"}).json()[
        "status"] == "on_site"
    response = post(engineer, wo_url + "report/", {"outcome": "not_fixed",
                                                   "result": "Switch port dead, needs IT"})
    assert response.json()["status"] == "completed"
    assert agent1.get(url).json()["status"] == "acknowledged"

    response = post(agent1, url + "escalate/", {"reason": "Network side, needs tier 2"})
    assert (response.json()["status"], response.json()["tier"]) == ("escalated", 2)
    assert agent1.get(url).status_code == 404  # out of the tier-1 queue now
    assert post(agent2, url + "acknowledge/").json()["status"] == "acknowledged"
    assert post(agent2, url + "resolve/", {"resolution": "Moved POS to a live port."}).json()[
        "status"] == "resolved"

    response = post(agent2, url + "close/")
    assert response.status_code == 409 and response.json()["code"] == "not_confirmed"
    response = post(customer, url + "confirm/", {"satisfaction": 4, "comment": "OK now"})
    assert (response.json()["status"], response.json()["satisfaction"]) == ("confirmed", 4)
    assert post(agent2, url + "close/").json()["status"] == "closed"

    detail = customer.get(url).json()
    assert [e["kind"] for e in detail["events"]] == [
        "opened", "acknowledged", "dispatched", "work_order_accepted", "arrived",
        "work_order_reported", "escalated", "acknowledged", "resolved", "confirmed", "closed"]
    assert [w["outcome"] for w in detail["work_orders"]] == ["not_fixed"]


def test_member_self_service_intake_and_confirmation(world, api_as):
    member = api_as(world.member_user_a)
    response = post(member, TICKETS, {"ticket_class": "business", "title": "Lost card",
                                      "description": "How do I report a loss?"})
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["channel"], body["member"], body["group_customer"]) == (
        "self_service", world.members_a[0].pk, world.customer_a.pk)
    ticket = Ticket.objects.get(pk=body["id"])
    actions.acknowledge_ticket(actor=world.manager, ticket=ticket)
    actions.resolve_ticket(actor=world.manager, ticket=ticket, resolution="Explained.")
    response = post(member, f"{TICKETS}{ticket.pk}/confirm/", {"satisfaction": 5})
    assert response.json()["status"] == "confirmed"


# --- Role scoping -------------------------------------------------------------------------------


@pytest.fixture
def spread(world):
    """Tickets across customers, tiers and assignees."""
    t = {}
    t["a_tier1"] = open_for(world, member=world.members_a[0])
    t["a_member1"] = open_for(world, member=world.members_a[1])
    t["b_tier1"] = open_for(world, customer=world.customer_b, actor=world.manager_b)
    t["a_tier2"] = open_for(world)
    actions.escalate_ticket(actor=world.agent1, ticket=t["a_tier2"], reason="Up")
    t["a_integrator"], _wo = dispatched(world)
    t["b_vendor"] = open_for(world, customer=world.customer_b, actor=world.manager_b)
    actions.acknowledge_ticket(actor=world.manager_b, ticket=t["b_vendor"])
    actions.dispatch_ticket(actor=world.manager_b, ticket=t["b_vendor"], vendor=world.vendor)
    return t


SEES = {
    "admin": {"a_tier1", "a_member1", "b_tier1", "a_tier2", "a_integrator", "b_vendor"},
    "manager": {"a_tier1", "a_member1", "a_tier2", "a_integrator"},
    "manager_b": {"b_tier1", "b_vendor"},
    "agent1": {"a_tier1", "a_member1", "b_tier1", "a_integrator", "b_vendor"},
    "agent2": {"a_tier2"},
    "integrator_engineer": {"a_integrator"},
    "vendor_engineer": {"b_vendor"},
    "ent_admin_a": {"a_tier1", "a_member1", "a_tier2", "a_integrator"},
    "ent_admin_b": {"b_tier1", "b_vendor"},
    "member_user_a": {"a_tier1"},
    "member_user_b": set(),
}


@pytest.mark.parametrize("who", sorted(SEES))
def test_each_role_sees_its_own_tickets_only(world, api_as, spread, who):
    client = api_as(getattr(world, who))
    expected = SEES[who]
    assert ids(client.get(TICKETS)) == sorted(spread[name].pk for name in expected)
    for name, ticket in spread.items():
        status = client.get(f"{TICKETS}{ticket.pk}/").status_code
        assert status == (200 if name in expected else 404), (name, status)


def test_an_agent_with_a_branch_sees_that_branchs_queue(world, api_as, spread):
    from onecard.accounts.actions import create_account

    local = create_account(actor=world.admin, username="agent_b", password=world.password,
                           role="service_agent_t1", branch=world.county_b)
    assert ids(api_as(local).get(TICKETS)) == sorted([spread["b_tier1"].pk,
                                                      spread["b_vendor"].pk])


@pytest.mark.parametrize("who, expected", [
    ("integrator_engineer", {"a_integrator"}), ("vendor_engineer", {"b_vendor"}),
    ("manager", {"a_integrator"}), ("ent_admin_b", {"b_vendor"}), ("agent2", set()),
    ("member_user_a", set()),
])
def test_work_orders_are_scoped(world, api_as, spread, who, expected):
    client = api_as(getattr(world, who))
    got = {item["ticket"] for item in client.get(WORK_ORDERS).json()["results"]}
    assert got == {spread[name].pk for name in expected}


def test_engineers_cannot_move_another_companys_work_order(world, api_as, spread):
    vendor_order = WorkOrder.objects.get(ticket=spread["b_vendor"])
    before = state()
    response = post(api_as(world.integrator_engineer), f"{WORK_ORDERS}{vendor_order.pk}/accept/")
    assert response.status_code == 404
    # Readers who see a work order still cannot move it.
    response = post(api_as(world.manager_b), f"{WORK_ORDERS}{vendor_order.pk}/accept/")
    assert response.status_code == 404
    assert state() == before
    assert post(api_as(world.vendor_engineer),
                f"{WORK_ORDERS}{vendor_order.pk}/accept/").status_code == 200


@pytest.mark.parametrize("who", ["ent_admin_b", "member_user_b", "manager_b",
                                 "integrator_engineer", "vendor_engineer", "agent2"])
def test_writes_on_tickets_out_of_reach_are_not_found(world, api_as, who):
    ticket = resolved(world)
    client = api_as(getattr(world, who))
    before = state()
    for step, body in [("acknowledge", {}), ("confirm", {"satisfaction": 5}),
                       ("reject", {"reason": "x"}), ("close", {}), ("cancel", {"reason": "x"}),
                       ("escalate", {"reason": "x"}), ("dispatch", {"vendor": world.vendor.pk}),
                       ("resolve", {"resolution": "x"})]:
        assert post(client, f"{TICKETS}{ticket.pk}/{step}/", body).status_code == 404, step
    assert state() == before


# --- Refusals through the API: the rule named, nothing changed ----------------------------------


def test_dispatch_to_an_integrator_outside_the_county_is_refused(world, api_as):
    ticket = open_for(world, customer=world.customer_b, actor=world.manager_b)
    actions.acknowledge_ticket(actor=world.manager_b, ticket=ticket)
    before = state()
    response = post(api_as(world.manager_b), f"{TICKETS}{ticket.pk}/dispatch/",
                    {"integrator": world.integrator.pk})
    assert response.status_code == 400
    assert response.json() == {
        "integrator": ["Integrator does not serve County B: a work order goes to an integrator "
                       "serving the customer's county."],
        "code": "integrator_not_serving_county",
    }
    assert state() == before


def test_close_unconfirmed_confirm_by_wrong_party_escalate_twice(world, api_as):
    ticket = resolved(world)
    url = f"{TICKETS}{ticket.pk}/"
    before = state()
    response = post(api_as(world.agent1), url + "close/")
    assert (response.status_code, response.json()["code"]) == (409, "not_confirmed")
    response = post(api_as(world.agent1), url + "confirm/", {"satisfaction": 5})
    assert response.status_code == 403
    assert response.json() == {
        "detail": "Only the customer confirms or rejects a resolution: an enterprise admin of "
                  "this customer or the member who raised the ticket.",
        "code": "not_customer_side"}
    response = post(api_as(world.ent_admin_a), url + "confirm/", {"satisfaction": 6})
    assert response.status_code == 400 and "satisfaction" in response.json()
    response = post(api_as(world.agent1), url + "acknowledge/")
    assert (response.status_code, response.json()["code"]) == (409, "transition_refused")
    assert state() == before

    other = open_for(world)
    assert post(api_as(world.manager), f"{TICKETS}{other.pk}/escalate/",
                {"reason": "up"}).status_code == 200
    before = state()
    response = post(api_as(world.manager), f"{TICKETS}{other.pk}/escalate/", {"reason": "again"})
    assert response.status_code == 409
    assert response.json() == {"tier": ["This ticket was already escalated to tier 2; a ticket "
                                        "is escalated only once."],
                               "code": "already_escalated"}
    assert state() == before


def test_refusals_speak_the_asked_language(world, api_as):
    ticket = resolved(world)
    response = post(api_as(world.agent1, language="zh-hans"), f"{TICKETS}{ticket.pk}/close/")
    assert response.json()["status"] == [
        "客户尚未确认处理结果：工单须经客户确认后才能关闭。"]


# --- Bad input ----------------------------------------------------------------------------------


@pytest.mark.parametrize("body, field", [
    ({"ticket_class": "terminal", "title": "t", "description": "d", "group_customer": 1,
      "surprise": 1}, "surprise"),
    ({"ticket_class": "plumbing", "title": "t", "description": "d"}, "ticket_class"),
    ({"ticket_class": "terminal", "title": "t", "description": "d", "priority": 1}, "priority"),
    ({"ticket_class": "terminal", "title": "t", "description": "d", "group_customer": "x"},
     "group_customer"),
    ({"ticket_class": "terminal", "title": "t", "description": "d",
      "group_customer": 10**30}, "group_customer"),
    ({"ticket_class": "terminal", "title": "", "description": "d"}, "title"),
    ({"ticket_class": "terminal", "title": "t" * 201, "description": "d"}, "title"),
    ({"ticket_class": "terminal", "description": "d"}, "title"),
    ({"ticket_class": "terminal", "title": "t", "description": "d", "tier": 2}, "tier"),
    ({"ticket_class": "terminal", "title": "t", "description": "d", "status": "closed"},
     "status"),
])
def test_bad_intake_is_refused_naming_the_field(world, api_as, body, field):
    before = state()
    response = post(api_as(world.ent_admin_a), TICKETS, body)
    assert response.status_code == 400, response.content
    assert field in response.json()
    assert state() == before


def test_unencodable_text_is_refused(world, api_as):
    before = state()
    response = api_as(world.ent_admin_a).post(
        TICKETS, '{"ticket_class": "terminal", "title": "t", "description": "\\ud800"}',
        content_type="application/json")
    assert response.status_code == 400 and "description" in response.json()
    assert state() == before


def test_another_tenants_ids_are_refused_like_missing_ones(world, api_as):
    client = api_as(world.ent_admin_a)
    before = state()
    base = {"ticket_class": "terminal", "title": "t", "description": "d"}
    for body, field in [({"group_customer": world.customer_b.pk}, "group_customer"),
                        ({"member": world.members_b[0].pk}, "member"),
                        ({"member": 999999}, "member")]:
        response = post(client, TICKETS, {**base, **body})
        assert response.status_code == 400 and field in response.json(), body
    manager = api_as(world.manager)
    response = post(manager, TICKETS, {**base, "group_customer": world.customer_b.pk})
    assert response.status_code == 400 and "group_customer" in response.json()
    assert state() == before


@pytest.mark.parametrize("body, field", [
    ({"integrator": "abc"}, "integrator"), ({"integrator": [1]}, "integrator"),
    ({"vendor": 10**20}, "vendor"), ({"vendor": True}, "vendor"), ({"colour": "red"}, "colour"),
    ({}, "integrator"), ({"instructions": "x" * 5001, "vendor": 1}, "instructions"),
])
def test_bad_dispatch_input_is_refused(world, api_as, body, field):
    ticket = open_for(world)
    actions.acknowledge_ticket(actor=world.agent1, ticket=ticket)
    before = state()
    response = post(api_as(world.agent1), f"{TICKETS}{ticket.pk}/dispatch/", body)
    assert response.status_code == 400, response.content
    assert field in response.json()
    assert state() == before


@pytest.mark.parametrize("body, field", [
    ({"satisfaction": "five"}, "satisfaction"), ({"satisfaction": 0}, "satisfaction"),
    ({"satisfaction": 5.5}, "satisfaction"), ({"satisfaction": True}, "satisfaction"),
    ({"comment": "x" * 2001}, "comment"), ({"score": 5}, "score"),
])
def test_bad_confirmation_input_is_refused(world, api_as, body, field):
    ticket = resolved(world)
    before = state()
    response = post(api_as(world.ent_admin_a), f"{TICKETS}{ticket.pk}/confirm/", body)
    assert response.status_code == 400, response.content
    assert field in response.json()
    assert state() == before


def test_non_object_bodies_and_bad_ids_never_fail(world, api_as):
    ticket = open_for(world)
    client = api_as(world.agent1)
    before = state()
    assert client.post(f"{TICKETS}{ticket.pk}/escalate/", [1, 2], format="json").status_code == 400
    assert client.post(f"{TICKETS}{ticket.pk}/escalate/", "null", content_type="application/json"
                       ).status_code == 400
    assert client.get(f"{TICKETS}99999999999999999999/").status_code == 404
    assert client.post(f"{TICKETS}{ticket.pk}/nope/", {}).status_code == 404
    assert client.put(f"{TICKETS}{ticket.pk}/", {}).status_code == 405
    assert client.delete(f"{TICKETS}{ticket.pk}/").status_code == 405
    for params in ({"status": "nope"}, {"tier": "3"}, {"branch": "x"}, {"breached": "maybe"},
                   {"group_customer": "-1"}):
        response = client.get(TICKETS, params)
        assert response.status_code == 400 and set(params) <= set(response.json()), params
    assert state() == before


# --- Filters, pagination, SLA flags ---------------------------------------------------------------


def test_ticket_filters_and_pagination(world, api_as, spread):
    client = api_as(world.admin)
    assert ids(client.get(TICKETS, {"tier": 2})) == [spread["a_tier2"].pk]
    assert ids(client.get(TICKETS, {"branch": world.county_b.pk})) == sorted(
        [spread["b_tier1"].pk, spread["b_vendor"].pk])
    assert ids(client.get(TICKETS, {"status": ["dispatched", "escalated"]})) == sorted(
        [spread["a_integrator"].pk, spread["b_vendor"].pk, spread["a_tier2"].pk])
    assert ids(client.get(TICKETS, {"member": world.members_a[1].pk})) == [
        spread["a_member1"].pk]
    assert ids(client.get(TICKETS, {"breached": "true"})) == []
    page = client.get(TICKETS, {"page_size": 2}).json()
    assert (page["count"], len(page["results"]), page["next"] is not None) == (6, 2, True)


def test_breached_tickets_are_flagged(world, api_as):
    from .helpers import clock

    with clock(later(days=-1)):
        old = open_for(world, priority="p1")
    fresh = open_for(world, priority="p4")
    client = api_as(world.agent1)
    assert ids(client.get(TICKETS, {"breached": "true"})) == [old.pk]
    assert ids(client.get(TICKETS, {"breached": "false"})) == [fresh.pk]
    assert client.get(f"{TICKETS}{old.pk}/").json()["sla_breaches"] == ["response", "resolution"]


# --- Reports ------------------------------------------------------------------------------------


def test_report_counts_what_the_person_sees(world, api_as, spread):
    report = api_as(world.admin).get("/api/v1/service/reports/").json()
    assert report["ticket_count"] == 6
    assert {r["ticket_class"]: r["count"] for r in report["by_class"]}["terminal"] == 6
    assert {r["status"]: r["count"] for r in report["by_status"]}["dispatched"] == 2
    assert [(r["branch_name"], r["count"]) for r in report["by_branch"]] == [
        ("County A", 4), ("County B", 2)]
    assert report["integrators"] == [{
        "integrator": world.integrator.pk, "name": "Integrator", "in_progress": 1,
        "completed": 0, "fixed": 0, "declined": 0, "average_hours_to_site": None,
        "average_hours_to_complete": None}]
    scoped = api_as(world.manager_b).get("/api/v1/service/reports/").json()
    assert scoped["ticket_count"] == 2 and scoped["integrators"] == []


def test_report_resolution_times_and_satisfaction(world, api_as):
    ticket = resolved(world)
    actions.confirm_resolution(actor=world.ent_admin_a, ticket=ticket, satisfaction=4)
    report = api_as(world.agent1).get("/api/v1/service/reports/").json()
    terminal = next(r for r in report["resolution_times"] if r["ticket_class"] == "terminal")
    assert terminal["resolved"] == 1 and terminal["average_hours"] >= 0
    assert report["satisfaction"] == {"answers": 1, "average": 4.0}


@pytest.mark.parametrize("who", ["ent_admin_a", "member_user_a", "integrator_engineer",
                                 "vendor_engineer"])
def test_reports_are_for_operator_staff(world, api_as, who):
    client = api_as(getattr(world, who))
    assert client.get("/api/v1/service/reports/").status_code == 404
    assert client.get("/api/v1/service/reports/xlsx/").status_code == 404


def test_report_period_is_validated(world, api_as):
    response = api_as(world.admin).get("/api/v1/service/reports/", {"since": "yesterday"})
    assert response.status_code == 400 and "since" in response.json()


def test_report_exports_xlsx(world, api_as, spread):
    audit_before = AuditRecord.objects.count()
    response = api_as(world.admin).get("/api/v1/service/reports/xlsx/")
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith('attachment; filename="service-report-')
    workbook = openpyxl.load_workbook(io.BytesIO(response.content))
    assert workbook.sheetnames == ["By class", "By branch", "By status", "SLA breaches",
                                  "Integrators", "Resolution times"]
    rows = list(workbook["By branch"].values)
    assert rows == [("Branch", "Tickets", "Open"), ("County A", 4, 4), ("County B", 2, 2)]
    assert list(workbook["Integrators"].values)[1][:2] == ("Integrator", 1)
    assert AuditRecord.objects.count() == audit_before  # reports only read


def test_list_query_counts_do_not_grow_with_rows(world, api_as):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = api_as(world.admin)

    def count(url):
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        return len(queries)

    dispatched(world)
    few = (count(TICKETS), count(WORK_ORDERS), count(TICKETS + "?breached=true"))
    for _ in range(4):
        dispatched(world)
    assert (count(TICKETS), count(WORK_ORDERS), count(TICKETS + "?breached=true")) == few
