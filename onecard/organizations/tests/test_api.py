"""Organizations through the public API: branches, group customers and their lifecycle,
departments, integrators and vendors. Every refusal also checks that nothing changed."""

import pytest

from onecard.audit.models import AuditRecord
from onecard.organizations.models import (
    Branch,
    Department,
    GroupCustomer,
    GroupCustomerEvent,
    Integrator,
    TerminalVendor,
)


def audit_count():
    return AuditRecord.objects.count()


def row(model, pk):
    return model.objects.filter(pk=pk).values().get()


def ids(response):
    return [item["id"] for item in response.json()["results"]]


# --- Branches -----------------------------------------------------------------------------------


def test_operator_staff_list_branches_in_tree_order(world, api_as):
    response = api_as(world.manager).get("/api/v1/branches/")
    assert response.status_code == 200
    assert ids(response) == [world.province.pk, world.city.pk, world.county_a.pk,
                             world.county_b.pk]
    first = response.json()["results"][0]
    assert first == {
        "id": world.province.pk, "operator": world.operator.pk, "parent": None,
        "level": "province", "name": "Province", "code": "P1", "path": world.province.path,
        "created_at": first["created_at"],
    }


def test_branch_filters(world, api_as):
    client = api_as(world.admin)
    assert ids(client.get("/api/v1/branches/", {"level": "county"})) == [world.county_a.pk,
                                                                         world.county_b.pk]
    assert ids(client.get("/api/v1/branches/", {"parent": world.province.pk})) == [world.city.pk]
    assert ids(client.get("/api/v1/branches/", {"search": "K2"})) == [world.county_b.pk]


@pytest.mark.parametrize("who", ["ent_admin_a", "member_user_a", "integrator_engineer",
                                 "vendor_engineer"])
def test_branches_are_invisible_outside_the_operator(world, api_as, who):
    client = api_as(getattr(world, who))
    assert client.get("/api/v1/branches/").json()["count"] == 0
    assert client.get(f"/api/v1/branches/{world.county_a.pk}/").status_code == 404


def test_operator_admin_creates_a_county_branch(world, api_as):
    before = audit_count()
    response = api_as(world.admin).post("/api/v1/branches/", {
        "level": "county", "name": "County C", "code": "K3", "parent": world.city.pk})
    assert response.status_code == 201
    branch = Branch.objects.get(code="K3")
    assert response.json()["id"] == branch.pk
    assert branch.parent == world.city
    assert branch.operator == world.operator
    assert branch.path == f"{world.city.path}{branch.pk}/"
    assert audit_count() == before + 1
    assert AuditRecord.objects.latest("id").action == "branch.created"


def test_a_province_takes_the_platform_operator(world, api_as):
    response = api_as(world.admin).post("/api/v1/branches/", {
        "level": "province", "name": "Province 2", "code": "P2"})
    assert response.status_code == 201
    assert Branch.objects.get(code="P2").operator == world.operator


@pytest.mark.parametrize("body,status,field", [
    ({"level": "county", "name": "X", "code": "K9", "parent": "city"}, 400, "parent"),
    ({"level": "county", "name": "X", "code": "K9", "parent": 1.5}, 400, "parent"),
    ({"level": "county", "name": "X", "code": "K9"}, 400, "parent"),
    ({"level": "city", "name": "X", "code": "K9", "parent": "{county_a}"}, 400, "parent"),
    ({"level": "town", "name": "X", "code": "K9", "parent": "{city}"}, 400, "level"),
    ({"level": "county", "name": "X", "code": "K1", "parent": "{city}"}, 400,
     "non_field_errors"),
    ({"level": "county", "name": "", "code": "K9", "parent": "{city}"}, 400, "name"),
])
def test_bad_branches_are_refused(world, api_as, body, status, field):
    if isinstance(body.get("parent"), str) and body["parent"].startswith("{"):
        body = {**body, "parent": getattr(world, body["parent"][1:-1]).pk}
    before = (Branch.objects.count(), audit_count())
    response = api_as(world.admin).post("/api/v1/branches/", body)
    assert response.status_code == status
    assert field in response.json()
    assert (Branch.objects.count(), audit_count()) == before


def test_customer_manager_may_not_create_branches(world, api_as):
    before = (Branch.objects.count(), audit_count())
    client = api_as(world.manager)
    refused = client.post("/api/v1/branches/", {"level": "province", "name": "X", "code": "P9"})
    assert refused.status_code == 403
    assert refused.json()["code"] == "not_allowed"
    # A parent the manager may not change is refused like one that does not exist.
    refused = client.post("/api/v1/branches/", {"level": "county", "name": "X", "code": "K9",
                                                "parent": world.city.pk})
    assert refused.status_code == 400
    assert list(refused.json()) == ["parent"]
    assert (Branch.objects.count(), audit_count()) == before


