"""Service desk pages through the test client: queues, intake, ticket detail with the buttons the
viewer may use, each step's form calling its action, engineers' work orders, reports and export.
Pages and objects out of reach answer 404, GET and POST alike, and change nothing."""

import io

import openpyxl
import pytest
from django.urls import reverse

from onecard.accounts.actions import set_language
from onecard.service import actions
from onecard.service.models import Ticket

from .helpers import dispatched, open_for, resolved, state


@pytest.fixture
def as_user(client):
    def login(user, language="en"):
        set_language(actor=user, language=language)
        client.force_login(user)
        return client

    return login


def step_names(page):
    return [url.rstrip("/").rsplit("/", 1)[-1] for url in
            (step["url"] for step in page.context["steps"])]


def test_queue_lists_and_filters(world, as_user):
    tier1 = open_for(world)
    tier2 = open_for(world, title="Tier two")
    actions.escalate_ticket(actor=world.agent1, ticket=tier2, reason="Up")
    b_ticket = open_for(world, customer=world.customer_b, actor=world.manager_b)

    client = as_user(world.admin)
    page = client.get(reverse("console:service-ticket-list"))
    assert page.status_code == 200
    assert {t.pk for t in page.context["page"]} == {tier1.pk, tier2.pk, b_ticket.pk}
    assert [(q["tier"], q["branch__name"], q["count"]) for q in page.context["queues"]] == [
        (1, "County A", 1), (1, "County B", 1), (2, "County A", 1)]
    page = client.get(reverse("console:service-ticket-list"),
                      {"tier": "1", "branch": world.county_b.pk, "status": "open"})
    assert [t.pk for t in page.context["page"]] == [b_ticket.pk]
    page = client.get(reverse("console:service-ticket-list"), {"q": tier2.number.lower()})
    assert [t.pk for t in page.context["page"]] == [tier2.pk]
    page = client.get(reverse("console:service-ticket-list"),
                      {"tier": "9", "status": "nope", "breached": "x", "page": "y"})
    assert page.status_code == 200
    htmx = client.get(reverse("console:service-ticket-list"), HTTP_HX_REQUEST="true")
    assert "<html" not in htmx.content.decode()

    page = as_user(world.agent2).get(reverse("console:service-ticket-list"))
    assert [t.pk for t in page.context["page"]] == [tier2.pk]
    page = as_user(world.member_user_a).get(reverse("console:service-ticket-list"))
    assert list(page.context["page"]) == []


def test_intake_form_for_staff_and_members(world, as_user):
    client = as_user(world.agent1)
    assert client.get(reverse("console:service-ticket-create")).status_code == 200
    response = client.post(reverse("console:service-ticket-create"), {
        "group_customer": world.customer_a.pk, "ticket_class": "terminal", "priority": "p1",
        "channel": "hotline", "title": "Gate down", "description": "East gate",
    })
    ticket = Ticket.objects.get(title="Gate down")
    assert response.status_code == 302
    assert response["Location"] == reverse("console:service-ticket-detail", args=[ticket.pk])
    assert (ticket.priority, ticket.tier, ticket.raised_by) == ("p1", 1, world.agent1)

    client = as_user(world.member_user_a)
    form = client.get(reverse("console:service-ticket-create")).context["form"]
    assert "group_customer" not in form.fields and "member" not in form.fields
    response = client.post(reverse("console:service-ticket-create"), {
        "ticket_class": "business", "priority": "p4", "title": "Card question",
        "description": "How do I top up?",
    })
    assert response.status_code == 302
    mine = Ticket.objects.get(title="Card question")
    assert (mine.member, mine.channel) == (world.members_a[0], "self_service")


def test_intake_form_refuses_bad_input_and_other_tenants(world, as_user):
    client = as_user(world.ent_admin_a)
    before = state()
    response = client.post(reverse("console:service-ticket-create"), {
        "member": world.members_b[0].pk, "ticket_class": "nope", "title": "",
        "description": "x", "priority": "p3",
    })
    assert response.status_code == 400
    assert set(response.context["form"].errors) == {"member", "ticket_class", "title"}
    assert state() == before
    assert as_user(world.integrator_engineer).get(
        reverse("console:service-ticket-create")).status_code == 404


def test_detail_offers_only_the_viewers_steps(world, as_user):
    ticket = open_for(world, member=world.members_a[0])
    url = reverse("console:service-ticket-detail", args=[ticket.pk])
    assert step_names(as_user(world.agent1).get(url)) == ["acknowledge", "escalate", "cancel"]
    assert step_names(as_user(world.admin).get(url)) == ["acknowledge", "cancel"]
    assert step_names(as_user(world.ent_admin_a).get(url)) == ["cancel"]
    actions.acknowledge_ticket(actor=world.agent1, ticket=ticket)
    actions.resolve_ticket(actor=world.agent1, ticket=ticket, resolution="Done")
    assert step_names(as_user(world.agent1).get(url)) == []
    page = as_user(world.member_user_a).get(url)
    assert step_names(page) == ["confirm", "reject"]
    html = page.content.decode()
    assert "Resolved" in html and "Done" in html


