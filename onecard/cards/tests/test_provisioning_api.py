"""The stock, plan, opening, phone model and calibration API: through the actions, gatekept,
4xx (never 500) on bad input, nothing changed on refusal."""

import pytest

from onecard.cards.actions import calibration as cal
from onecard.cards.actions import provisioning as prov
from onecard.cards.models import Card, ProvisioningJob

from .test_provisioning import _cards, issue, plans, state  # noqa: F401 (fixture)
from .test_stock import serial, sim_row


@pytest.fixture
def opened(plans):  # noqa: F811
    w = plans
    w.card = issue(w, _cards(w, 500, 1, w.county_a, w.customer_a)[0], w.members_a[0])
    w.card_b = issue(w, _cards(w, 600, 1, w.county_b, w.customer_b)[0], w.members_b[0])
    return w


def test_receive_assign_return_scrap(world, api_as):
    client = api_as(world.manager)
    response = client.post("/api/v1/card-stock/receive/", {
        "branch": world.county_a.pk, "medium": "rfid_sim",
        "cards": [sim_row(1), sim_row(2)]}, format="json")
    assert response.status_code == 201, response.json()
    ids = [row["id"] for row in response.json()]
    assert [row["status"] for row in response.json()] == ["in_stock", "in_stock"]
    response = client.post("/api/v1/card-stock/assign/", {
        "cards": ids, "group_customer": world.customer_a.pk}, format="json")
    assert [row["status"] for row in response.json()] == ["assigned", "assigned"]
    response = client.post("/api/v1/card-stock/return/", {"cards": ids[:1]}, format="json")
    assert response.json()[0]["status"] == "in_stock"
    response = client.post(f"/api/v1/card-stock/{ids[0]}/scrap/", {"reason": "Damaged"},
                           format="json")
    assert response.json()["status"] == "scrapped"
    listed = client.get("/api/v1/card-stock/", {"status": "assigned"}).json()
    assert [row["id"] for row in listed["results"]] == ids[1:]


def test_receive_refusals_are_4xx_and_change_nothing(world, api_as):
    client = api_as(world.manager)
    client.credentials(HTTP_ACCEPT_LANGUAGE="en")  # answers speak the request's language
    bad = sim_row(1)
    bad["number"] = serial(1)[:-1] + str((int(serial(1)[-1]) + 1) % 10)
    before = list(Card.objects.values_list("pk"))
    for body, code in (
        ({"branch": world.county_a.pk, "medium": "rfid_sim", "cards": [bad]}, 400),
        ({"branch": world.county_b.pk, "medium": "rfid_sim", "cards": [sim_row(1)]}, 403),
        ({"branch": 999999, "medium": "rfid_sim", "cards": [sim_row(1)]}, 400),
        ({"branch": world.county_a.pk, "medium": "rfid_sim", "cards": "x"}, 400),
        ({"branch": world.county_a.pk, "medium": "rfid_sim", "cards": [[1]]}, 400),
        ({"branch": world.county_a.pk, "medium": "rfid_sim", "cards": [{"number": {}}]}, 400),
        ({"branch": "1e9", "medium": 5, "cards": [], "extra": 1}, 400),
    ):
        response = client.post("/api/v1/card-stock/receive/", body, format="json")
        assert response.status_code == code, (body, response.content)
    response = client.post("/api/v1/card-stock/receive/", {
        "branch": world.county_a.pk, "medium": "rfid_sim", "cards": [bad]}, format="json")
    assert response.json() == {
        "cards[0].number": ["Row 1: The check digit of this card number is wrong."],
        "code": "invalid"}
    assert list(Card.objects.values_list("pk")) == before


@pytest.mark.parametrize("user", ["ent_admin_a", "member_user_a", "vendor_engineer"])
def test_stock_is_not_there_for_other_roles(world, api_as, user):
    client = api_as(getattr(world, user))
    assert client.get("/api/v1/card-stock/").status_code == 404
    response = client.post("/api/v1/card-stock/receive/", {
        "branch": world.county_a.pk, "medium": "rfid_sim", "cards": [sim_row(1)]},
        format="json")
    assert response.status_code == 404
    assert not Card.objects.exists()