def test_branches_have_no_update_or_delete(world, api_as):
    client = api_as(world.admin)
    url = f"/api/v1/branches/{world.county_a.pk}/"
    assert client.patch(url, {"name": "Renamed"}).status_code == 405
    assert client.delete(url).status_code == 405
    assert row(Branch, world.county_a.pk)["name"] == "County A"


# --- Group customers ----------------------------------------------------------------------------


def test_customer_manager_signs_up_a_customer(world, api_as):
    before = audit_count()
    response = api_as(world.manager).post("/api/v1/group-customers/", {
        "branch": world.county_a.pk, "name": "Campus C", "code": "GC-c", "kind": "campus",
        "contact_name": "Li", "address": "1 Road"})
    assert response.status_code == 201
    body = response.json()
    customer = GroupCustomer.objects.get(code="GC-c")
    assert body == {
        "id": customer.pk, "branch": world.county_a.pk, "name": "Campus C", "code": "GC-c",
        "kind": "campus", "status": "pending", "customer_manager": world.manager.pk,
        "business_licence_number": "", "contact_name": "Li", "contact_phone": "",
        "contract_number": "", "address": "1 Road", "verified_by": None, "verified_at": None,
        "created_at": body["created_at"],
    }
    assert audit_count() == before + 1
    assert AuditRecord.objects.latest("id").group_customer_id == customer.pk


def test_customer_manager_cannot_sign_up_customers_in_another_county(world, api_as):
    before = (GroupCustomer.objects.count(), audit_count())
    response = api_as(world.manager).post("/api/v1/group-customers/", {
        "branch": world.county_b.pk, "name": "Elsewhere", "code": "GC-x"})
    assert response.status_code == 400
    assert list(response.json()) == ["branch"]
    assert (GroupCustomer.objects.count(), audit_count()) == before


def test_operator_admin_names_the_customer_manager(world, api_as):
    client = api_as(world.admin)
    response = client.post("/api/v1/group-customers/", {
        "branch": world.county_b.pk, "name": "D", "code": "GC-d",
        "customer_manager": world.manager_b.pk})
    assert response.status_code == 201
    assert response.json()["customer_manager"] == world.manager_b.pk
    # An account that is not a customer manager is refused by the action, field named.
    before = (GroupCustomer.objects.count(), audit_count())
    refused = client.post("/api/v1/group-customers/", {
        "branch": world.county_b.pk, "name": "E", "code": "GC-e",
        "customer_manager": world.agent1.pk})
    assert refused.status_code == 400
    assert list(refused.json()) == ["customer_manager", "code"]
    assert (GroupCustomer.objects.count(), audit_count()) == before


def test_duplicate_customer_code_is_refused_with_the_field_named(world, api_as):
    before = (GroupCustomer.objects.count(), audit_count())
    response = api_as(world.manager).post("/api/v1/group-customers/", {
        "branch": world.county_a.pk, "name": "Again", "code": "GC-a"})
    assert response.status_code == 400
    # The field is called "code", so the machine code of the refusal moves to "error_code".
    assert list(response.json()) == ["code", "error_code"]
    assert len(response.json()["code"]) == 1
    assert response.json()["error_code"] == "invalid"
    assert (GroupCustomer.objects.count(), audit_count()) == before


@pytest.mark.parametrize("who", ["ent_admin_a", "agent1", "member_user_a"])
def test_only_managers_and_admins_sign_up_customers(world, api_as, who):
    before = (GroupCustomer.objects.count(), audit_count())
    response = api_as(getattr(world, who)).post("/api/v1/group-customers/", {
        "branch": world.county_a.pk, "name": "Nope", "code": "GC-n"})
    assert response.status_code in (400, 403)
    assert (GroupCustomer.objects.count(), audit_count()) == before


def test_customer_manager_edits_details(world, api_as):
    before = audit_count()
    url = f"/api/v1/group-customers/{world.customer_a.pk}/"
    response = api_as(world.manager).patch(url, {"contact_name": "Wang", "address": "2 Road"})
    assert response.status_code == 200
    assert response.json()["contact_name"] == "Wang"
    assert row(GroupCustomer, world.customer_a.pk)["address"] == "2 Road"
    assert audit_count() == before + 1
    assert AuditRecord.objects.latest("id").action == "group_customer.updated"


