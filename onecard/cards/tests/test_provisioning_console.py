"""Console pages of stock, plans, openings, phone models and calibrations."""

from django.test import Client

from onecard.accounts.actions import set_language
from onecard.cards.actions import calibration as cal
from onecard.cards.actions import provisioning as prov
from onecard.cards.models import CalibrationRecord, Card, ProvisioningJob

from .test_provisioning import _cards, issue, plans, state  # noqa: F401 (fixture)
from .test_stock import iccid, imsi, serial


def login(user, language="en"):
    set_language(actor=user, language=language)
    client = Client()
    client.force_login(user)
    return client


def test_stock_pages(world):
    client = login(world.manager)
    assert client.get("/cards/stock/").status_code == 200
    assert client.get("/cards/stock/receive/").status_code == 200
    lines = f"{serial(1)},{iccid(1)},{imsi(1)}\n\n{serial(2)},{iccid(2)},{imsi(2)}\n"
    response = client.post("/cards/stock/receive/", {
        "branch": world.county_a.pk, "medium": "rfid_sim", "lines": lines})
    assert response.status_code == 302
    assert sorted(Card.objects.values_list("number", flat=True)) == [serial(1), serial(2)]
    response = client.post("/cards/stock/receive/", {
        "branch": world.county_a.pk, "medium": "rfid_sim",
        "lines": f"{serial(3)},{iccid(3)},4600012\n"})
    assert response.status_code == 400
    assert "Row 1: An IMSI has 15 digits." in response.content.decode()
    assert Card.objects.count() == 2
    response = client.post("/cards/stock/move/", {
        "operation": "assign", "numbers": f"{serial(1)}\n{serial(2)}",
        "group_customer": world.customer_a.pk})
    assert response.status_code == 302
    assert set(Card.objects.values_list("status", flat=True)) == {"assigned"}
    response = client.post("/cards/stock/move/", {"operation": "scrap", "numbers": serial(1)})
    assert response.status_code == 400  # no reason
    assert Card.objects.get(number=serial(1)).status == "assigned"
    page = client.get("/cards/stock/", {"status": "assigned"}).content.decode()
    assert serial(1) in page and serial(2) in page
    assert login(world.ent_admin_a).get("/cards/stock/").status_code == 404
    assert login(world.manager_b).post("/cards/stock/move/", {
        "operation": "return", "numbers": serial(1)}).status_code == 400
    assert Card.objects.get(number=serial(1)).status == "assigned"


def test_plans_and_openings_pages(plans):  # noqa: F811
    w = plans
    card = issue(w, _cards(w, 700, 1, w.county_a, w.customer_a)[0], w.members_a[0])
    response = login(w.manager).post("/cards/plans/", {
        "group_customer": w.customer_a.pk, "kind": "purse", "enabled": "", "quota": ""})
    assert response.status_code == 302
    assert login(w.ent_admin_a).get("/cards/plans/").status_code == 200
    assert login(w.ent_admin_a).post("/cards/plans/", {}).status_code == 404
    member = w.members_a[0]
    client = login(w.member_user_a)
    assert client.get("/cards/openings/request/").status_code == 200
    before = state()
    response = client.post("/cards/openings/request/", {
        "phone": member.phone, "name": member.name, "kind": "purse"})
    assert response.status_code == 400
    assert "has not enabled the Purse application" in response.content.decode()
    assert state() == before
    response = client.post("/cards/openings/request/", {
        "phone": member.phone, "name": member.name, "kind": "access"})
    assert response.status_code == 302
    job = ProvisioningJob.objects.get()
    page = login(w.ent_admin_a).get("/cards/openings/").content.decode()
    assert card.number in page and "Queued" in page
    assert login(w.ent_admin_b).get("/cards/openings/").content.decode().count(card.number) == 0
    assert login(w.ent_admin_b).post(f"/cards/openings/{job.pk}/cancel/").status_code == 404
    assert login(w.ent_admin_a).post(f"/cards/openings/{job.pk}/cancel/").status_code == 302
    job.refresh_from_db()
    assert job.status == "cancelled"
    response = login(w.integrator_engineer).post("/cards/openings/local/", {
        "card_number": card.number, "kind": "identity", "terminal_code": "ISS-1"})
    assert response.status_code == 302
    response = login(w.integrator_engineer).post("/cards/openings/local/", {
        "card_number": "0000", "kind": "identity"})
    assert response.status_code == 400


def test_phone_model_and_calibration_pages(plans):  # noqa: F811
    w = plans
    card = issue(w, _cards(w, 800, 1, w.county_a, w.customer_a)[0], w.members_a[1])
    client = login(w.admin)
    response = client.post("/cards/phone-models/", {
        "manufacturer": "Xiaomi", "model": "14", "default_threshold": -60, "min_signal": -70,
        "max_signal": -50})
    assert response.status_code == 302
    response = client.post("/cards/phone-models/", {
        "manufacturer": "Xiaomi", "model": "14", "default_threshold": -60, "min_signal": -70,
        "max_signal": -50})
    assert response.status_code == 409
    assert login(w.integrator_engineer).post("/cards/phone-models/", {}).status_code == 404
    phone = cal.create_phone_model(actor=w.admin, manufacturer="Honor", model="Magic6",
                                   default_threshold=-60, min_signal=-70, max_signal=-50)
    engineer = login(w.integrator_engineer)
    response = engineer.post("/cards/calibrations/record/", {
        "card_number": card.number, "phone_model": phone.pk, "measured_signal": -90})
    assert response.status_code == 302  # recorded as a failure
    response = engineer.post("/cards/calibrations/record/", {
        "card_number": card.number, "phone_model": phone.pk, "measured_signal": -58,
        "terminal_code": "CAL-7"})
    assert response.status_code == 302
    assert list(CalibrationRecord.objects.order_by("id").values_list("success", "threshold")) == [
        (False, None), (True, -58)]
    page = login(w.ent_admin_a).get("/cards/calibrations/").content.decode()
    assert "CAL-7" in page
    assert "CAL-7" not in login(w.ent_admin_b).get("/cards/calibrations/").content.decode()
    response = login(w.ent_admin_b).post("/cards/calibrations/record/", {
        "card_number": card.number, "phone_model": phone.pk, "measured_signal": -58})
    assert response.status_code == 400
    assert CalibrationRecord.objects.count() == 2
    assert prov.OPEN_JOB_STATUSES


def test_pages_speak_chinese(world):
    client = login(world.manager, language="zh-hans")
    assert "卡库存" in client.get("/cards/stock/").content.decode()
    response = client.post("/cards/stock/receive/", {
        "branch": world.county_a.pk, "medium": "rfid_sim",
        "lines": f"{serial(3)},{iccid(3)},4600012\n"})
    assert response.status_code == 400
    assert "第 1 行：IMSI 为 15 位数字。" in response.content.decode()
    assert not Card.objects.exists()
    for url in ("/cards/plans/", "/cards/openings/", "/cards/phone-models/",
                "/cards/calibrations/", "/cards/openings/request/"):
        assert client.get(url).status_code == 200, url