def test_integrator_engineers_read_but_do_not_keep_stock(world, api_as):
    client = api_as(world.integrator_engineer)
    assert client.get("/api/v1/card-stock/").status_code == 200
    response = client.post("/api/v1/card-stock/receive/", {
        "branch": world.county_a.pk, "medium": "rfid_sim", "cards": [sim_row(1)]},
        format="json")
    assert response.status_code == 400  # no branch is theirs to receive into
    assert not Card.objects.exists()


def test_foreign_card_ids_look_unknown(world, api_as):
    cards = _cards(world, 1, 1, world.county_b, world.customer_b)
    client = api_as(world.manager)
    client.credentials(HTTP_ACCEPT_LANGUAGE="en")
    response = client.post("/api/v1/card-stock/return/", {"cards": [cards[0].pk]}, format="json")
    assert response.status_code == 400
    assert response.json()["cards"] == [f"Unknown card: {cards[0].pk}."]
    assert Card.objects.get(pk=cards[0].pk).status == "assigned"


def test_plans_api(plans, api_as):  # noqa: F811
    w = plans
    response = api_as(w.manager).post("/api/v1/card-application-plans/", {
        "group_customer": w.customer_a.pk, "kind": "purse", "enabled": True, "quota": 3},
        format="json")
    assert (response.status_code, response.json()["quota"]) == (200, 3)
    before = state()
    for user, body, code in (
        (w.manager_b, {"group_customer": w.customer_a.pk, "kind": "purse", "enabled": True},
         400),
        (w.ent_admin_a, {"group_customer": w.customer_a.pk, "kind": "purse", "enabled": True},
         400),
        (w.manager, {"group_customer": w.customer_a.pk, "kind": "gym", "enabled": True}, 400),
        (w.manager, {"group_customer": w.customer_a.pk, "kind": "purse", "enabled": True,
                     "quota": -1}, 400),
    ):
        response = api_as(user).post("/api/v1/card-application-plans/", body, format="json")
        assert response.status_code == code, response.content
    assert state() == before
    listed = api_as(w.ent_admin_a).get("/api/v1/card-application-plans/").json()["results"]
    assert {row["group_customer"] for row in listed} == {w.customer_a.pk}
    assert api_as(w.member_user_a).get("/api/v1/card-application-plans/").json()["count"] == 0


def test_member_requests_own_opening_and_admin_watches_it(opened, api_as):
    w = opened
    member = w.members_a[0]
    response = api_as(w.member_user_a).post("/api/v1/card-openings/", {
        "phone": member.phone, "name": member.name, "kind": "access"}, format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["status"], body["application"]["card"], body["application"]["kind"]) == (
        "queued", w.card.pk, "access")
    prov.deliver_provisioning_jobs()
    seen = api_as(w.ent_admin_a).get(f"/api/v1/card-openings/{body['id']}/").json()
    assert (seen["status"], seen["attempts"], seen["application"]["status"]) == (
        "delivered", 1, "active")
    assert api_as(w.ent_admin_b).get(f"/api/v1/card-openings/{body['id']}/").status_code == 404
    assert api_as(w.ent_admin_b).get("/api/v1/card-openings/").json()["count"] == 0


def test_opening_refusals(opened, api_as):
    w = opened
    prov.set_application_plan(actor=w.admin, group_customer=w.customer_a, kind="purse",
                              enabled=False)
    client = api_as(w.ent_admin_a)
    member = w.members_a[0]
    before = state()
    cases = (
        ({"phone": "13999999999", "name": member.name, "kind": "access"}, 400, "not_in_roster"),
        ({"phone": member.phone, "name": "Nobody", "kind": "access"}, 400, "name_mismatch"),
        ({"phone": member.phone, "name": member.name, "kind": "purse"}, 400,
         "application_not_enabled"),
        ({"phone": member.phone, "name": member.name, "kind": "x"}, 400, None),
        ({"phone": ["1"], "name": member.name, "kind": "access"}, 400, None),
        ({"group_customer": w.customer_b.pk, "phone": w.members_b[0].phone,
          "name": w.members_b[0].name, "kind": "access"}, 400, None),
    )
    for body, code, error in cases:
        response = client.post("/api/v1/card-openings/", body, format="json")
        assert response.status_code == code, response.content
        if error:
            assert response.json()["code"] == error
    assert state() == before