@pytest.mark.parametrize("body,field", [
    ({"code": "NEW"}, "code"), ({"status": "closed"}, "status"),
    ({"verified_by": 1}, "verified_by"), ({"kind": "spaceship"}, "kind"),
    ({"branch": None}, "branch"), ({"name": ""}, "name"),
])
def test_customer_fields_that_cannot_be_patched(world, api_as, body, field):
    before = (row(GroupCustomer, world.customer_a.pk), audit_count())
    response = api_as(world.manager).patch(f"/api/v1/group-customers/{world.customer_a.pk}/",
                                           body)
    assert response.status_code == 400
    assert list(response.json()) == [field]
    assert (row(GroupCustomer, world.customer_a.pk), audit_count()) == before


def test_enterprise_admin_reads_but_does_not_change_their_customer(world, api_as):
    client = api_as(world.ent_admin_a)
    assert ids(client.get("/api/v1/group-customers/")) == [world.customer_a.pk]
    assert client.get(f"/api/v1/group-customers/{world.customer_a.pk}/").status_code == 200
    before = (row(GroupCustomer, world.customer_a.pk), audit_count())
    url = f"/api/v1/group-customers/{world.customer_a.pk}/"
    assert client.patch(url, {"name": "Mine now"}).status_code == 404
    assert client.post(url + "suspend/", {"reason": "x"}).status_code == 404
    assert (row(GroupCustomer, world.customer_a.pk), audit_count()) == before


def _pending_customer(world, api_as):
    response = api_as(world.manager).post("/api/v1/group-customers/", {
        "branch": world.county_a.pk, "name": "New Co", "code": "GC-new"})
    assert response.status_code == 201
    return response.json()["id"]


PAPERS = {"business_licence_number": "91500000NEW", "contact_name": "Zhao",
          "contact_phone": "13800000001", "contract_number": "CT-new"}


def test_verify_records_the_papers_and_the_verifier(world, api_as):
    pk = _pending_customer(world, api_as)
    response = api_as(world.manager).post(f"/api/v1/group-customers/{pk}/verify/", PAPERS)
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "verified"
    assert body["verified_by"] == world.manager.pk
    assert body["contract_number"] == "CT-new"
    assert body["verified_at"] is not None
    event = GroupCustomerEvent.objects.get(group_customer_id=pk)
    assert (event.from_status, event.to_status, event.actor) == ("pending", "verified",
                                                                 world.manager)


@pytest.mark.parametrize("missing", sorted(PAPERS))
def test_verify_needs_every_paper(world, api_as, missing):
    pk = _pending_customer(world, api_as)
    before = (row(GroupCustomer, pk), audit_count())
    body = {**PAPERS, missing: ""}
    response = api_as(world.manager).post(f"/api/v1/group-customers/{pk}/verify/", body)
    assert response.status_code == 400
    assert list(response.json()) == [missing]
    assert (row(GroupCustomer, pk), audit_count()) == before


def test_customer_lifecycle_suspend_resume_close(world, api_as):
    client = api_as(world.manager)
    url = f"/api/v1/group-customers/{world.customer_a.pk}/"
    assert client.post(url + "suspend/", {"reason": "Arrears"}).json()["status"] == "suspended"
    assert client.post(url + "resume/", {"reason": "Paid"}).json()["status"] == "verified"
    assert client.post(url + "close/", {"reason": "Contract ended"}).json()["status"] == "closed"
    events = GroupCustomerEvent.objects.filter(group_customer=world.customer_a)
    assert [(e.to_status, e.reason) for e in events] == [
        ("verified", ""), ("suspended", "Arrears"), ("verified", "Paid"),
        ("closed", "Contract ended")]
    # Closed is the end: nothing leads out of it.
    before = (row(GroupCustomer, world.customer_a.pk), audit_count())
    for name in ("suspend", "resume", "close"):
        refused = client.post(url + f"{name}/", {"reason": "again"})
        assert refused.status_code == 409
        assert refused.json()["code"] == "transition_refused"
    refused = client.post(url + "verify/", PAPERS)
    assert refused.status_code == 409
    assert (row(GroupCustomer, world.customer_a.pk), audit_count()) == before


@pytest.mark.parametrize("body,field", [({}, "reason"), ({"reason": ""}, "reason"),
                                        ({"reason": "  "}, "reason"),
                                        ({"reason": "x", "force": True}, "force")])
def test_lifecycle_changes_need_a_reason(world, api_as, body, field):
    before = (row(GroupCustomer, world.customer_a.pk), audit_count())
    response = api_as(world.manager).post(
        f"/api/v1/group-customers/{world.customer_a.pk}/suspend/", body)
    assert response.status_code == 400
    assert list(response.json())[0] == field
    assert (row(GroupCustomer, world.customer_a.pk), audit_count()) == before


