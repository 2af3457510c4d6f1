"""Tenancy through the API (DESIGN.md invariant 4): another customer's objects are invisible.

Every detail and action endpoint is listed in ``TENANT_ENDPOINTS`` or ``OPERATOR_ENDPOINTS``;
a new endpoint is one more line. For each, an outsider gets exactly the answer a nonexistent id
gets (404) and nothing in the database changes, even though the request body would be accepted
from someone allowed.
"""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from onecard.accounts.models import LoginFailure, User
from onecard.audit.models import AuditRecord
from onecard.organizations.models import (
    Branch,
    Department,
    GroupCustomer,
    GroupCustomerEvent,
    Integrator,
    TerminalVendor,
)
from onecard.people.models import Member, MemberEvent

MISSING_PK = 999_999_999

WATCHED = [GroupCustomer, GroupCustomerEvent, Department, Member, MemberEvent, User,
           LoginFailure, Branch, Integrator, TerminalVendor, AuditRecord]


def database_state():
    return {model.__name__: list(model.objects.order_by("pk").values()) for model in WATCHED}


PAPERS = {"business_licence_number": "9150X", "contact_name": "Eve",
          "contact_phone": "13800000002", "contract_number": "CT-x"}
REASON = {"reason": "Because"}


def roster_upload():
    return {"file": SimpleUploadedFile("r.csv", b"name,phone\nEve,13912340000\n")}


def b_audit_record(w):
    return AuditRecord.objects.filter(group_customer_id=w.customer_b.pk).first()


# (label, method, path with {pk}, the object of customer B, body or a callable giving one)
TENANT_ENDPOINTS = [
    ("customer read", "get", "/api/v1/group-customers/{pk}/", lambda w: w.customer_b, None),
    ("customer patch", "patch", "/api/v1/group-customers/{pk}/", lambda w: w.customer_b,
     {"name": "Taken"}),
    ("customer verify", "post", "/api/v1/group-customers/{pk}/verify/",
     lambda w: w.customer_b, PAPERS),
    ("customer suspend", "post", "/api/v1/group-customers/{pk}/suspend/",
     lambda w: w.customer_b, REASON),
    ("customer resume", "post", "/api/v1/group-customers/{pk}/resume/",
     lambda w: w.customer_b, REASON),
    ("customer close", "post", "/api/v1/group-customers/{pk}/close/", lambda w: w.customer_b,
     REASON),
    ("roster export", "get", "/api/v1/group-customers/{pk}/roster/", lambda w: w.customer_b,
     None),
    ("roster import", "post", "/api/v1/group-customers/{pk}/roster/", lambda w: w.customer_b,
     roster_upload),
    ("department read", "get", "/api/v1/departments/{pk}/", lambda w: w.sub_b, None),
    ("department patch", "patch", "/api/v1/departments/{pk}/", lambda w: w.sub_b,
     {"name": "Taken"}),
    ("department delete", "delete", "/api/v1/departments/{pk}/", lambda w: w.sub_b, None),
    ("member read", "get", "/api/v1/members/{pk}/", lambda w: w.members_b[1], None),
    ("member patch", "patch", "/api/v1/members/{pk}/", lambda w: w.members_b[1],
     {"name": "Taken"}),
    ("member suspend", "post", "/api/v1/members/{pk}/suspend/", lambda w: w.members_b[1],
     REASON),
    ("member resume", "post", "/api/v1/members/{pk}/resume/", lambda w: w.members_b[1], REASON),
    ("member depart", "post", "/api/v1/members/{pk}/depart/", lambda w: w.members_b[1],
     REASON),
    ("account read", "get", "/api/v1/accounts/{pk}/", lambda w: w.member_user_b, None),
    ("account patch", "patch", "/api/v1/accounts/{pk}/", lambda w: w.member_user_b,
     {"is_active": False}),
    ("account unlock", "post", "/api/v1/accounts/{pk}/unlock/", lambda w: w.member_user_b,
     None),
    ("audit record read", "get", "/api/v1/audit-records/{pk}/", b_audit_record, None),
]

# Objects of the operator itself: no tenant person sees them.
OPERATOR_ENDPOINTS = [
    ("branch read", "get", "/api/v1/branches/{pk}/", lambda w: w.county_b, None),
    ("integrator read", "get", "/api/v1/integrators/{pk}/", lambda w: w.integrator, None),
    ("integrator patch", "patch", "/api/v1/integrators/{pk}/", lambda w: w.integrator,
     {"name": "Taken"}),
    ("vendor read", "get", "/api/v1/vendors/{pk}/", lambda w: w.vendor, None),
    ("vendor patch", "patch", "/api/v1/vendors/{pk}/", lambda w: w.vendor, {"name": "Taken"}),
    ("staff account read", "get", "/api/v1/accounts/{pk}/", lambda w: w.manager, None),
    ("staff account unlock", "post", "/api/v1/accounts/{pk}/unlock/", lambda w: w.manager,
     None),
]


def call(client, method, path, body):
    data = body() if callable(body) else body
    if data is not None and any(hasattr(v, "read") for v in data.values()):
        return getattr(client, method)(path, data, format="multipart")
    return getattr(client, method)(path, data)


def assert_looks_missing(client, method, path_template, target, body):
    answer_for_missing = call(client, method, path_template.format(pk=MISSING_PK), body)
    before = database_state()
    answer = call(client, method, path_template.format(pk=target.pk), body)
    assert answer.status_code == 404
    assert answer_for_missing.status_code == 404
    assert answer.json() == answer_for_missing.json()
    assert database_state() == before