def test_cancel_confirm_and_local_opening(opened, api_as):
    w = opened
    job = prov.request_application_opening(actor=w.ent_admin_a, group_customer=w.customer_a,
                                           phone=w.members_a[0].phone,
                                           name=w.members_a[0].name, kind="attendance")
    assert api_as(w.ent_admin_b).post(f"/api/v1/card-openings/{job.pk}/cancel/", {},
                                      format="json").status_code == 404
    response = api_as(w.ent_admin_a).post(f"/api/v1/card-openings/{job.pk}/confirm/",
                                          {"success": True}, format="json")
    assert response.status_code == 403
    response = api_as(w.admin).post(f"/api/v1/card-openings/{job.pk}/confirm/",
                                    {"success": True}, format="json")
    assert (response.status_code, response.json()["code"]) == (409, "job_not_sent")
    response = api_as(w.ent_admin_a).post(f"/api/v1/card-openings/{job.pk}/cancel/",
                                          {"reason": "Not needed"}, format="json")
    assert response.json()["status"] == "cancelled"
    assert ProvisioningJob.objects.get(pk=job.pk).application.status == "deleted"
    response = api_as(w.integrator_engineer).post("/api/v1/card-openings/local/", {
        "card": w.card.pk, "kind": "identity", "terminal_code": "ISS-9"}, format="json")
    assert (response.status_code, response.json()["status"]) == (201, "active")
    response = api_as(w.integrator_engineer).post("/api/v1/card-openings/local/", {
        "card": w.card_b.pk, "kind": "identity"}, format="json")
    assert response.status_code == 400 and "card" in response.json()


def test_phone_models_and_calibration(opened, api_as):
    w = opened
    response = api_as(w.admin).post("/api/v1/phone-models/", {
        "manufacturer": "Huawei", "model": "P60", "default_threshold": -60,
        "min_signal": -70, "max_signal": -50}, format="json")
    assert response.status_code == 201, response.content
    model_id = response.json()["id"]
    for body in ({"manufacturer": "Huawei", "model": "P60", "default_threshold": -60,
                  "min_signal": -70, "max_signal": -50},
                 {"manufacturer": "X", "model": "Y", "default_threshold": -60,
                  "min_signal": -40, "max_signal": -50},
                 {"manufacturer": "X", "model": "Y", "default_threshold": 10**20,
                  "min_signal": -70, "max_signal": -50}):
        assert api_as(w.admin).post("/api/v1/phone-models/", body,
                                    format="json").status_code in (400, 409)
    assert api_as(w.ent_admin_a).post("/api/v1/phone-models/", {
        "manufacturer": "X", "model": "Z", "default_threshold": -60, "min_signal": -70,
        "max_signal": -50}, format="json").status_code == 403
    assert api_as(w.member_user_a).get("/api/v1/phone-models/").json()["count"] == 1
    response = api_as(w.integrator_engineer).post("/api/v1/calibrations/", {
        "card": w.card.pk, "phone_model": model_id, "measured_signal": -61,
        "terminal_code": "CAL-1"}, format="json")
    assert (response.status_code, response.json()["success"], response.json()["threshold"]) == (
        201, True, -61)
    assert api_as(w.integrator_engineer).post("/api/v1/calibrations/", {
        "card": w.card_b.pk, "phone_model": model_id, "measured_signal": -61},
        format="json").status_code == 400
    assert api_as(w.ent_admin_a).get("/api/v1/calibrations/").json()["count"] == 1
    assert api_as(w.ent_admin_b).get("/api/v1/calibrations/").json()["count"] == 0
    other = cal.create_phone_model(actor=w.admin, manufacturer="Apple", model="iPhone 15",
                                   default_threshold=-55, min_signal=-65, max_signal=-45)
    response = api_as(w.member_user_a).post("/api/v1/calibrations/phone-change/", {
        "card": w.card.pk, "phone_model": other.pk}, format="json")
    assert (response.status_code, Card.objects.get(pk=w.card.pk).calibration_required) == (
        200, True)
    assert api_as(w.member_user_b).post("/api/v1/calibrations/phone-change/", {
        "card": w.card.pk, "phone_model": model_id}, format="json").status_code == 400
