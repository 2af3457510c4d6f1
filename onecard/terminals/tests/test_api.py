"""Terminal registry API: scoped to the customer, create shows the code once, transitions."""

from onecard.audit.models import AuditRecord
from onecard.terminals.models import Terminal


def test_enterprise_admin_registers_and_sees_only_own_terminals(world, api_as):
    api = api_as(world.ent_admin_a)
    response = api.post("/api/v1/terminals/", {"kind": "door_controller", "name": "Gate",
                                               "frequencies": ["2.4ghz", "13.56mhz"]})
    assert response.status_code == 201, response.json()
    body = response.json()
    assert len(body["enrolment_code"]) == 16
    assert body["terminal"]["state"] == "pending"
    assert body["terminal"]["group_customer"] == world.customer_a.pk
    pk = body["terminal"]["id"]
    assert "secret" not in api.get(f"/api/v1/terminals/{pk}/").json()
    other = api_as(world.ent_admin_b)
    assert other.get(f"/api/v1/terminals/{pk}/").status_code == 404
    assert other.get("/api/v1/terminals/").json()["count"] == 0
    before = Terminal.objects.get(pk=pk).state
    assert other.post(f"/api/v1/terminals/{pk}/retire/", {}).status_code == 404
    assert Terminal.objects.get(pk=pk).state == before
    assert api_as(world.member_user_a).get("/api/v1/terminals/").json()["count"] == 0


def test_refusals_are_4xx_and_change_nothing(world, api_as):
    api = api_as(world.ent_admin_a)
    count = Terminal.objects.count()
    assert api.post("/api/v1/terminals/", {"kind": "pos", "name": "Till"}).status_code == 400
    assert api.post("/api/v1/terminals/", {"kind": "toaster", "name": "x"}).status_code == 400
    assert api.post("/api/v1/terminals/", {"kind": "door_controller", "name": "x",
                                           "frequencies": ["5ghz"]}).status_code == 400
    assert Terminal.objects.count() == count
    pk = api.post("/api/v1/terminals/", {"kind": "calibrator", "name": "Cal"}).json()[
        "terminal"]["id"]
    audits = AuditRecord.objects.count()
    response = api.post(f"/api/v1/terminals/{pk}/disable/", {})
    assert response.status_code == 409  # pending → disabled is not in the table
    assert api.post(f"/api/v1/terminals/{pk}/rotate-secret/", {}).status_code == 400
    assert AuditRecord.objects.count() == audits
    assert api.post(f"/api/v1/terminals/{pk}/enrolment-code/").status_code == 200
    assert api.post(f"/api/v1/terminals/{pk}/retire/", {"reason": "gone"}).json()[
        "state"] == "retired"
