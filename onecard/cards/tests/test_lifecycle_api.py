"""Cards lifecycle API: scoped reads, one action per POST, 4xx refusals that change nothing."""

import pytest

from onecard.cards.models import Card, CredentialChange
from onecard.notifications.models import Notification

from .test_lifecycle import state


def test_lists_are_scoped(world, cards, api_as):
    ids = lambda user: sorted(c["id"] for c in api_as(user).get("/api/v1/cards/").json()[  # noqa: E731
        "results"])
    assert ids(world.ent_admin_a) == sorted([cards.a0.pk, cards.a1.pk])
    assert ids(world.ent_admin_b) == [cards.b0.pk]
    assert ids(world.member_user_a) == [cards.a0.pk]
    assert ids(world.vendor_engineer) == []
    assert api_as(world.ent_admin_a).get(f"/api/v1/cards/{cards.b0.pk}/").status_code == 404
    assert api_as(world.ent_admin_a).get(f"/api/v1/cards/{cards.a0.pk}/").json()["status"] \
        == "active"


def test_events_of_a_card(world, cards, api_as):
    answer = api_as(world.ent_admin_a).get(f"/api/v1/cards/{cards.a0.pk}/events/")
    assert answer.status_code == 200
    assert [e["kind"] for e in answer.json()["results"]][:2] == ["received", "issued"]
    assert api_as(world.ent_admin_b).get(
        f"/api/v1/cards/{cards.a0.pk}/events/").status_code == 404


def test_issue_through_the_api(world, cards, api_as):
    card = cards.stock_a[0]
    answer = api_as(world.manager).post(f"/api/v1/cards/{card.pk}/issue/", {
        "member": world.members_a[2].pk, "applications": ["identity", "access"]})
    assert answer.status_code == 200, answer.json()
    body = answer.json()
    assert (body["status"], body["member"], body["msisdn"]) == (
        "active", world.members_a[2].pk, world.members_a[2].phone)
    assert sorted(a["kind"] for a in body["applications"]) == ["access", "identity"]


@pytest.mark.parametrize("payload, status, key", [
    ({"member": "x"}, 400, "member"),
    ({"member": 10**30}, 400, "member"),
    ({"applications": "purse"}, 400, "applications"),
    ({"applications": ["teleport"]}, 400, "applications"),
    ({"surprise": 1}, 400, "surprise"),
    ({}, 400, "member"),
])
def test_issue_bad_input_is_400_and_changes_nothing(world, cards, api_as, payload, status, key):
    before = state()
    answer = api_as(world.manager).post(f"/api/v1/cards/{cards.stock_a[0].pk}/issue/", payload,
                                        format="json")
    assert answer.status_code == status, answer.json()
    assert key in answer.json()
    assert state() == before


def test_issue_to_another_tenants_member_is_refused(world, cards, api_as):
    from onecard.cards.actions import stock

    stock.assign_cards(actor=world.manager, cards=[cards.stock_a[0]],
                       group_customer=world.customer_a)
    before = state()
    answer = api_as(world.ent_admin_a).post(f"/api/v1/cards/{cards.stock_a[0].pk}/issue/",
                                            {"member": world.members_b[1].pk})
    assert answer.status_code == 400 and "member" in answer.json()
    assert state() == before


def test_member_self_service_loss_report(world, cards, api_as):
    member = api_as(world.member_user_a)
    assert member.get("/api/v1/cards/mine/").json()["id"] == cards.a0.pk
    # Not through the admin route: the member changes nothing else.
    assert member.post(f"/api/v1/cards/{cards.a0.pk}/report-lost/", {}).status_code == 404
    answer = member.post("/api/v1/cards/mine/report-lost/", {"reason": "lost it"})
    assert answer.status_code == 200 and answer.json()["status"] == "lost"
    assert Notification.objects.filter(member=world.members_a[0]).count() == 1
    again = member.post("/api/v1/cards/mine/report-lost/", {})
    assert again.status_code == 409 and again.json()["code"] == "transition_refused"
    assert api_as(world.ent_admin_a).get("/api/v1/cards/mine/").status_code == 404