def test_group_customers_cannot_be_deleted(world, api_as):
    response = api_as(world.admin).delete(f"/api/v1/group-customers/{world.customer_a.pk}/")
    assert response.status_code == 405
    assert GroupCustomer.objects.filter(pk=world.customer_a.pk).exists()


def test_group_customer_filters_and_search(world, api_as):
    client = api_as(world.admin)
    suspended = api_as(world.manager_b).post(
        f"/api/v1/group-customers/{world.customer_b.pk}/suspend/", {"reason": "x"})
    assert suspended.status_code == 200
    assert ids(client.get("/api/v1/group-customers/", {"status": "verified"})) == [
        world.customer_a.pk]
    assert ids(client.get("/api/v1/group-customers/", {"branch": world.county_b.pk})) == [
        world.customer_b.pk]
    assert ids(client.get("/api/v1/group-customers/", {"search": "GC-b"})) == [
        world.customer_b.pk]
    assert ids(client.get("/api/v1/group-customers/", {"ordering": "-name"})) == [
        world.customer_b.pk, world.customer_a.pk]
    # The manager of county B's customers cannot suspend county A's.
    assert api_as(world.manager_b).post(
        f"/api/v1/group-customers/{world.customer_a.pk}/suspend/", {"reason": "x"}
    ).status_code == 404


# --- Departments --------------------------------------------------------------------------------


def test_enterprise_admin_builds_the_department_tree(world, api_as):
    client = api_as(world.ent_admin_a)
    before = audit_count()
    response = client.post("/api/v1/departments/", {"name": "QA", "code": "D-QA",
                                                     "parent": world.sub_a.pk})
    assert response.status_code == 201
    department = Department.objects.get(name="QA")
    assert response.json() == {
        "id": department.pk, "group_customer": world.customer_a.pk, "parent": world.sub_a.pk,
        "name": "QA", "code": "D-QA", "path": f"{world.sub_a.path}{department.pk}/", "depth": 2,
        "created_at": response.json()["created_at"],
    }
    assert audit_count() == before + 1
    listed = client.get("/api/v1/departments/", {"parent": world.sub_a.pk})
    assert ids(listed) == [department.pk]
    top = client.get("/api/v1/departments/", {"is_top_level": "true"})
    assert ids(top) == [world.head_a.pk]


def test_operator_side_must_name_the_customer_of_a_department(world, api_as):
    client = api_as(world.manager)
    before = (Department.objects.count(), audit_count())
    refused = client.post("/api/v1/departments/", {"name": "Ops"})
    assert refused.status_code == 400
    assert list(refused.json()) == ["group_customer"]
    assert (Department.objects.count(), audit_count()) == before
    response = client.post("/api/v1/departments/", {"name": "Ops",
                                                     "group_customer": world.customer_a.pk})
    assert response.status_code == 201
    assert response.json()["group_customer"] == world.customer_a.pk


def test_department_parent_must_be_of_the_same_customer(world, api_as):
    before = (Department.objects.count(), audit_count())
    response = api_as(world.admin).post("/api/v1/departments/", {
        "name": "Mixed", "group_customer": world.customer_a.pk, "parent": world.head_b.pk})
    assert response.status_code == 400
    assert list(response.json()) == ["parent", "code"]
    assert (Department.objects.count(), audit_count()) == before


def test_rename_and_move_a_department(world, api_as):
    client = api_as(world.ent_admin_a)
    url = f"/api/v1/departments/{world.sub_a.pk}/"
    response = client.patch(url, {"name": "Research", "parent": None})
    assert response.status_code == 200
    assert response.json()["parent"] is None
    assert response.json()["path"] == f"/{world.sub_a.pk}/"
    assert row(Department, world.sub_a.pk)["name"] == "Research"


def test_department_cannot_move_under_itself_or_clash(world, api_as):
    client = api_as(world.ent_admin_a)
    before = (row(Department, world.head_a.pk), audit_count())
    refused = client.patch(f"/api/v1/departments/{world.head_a.pk}/", {"parent": world.sub_a.pk})
    assert refused.status_code == 400
    assert "parent" in refused.json()
    clash = client.post("/api/v1/departments/", {"name": "R&D", "parent": world.head_a.pk})
    assert clash.status_code == 400
    assert list(clash.json()) == ["non_field_errors", "code"]
    assert (row(Department, world.head_a.pk), audit_count()) == before