@pytest.mark.parametrize("who", ["ent_admin_a", "member_user_a", "manager"])
@pytest.mark.parametrize("label,method,path,target,body", TENANT_ENDPOINTS,
                         ids=[row[0] for row in TENANT_ENDPOINTS])
def test_another_customers_objects_look_missing(world, api_as, who, label, method, path,
                                                target, body):
    assert_looks_missing(api_as(getattr(world, who)), method, path, target(world), body)


@pytest.mark.parametrize("who", ["ent_admin_a", "member_user_a"])
@pytest.mark.parametrize("label,method,path,target,body", OPERATOR_ENDPOINTS,
                         ids=[row[0] for row in OPERATOR_ENDPOINTS])
def test_operator_objects_look_missing_to_tenants(world, api_as, who, label, method, path,
                                                  target, body):
    assert_looks_missing(api_as(getattr(world, who)), method, path, target(world), body)


def test_the_allowed_person_gets_through_the_same_endpoints(world, api_as):
    """The table is meaningful: B's own admin reaches B's objects with the same requests."""
    client = api_as(world.ent_admin_b)
    for path, target in (("/api/v1/group-customers/{pk}/", world.customer_b),
                         ("/api/v1/departments/{pk}/", world.sub_b),
                         ("/api/v1/members/{pk}/", world.members_b[1]),
                         ("/api/v1/accounts/{pk}/", world.member_user_b),
                         ("/api/v1/audit-records/{pk}/", b_audit_record(world))):
        assert client.get(path.format(pk=target.pk)).status_code == 200
    assert client.patch(f"/api/v1/members/{world.members_b[1].pk}/",
                        {"name": "Taken"}).status_code == 200
    assert api_as(world.manager_b).post(
        f"/api/v1/group-customers/{world.customer_b.pk}/suspend/", REASON).status_code == 200


# --- Lists --------------------------------------------------------------------------------------

# (list path, how a row names its customer)
TENANT_LISTS = [
    ("/api/v1/group-customers/", "id"),
    ("/api/v1/departments/", "group_customer"),
    ("/api/v1/members/", "group_customer"),
    ("/api/v1/accounts/", "group_customer"),
    ("/api/v1/audit-records/", "group_customer_id"),
]


@pytest.mark.parametrize("path,customer_key", TENANT_LISTS)
def test_lists_never_include_another_customers_rows(world, api_as, path, customer_key):
    client = api_as(world.ent_admin_a)
    rows = client.get(path, {"page_size": 500}).json()["results"]
    assert rows
    assert {row[customer_key] for row in rows} == {world.customer_a.pk}
    if customer_key != "id":
        filtered = client.get(path, {"group_customer": world.customer_b.pk})
        assert filtered.status_code == 200
        assert filtered.json()["count"] == 0


@pytest.mark.parametrize("path,params", [
    ("/api/v1/members/", {"search": "Eb001"}),
    ("/api/v1/members/", {"search": "13700000001"}),
    ("/api/v1/members/", {"department": "{sub_b}"}),
    ("/api/v1/departments/", {"parent": "{head_b}"}),
    ("/api/v1/group-customers/", {"search": "GC-b"}),
])
def test_filters_and_search_do_not_reach_another_customer(world, api_as, path, params):
    params = {k: getattr(world, v[1:-1]).pk if v.startswith("{") else v
              for k, v in params.items()}
    response = api_as(world.ent_admin_a).get(path, params)
    assert response.status_code == 200
    assert response.json()["count"] == 0


@pytest.mark.parametrize("path", ["/api/v1/branches/", "/api/v1/integrators/",
                                  "/api/v1/vendors/"])
def test_tenants_list_no_operator_objects(world, api_as, path):
    for who in ("ent_admin_a", "member_user_a"):
        assert api_as(getattr(world, who)).get(path).json()["count"] == 0


def test_member_sees_only_themself(world, api_as):
    client = api_as(world.member_user_a)
    me = world.members_a[0]
    assert [m["id"] for m in client.get("/api/v1/members/").json()["results"]] == [me.pk]
    assert [a["id"] for a in client.get("/api/v1/accounts/").json()["results"]] == [
        world.member_user_a.pk]
    assert [c["id"] for c in client.get("/api/v1/group-customers/").json()["results"]] == [
        world.customer_a.pk]
    assert client.get("/api/v1/audit-records/").json()["count"] == 0
    for other in world.members_a[1:]:
        assert client.get(f"/api/v1/members/{other.pk}/").status_code == 404


def test_vendor_engineer_sees_no_group_customers(world, api_as):
    client = api_as(world.vendor_engineer)
    for path in ("/api/v1/group-customers/", "/api/v1/departments/", "/api/v1/members/",
                 "/api/v1/audit-records/", "/api/v1/branches/"):
        assert client.get(path).json()["count"] == 0, path
    assert client.get(f"/api/v1/group-customers/{world.customer_a.pk}/").status_code == 404
    assert client.get(
        f"/api/v1/group-customers/{world.customer_a.pk}/roster/").status_code == 404


def test_customer_manager_sees_only_their_branchs_customers(world, api_as):
    client = api_as(world.manager)
    assert [c["id"] for c in client.get("/api/v1/group-customers/").json()["results"]] == [
        world.customer_a.pk]
    members = client.get("/api/v1/members/").json()["results"]
    assert {m["group_customer"] for m in members} == {world.customer_a.pk}
