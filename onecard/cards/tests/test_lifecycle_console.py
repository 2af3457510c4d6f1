"""Console pages of the card lifecycle, through the Django test client."""

import pytest

from onecard.cards.models import Card

from .test_lifecycle import state


@pytest.fixture
def login(client, world):
    def as_user(user):
        client.force_login(user)
        return client

    return as_user


def test_card_list_is_scoped_and_filters(world, cards, login):
    page = login(world.ent_admin_a).get("/cards/", {"status": "active"})
    assert page.status_code == 200
    assert sorted(c.pk for c in page.context["page"]) == [cards.a0.pk, cards.a1.pk]
    found = login(world.ent_admin_a).get("/cards/", {"q": world.members_a[1].name})
    assert [c.pk for c in found.context["page"]] == [cards.a1.pk]
    assert login(world.member_user_a).get("/cards/").status_code == 404


def test_card_detail_offers_the_allowed_steps(world, cards, login):
    page = login(world.ent_admin_a).get(f"/cards/{cards.a0.pk}/")
    assert page.status_code == 200
    urls = [s["url"] for s in page.context["steps"]]
    assert urls == [f"/cards/{cards.a0.pk}/{name}/" for name in
                    ("report-lost", "suspend", "replace", "deregister")]
    assert login(world.ent_admin_b).get(f"/cards/{cards.a0.pk}/").status_code == 404
    agent = login(world.agent1).get(f"/cards/{cards.a0.pk}/")
    assert agent.status_code == 200 and agent.context["steps"] == []


def test_suspend_and_refused_unreport_through_the_console(world, cards, login):
    client = login(world.ent_admin_a)
    answer = client.post(f"/cards/{cards.a0.pk}/suspend/", {"reason": "leave"})
    assert answer.status_code == 302
    assert Card.objects.get(pk=cards.a0.pk).status == "suspended"
    client.post(f"/cards/{cards.a0.pk}/report-lost/", {})
    before = state()
    refused = client.post(f"/cards/{cards.a0.pk}/unreport/", {"reason": "found"})
    assert refused.status_code == 400
    assert "identity_checked" in refused.context["form"].errors
    assert state() == before
    done = client.post(f"/cards/{cards.a0.pk}/unreport/", {"identity_checked": "on"})
    assert done.status_code == 302 and Card.objects.get(pk=cards.a0.pk).status == "active"


def test_issue_and_replace_through_the_console(world, cards, login):
    client = login(world.manager)
    card = cards.stock_a[0]
    assert client.get(f"/cards/{card.pk}/issue/").status_code == 200
    answer = client.post(f"/cards/{card.pk}/issue/", {"member": world.members_a[2].pk,
                                                      "applications": ["identity", "access"]})
    assert answer.status_code == 302, answer.context["form"].errors
    assert Card.objects.get(pk=card.pk).member_id == world.members_a[2].pk
    answer = client.post(f"/cards/{cards.a1.pk}/replace/", {
        "new_card": cards.stock_a[1].pk, "identity_checked": "on"})
    assert answer.status_code == 302
    assert Card.objects.get(pk=cards.a1.pk).replaced_by_id == cards.stock_a[1].pk


def test_deregister_and_delete_application_through_the_console(world, cards, books, login):
    client = login(world.ent_admin_a)
    access = cards.a0.applications.get(kind="access")
    assert client.post(f"/cards/applications/{access.pk}/delete/", {}).status_code == 302
    page = client.get(f"/cards/{cards.a0.pk}/deregister/")
    client_id = page.context["form"].initial["client_id"]
    answer = client.post(f"/cards/{cards.a0.pk}/deregister/",
                         {"client_id": client_id, "recovered": "on"})
    assert answer.status_code == 302
    card = Card.objects.get(pk=cards.a0.pk)
    assert card.status == "deregistered" and card.recovered_at is not None


def test_my_card_and_self_service_loss_report(world, cards, login):
    client = login(world.member_user_a)
    page = client.get("/my-card/")
    assert page.status_code == 200 and page.context["card"].pk == cards.a0.pk
    assert page.context["may_report"] is True
    answer = client.post("/my-card/report-lost/", {"reason": "lost on the bus"})
    assert answer.status_code == 302
    assert Card.objects.get(pk=cards.a0.pk).status == "lost"
    before = state()
    again = client.post("/my-card/report-lost/", {})
    assert again.status_code == 409
    assert state() == before
    assert login(world.ent_admin_a).get("/my-card/").status_code == 404