def test_unreport_suspend_resume(world, cards, api_as):
    admin = api_as(world.ent_admin_a)
    url = f"/api/v1/cards/{cards.a0.pk}"
    assert admin.post(f"{url}/report-lost/", {}).status_code == 200
    before = state()
    refused = admin.post(f"{url}/unreport/", {"identity_checked": False})
    assert refused.status_code == 400 and refused.json()["code"] == "identity_not_checked"
    assert admin.post(f"{url}/unreport/", {}).status_code == 400
    assert state() == before
    assert admin.post(f"{url}/unreport/", {"identity_checked": True}).json()["status"] == "active"
    assert admin.post(f"{url}/suspend/", {"reason": "leave"}).json()["status"] == "suspended"
    assert admin.post(f"{url}/resume/", {}).json()["status"] == "active"
    wrong = admin.post(f"{url}/resume/", {})
    assert wrong.status_code == 409 and "“正常”" in wrong.json()["status"][0]  # zh-Hans user


def test_replace_deregister_recover(world, cards, books, api_as):
    from onecard.wallet.verify import verify_ledger

    books.top_up(world.members_a[0], 800)
    admin = api_as(world.manager)
    answer = admin.post(f"/api/v1/cards/{cards.a0.pk}/replace/",
                        {"new_card": cards.stock_a[0].pk, "identity_checked": True})
    assert answer.status_code == 200, answer.json()
    assert answer.json()["id"] == cards.stock_a[0].pk
    other = admin.post(f"/api/v1/cards/{cards.a1.pk}/replace/",
                       {"new_card": cards.stock_b[0].pk, "identity_checked": True})
    assert other.status_code == 400 and "new_card" in other.json()
    dereg = admin.post(f"/api/v1/cards/{cards.stock_a[0].pk}/deregister/",
                       {"client_id": "d-1", "recovered": True})
    assert dereg.status_code == 200, dereg.json()
    assert dereg.json()["status"] == "deregistered"
    assert verify_ledger().ok
    assert admin.post(f"/api/v1/cards/{cards.a0.pk}/recover/", {}).json()["recovered_at"]


def test_delete_application_and_customer_suspension(world, cards, api_as):
    admin = api_as(world.ent_admin_a)
    access = cards.a0.applications.get(kind="access")
    answer = admin.post(f"/api/v1/cards/applications/{access.pk}/delete/", {})
    assert answer.status_code == 200 and answer.json()["status"] == "deleted"
    assert api_as(world.ent_admin_b).post(
        f"/api/v1/cards/applications/{access.pk}/delete/", {}).status_code == 404
    url = f"/api/v1/cards/group-customers/{world.customer_a.pk}"
    assert admin.post(f"{url}/suspend-cards/", {}).status_code == 400
    suspended = admin.post(f"{url}/suspend-cards/", {"reason": "arrears"})
    assert sorted(c["id"] for c in suspended.json()) == sorted([cards.a0.pk, cards.a1.pk])
    assert api_as(world.ent_admin_b).post(f"{url}/resume-cards/", {}).status_code == 404
    resumed = admin.post(f"{url}/resume-cards/", {})
    assert [c["status"] for c in resumed.json()] == ["active", "active"]


def test_credential_list_delta(world, cards, api_as):
    admin = api_as(world.ent_admin_a)
    url = f"/api/v1/cards/credentials/?group_customer={world.customer_a.pk}"
    full = admin.get(url).json()
    assert [c["card"] for c in full["changes"]] == [cards.a0.pk, cards.a1.pk]
    since = full["version"]
    admin.post(f"/api/v1/cards/{cards.a1.pk}/suspend/", {})
    delta = admin.get(f"{url}&since={since}").json()
    assert [(c["version"], c["card"], c["state"]) for c in delta["changes"]] == [
        (since + 1, cards.a1.pk, "deny")]
    assert admin.get(f"{url}&since=abc").status_code == 400
    assert api_as(world.ent_admin_b).get(url).status_code == 404
    assert api_as(world.member_user_a).get(url).status_code == 404
    assert CredentialChange.objects.filter(group_customer=world.customer_a).count() == 3


def test_no_card_leaks_through_unknown_ids(world, cards, api_as):
    admin = api_as(world.ent_admin_a)
    for path in ("/api/v1/cards/999999/", "/api/v1/cards/999999999999999999/suspend/"):
        method = admin.post if path.endswith("suspend/") else admin.get
        assert method(path, {}).status_code == 404
    assert Card.objects.count() == 17