def test_delete_only_empty_departments(world, api_as):
    client = api_as(world.ent_admin_a)
    before = (Department.objects.count(), audit_count())
    refused = client.delete(f"/api/v1/departments/{world.head_a.pk}/")
    assert refused.status_code == 409
    assert refused.json()["code"] == "department_not_empty"
    assert (Department.objects.count(), audit_count()) == before
    empty = client.post("/api/v1/departments/", {"name": "Empty"}).json()["id"]
    assert client.delete(f"/api/v1/departments/{empty}/").status_code == 204
    assert not Department.objects.filter(pk=empty).exists()
    assert AuditRecord.objects.latest("id").action == "department.deleted"


def test_member_sees_only_their_own_department(world, api_as):
    client = api_as(world.member_user_a)
    assert ids(client.get("/api/v1/departments/")) == [world.members_a[0].department_id]
    before = (Department.objects.count(), audit_count())
    assert client.post("/api/v1/departments/", {"name": "Mine"}).status_code == 400
    assert client.delete(f"/api/v1/departments/{world.head_a.pk}/").status_code == 404
    assert (Department.objects.count(), audit_count()) == before


# --- Integrators and vendors --------------------------------------------------------------------


def test_operator_admin_onboards_an_integrator(world, api_as):
    client = api_as(world.admin)
    response = client.post("/api/v1/integrators/", {
        "name": "Builder", "qualification": "Grade 1 security", "qualification_level": "grade_1",
        "counties": [world.county_a.pk, world.county_b.pk], "contact_phone": "13800000009"})
    assert response.status_code == 201
    body = response.json()
    integrator = Integrator.objects.get(name="Builder")
    assert body["id"] == integrator.pk
    assert sorted(body["counties"]) == sorted([world.county_a.pk, world.county_b.pk])
    assert body["operator"] == world.operator.pk
    response = client.patch(f"/api/v1/integrators/{integrator.pk}/",
                            {"counties": [world.county_b.pk], "is_active": False})
    assert response.status_code == 200
    assert response.json()["counties"] == [world.county_b.pk]
    assert response.json()["is_active"] is False
    assert ids(client.get("/api/v1/integrators/", {"county": world.county_b.pk})) == [
        integrator.pk]


def test_integrators_serve_counties_only(world, api_as):
    before = (Integrator.objects.count(), audit_count())
    response = api_as(world.admin).post("/api/v1/integrators/", {
        "name": "Builder", "counties": [world.city.pk]})
    assert response.status_code == 400
    assert list(response.json()) == ["counties", "code"]
    assert (Integrator.objects.count(), audit_count()) == before


def test_only_operator_admins_write_partners(world, api_as):
    client = api_as(world.manager)
    before = (Integrator.objects.count(), TerminalVendor.objects.count(), audit_count(),
              row(TerminalVendor, world.vendor.pk))
    assert client.post("/api/v1/integrators/", {"name": "X"}).status_code == 403
    assert client.post("/api/v1/vendors/", {"name": "X"}).status_code == 403
    assert client.patch(f"/api/v1/vendors/{world.vendor.pk}/", {"name": "Y"}).status_code == 404
    after = (Integrator.objects.count(), TerminalVendor.objects.count(), audit_count(),
             row(TerminalVendor, world.vendor.pk))
    assert after == before


def test_partner_engineers_see_only_their_own_company(world, api_as):
    engineer = api_as(world.integrator_engineer)
    assert ids(engineer.get("/api/v1/integrators/")) == [world.integrator.pk]
    assert engineer.get("/api/v1/vendors/").json()["count"] == 0
    vendor_engineer = api_as(world.vendor_engineer)
    assert ids(vendor_engineer.get("/api/v1/vendors/")) == [world.vendor.pk]
    assert vendor_engineer.get(f"/api/v1/integrators/{world.integrator.pk}/").status_code == 404


def test_operator_admin_manages_vendors(world, api_as):
    client = api_as(world.admin)
    response = client.post("/api/v1/vendors/", {"name": "Clockmaker",
                                                "support_email": "help@example.com"})
    assert response.status_code == 201
    pk = response.json()["id"]
    assert row(TerminalVendor, pk)["support_email"] == "help@example.com"
    before = (TerminalVendor.objects.count(), audit_count())
    duplicate = client.post("/api/v1/vendors/", {"name": "Clockmaker"})
    assert duplicate.status_code == 400
    assert list(duplicate.json()) == ["name", "code"]
    bad = client.post("/api/v1/vendors/", {"name": "Other", "support_email": "not-an-email"})
    assert bad.status_code == 400
    assert list(bad.json()) == ["support_email"]
    assert (TerminalVendor.objects.count(), audit_count()) == before
    renamed = client.patch(f"/api/v1/vendors/{pk}/", {"product_lines": "Clocks, POS"})
    assert renamed.json()["product_lines"] == "Clocks, POS"