def test_a_ticket_walks_through_the_console(world, as_user):
    ticket = open_for(world, member=world.members_a[0])
    agent = as_user(world.agent1)

    def post(user, name, data, obj=None, kind="ticket"):
        client = as_user(user)
        response = client.post(reverse(f"console:service-{kind}-{name}",
                                       args=[(obj or ticket).pk]), data)
        assert response.status_code == 302, response.content.decode()[:2000]

    assert agent.get(reverse("console:service-ticket-dispatch", args=[ticket.pk])
                     ).status_code == 200
    post(world.agent1, "acknowledge", {"note": ""})
    page = agent.get(reverse("console:service-ticket-dispatch", args=[ticket.pk]))
    assert list(page.context["form"].fields["integrator"].queryset) == [world.integrator]
    post(world.agent1, "dispatch", {"integrator": world.integrator.pk, "instructions": "Gate"})
    work_order = ticket.work_orders.get()

    engineer = as_user(world.integrator_engineer)
    listing = engineer.get(reverse("console:service-work-order-list"), {"status": "active"})
    assert [w.pk for w in listing.context["page"]] == [work_order.pk]
    detail = engineer.get(reverse("console:service-work-order-detail", args=[work_order.pk]))
    assert step_names(detail) == ["accept", "decline"]
    post(world.integrator_engineer, "accept", {}, work_order, "work-order")
    post(world.integrator_engineer, "arrive", {"note": "here"}, work_order, "work-order")
    post(world.integrator_engineer, "report", {"outcome": "fixed", "result": "New reader"},
         work_order, "work-order")
    ticket.refresh_from_db()
    assert ticket.status == "resolved"

    post(world.member_user_a, "confirm", {"satisfaction": "5", "comment": "Good"})
    post(world.agent1, "close", {"note": ""})
    ticket.refresh_from_db()
    assert (ticket.status, ticket.satisfaction) == ("closed", 5)
    page = as_user(world.admin).get(reverse("console:service-ticket-detail", args=[ticket.pk]))
    assert [e.kind for e in page.context["events"]][-2:] == ["confirmed", "closed"]


def test_refusals_are_shown_on_the_form_and_change_nothing(world, as_user):
    ticket = open_for(world, customer=world.customer_b, actor=world.manager_b)
    actions.acknowledge_ticket(actor=world.manager_b, ticket=ticket)
    client = as_user(world.manager_b)
    before = state()
    # The integrator serves county A only: not offered, and refused if posted anyway.
    response = client.post(reverse("console:service-ticket-dispatch", args=[ticket.pk]),
                           {"integrator": world.integrator.pk})
    assert response.status_code == 400
    response = client.post(reverse("console:service-ticket-dispatch", args=[ticket.pk]), {})
    assert response.status_code == 400
    assert "Choose either an integrator or a vendor." in response.content.decode()
    response = client.post(reverse("console:service-ticket-close", args=[ticket.pk]), {})
    assert response.status_code == 409
    assert "has not confirmed" in response.content.decode()
    assert state() == before


def test_escalating_moves_the_ticket_out_of_the_agents_queue(world, as_user):
    ticket = open_for(world)
    client = as_user(world.agent1)
    response = client.post(reverse("console:service-ticket-escalate", args=[ticket.pk]),
                           {"reason": "Tier 2 please"})
    assert response["Location"] == reverse("console:service-ticket-list")
    assert client.get(reverse("console:service-ticket-detail", args=[ticket.pk])
                      ).status_code == 404


@pytest.mark.parametrize("who", ["ent_admin_b", "member_user_b", "manager_b", "agent2",
                                 "vendor_engineer"])
def test_other_peoples_tickets_are_not_found(world, as_user, who):
    ticket, work_order = dispatched(world)
    client = as_user(getattr(world, who))
    before = state()
    assert client.get(reverse("console:service-ticket-detail", args=[ticket.pk])
                      ).status_code == 404
    for name in ("acknowledge", "escalate", "cancel", "confirm"):
        url = reverse(f"console:service-ticket-{name}", args=[ticket.pk])
        assert client.get(url).status_code == 404
        assert client.post(url, {"reason": "x"}).status_code == 404
    url = reverse("console:service-work-order-accept", args=[work_order.pk])
    assert client.post(url, {}).status_code == 404
    assert state() == before


def test_confirming_for_the_customer_is_refused_on_the_form(world, as_user):
    ticket = resolved(world)  # raised for members_a[0]
    client = as_user(world.agent1)
    before = state()
    # A staff member who reaches the page may not confirm for the customer (403 on the form).
    response = client.post(
        reverse("console:service-ticket-confirm", args=[ticket.pk]), {"satisfaction": "4"})
    assert response.status_code == 403
    assert "Only the customer confirms" in response.content.decode()
    assert state() == before


def test_reports_page_and_export(world, as_user):
    dispatched(world)
    client = as_user(world.manager)
    page = client.get(reverse("console:service-report"))
    assert page.status_code == 200
    assert page.context["report"]["ticket_count"] == 1
    page = client.get(reverse("console:service-report"), {"since": "not a date"})
    assert page.status_code == 200 and page.context["report"]["ticket_count"] == 1
    response = client.get(reverse("console:service-report-export"))
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    workbook = openpyxl.load_workbook(io.BytesIO(response.content))
    assert list(workbook["Integrators"].values)[1][:2] == ("Integrator", 1)
    for who in ("ent_admin_a", "integrator_engineer", "member_user_a"):
        assert as_user(getattr(world, who)).get(reverse("console:service-report")
                                                ).status_code == 404


def test_pages_in_chinese(world, as_user):
    ticket = resolved(world)
    client = as_user(world.ent_admin_a, language="zh-hans")
    html = client.get(reverse("console:service-ticket-detail", args=[ticket.pk])).content.decode()
    assert "已解决" in html and "确认" in html
    html = client.get(reverse("console:service-ticket-list")).content.decode()
    assert "服务台" in html


def test_menu_shows_service_pages_by_role(world, as_user):
    html = as_user(world.integrator_engineer).get(reverse("console:dashboard")).content.decode()
    assert reverse("console:service-work-order-list") in html
    assert reverse("console:service-report") not in html
    html = as_user(world.manager).get(reverse("console:dashboard")).content.decode()
    assert reverse("console:service-report") in html
