"""Bad input never crashes (DESIGN.md invariant 6): malformed, oversized or hostile requests get
a clear 4xx and change nothing. Every refusal here compares the whole watched database."""

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

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

WATCHED = [GroupCustomer, GroupCustomerEvent, Department, Member, MemberEvent, User,
           LoginFailure, Branch, Integrator, TerminalVendor, AuditRecord]


def database_state():
    return {model.__name__: list(model.objects.order_by("pk").values()) for model in WATCHED}


@pytest.fixture
def admin_a(world, api_as):
    return api_as(world.ent_admin_a)


def refused(client, method, path, *, expect=400, **kwargs):
    """Make the request; assert the refusal and that the database did not change."""
    before = database_state()
    response = getattr(client, method)(path, **kwargs)
    assert response.status_code == expect, response.content[:500]
    assert database_state() == before
    return response


# --- Malformed bodies ---------------------------------------------------------------------------


@pytest.mark.parametrize("raw", [
    b'{"name": ', b"{'name': 'single quotes'}", b"\xff\xfe\x00garbage", b"NaN",
    b'{"name": "x", "phone": Infinity}', b"[" * 50_000 + b"]" * 50_000,
    b'{"a":' * 50_000 + b"1" + b"}" * 50_000,
])
def test_malformed_json_is_refused(admin_a, raw):
    response = refused(admin_a, "post", "/api/v1/members/", data=raw,
                       content_type="application/json")
    assert "detail" in response.json()


@pytest.mark.parametrize("body", [[{"name": "X", "phone": "13912345678"}], "text", 42, None,
                                  True])
def test_json_that_is_not_an_object_is_refused(admin_a, body):
    response = refused(admin_a, "post", "/api/v1/members/", data=json.dumps(body),
                       content_type="application/json")
    assert list(response.json()) in (["non_field_errors"], ["detail"])


def test_unsupported_content_type_is_refused(admin_a):
    refused(admin_a, "post", "/api/v1/members/", data="name=X", content_type="text/plain",
            expect=415)


def test_oversized_body_is_refused(admin_a, settings):
    body = json.dumps({"name": "X" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 10),
                       "phone": "13912345678"})
    response = refused(admin_a, "post", "/api/v1/members/", data=body,
                       content_type="application/json", expect=413)
    assert response.json()["code"] == "too_large"


# --- Wrong types, unknown fields, hostile text --------------------------------------------------

MEMBER = {"name": "Xu", "phone": "13912345678"}


@pytest.mark.parametrize("field,value", [
    ("name", {"a": 1}), ("name", ["x"]), ("name", None), ("phone", True), ("phone", ""),
    ("category", 5), ("employee_number", {"$gt": ""}),
    ("department", "1; DROP TABLE people_member"), ("department", [1]), ("department", True),
    ("department", 1.0), ("department", 1.5), ("department", 99999999999999999999),
    ("department", 10**18), ("department", -1), ("department", 0), ("department", "1e3"),
    ("department", {"pk": 1}), ("group_customer", {}), ("group_customer", "١٢"),
])
def test_wrong_types_are_refused_with_the_field_named(admin_a, field, value):
    response = refused(admin_a, "post", "/api/v1/members/", data={**MEMBER, field: value})
    assert list(response.json()) == [field]


@pytest.mark.parametrize("method,path,body,unknown", [
    ("post", "/api/v1/members/", {**MEMBER, "salary": 1}, ["salary"]),
    ("post", "/api/v1/members/", {**MEMBER, "id": 1}, ["id"]),
    ("post", "/api/v1/members/", {**MEMBER, "status": "departed"}, ["status"]),
    ("patch", "/api/v1/members/{member}/", {"group_customer": 1}, ["group_customer"]),
    ("post", "/api/v1/members/{member}/suspend/", {"reason": "x", "force": True}, ["force"]),
    ("post", "/api/v1/departments/", {"name": "D", "path": "/1/"}, ["path"]),
    ("patch", "/api/v1/departments/{department}/", {"group_customer": 2}, ["group_customer"]),
    ("patch", "/api/v1/accounts/{account}/", {"password": "Another-horse-7"}, ["password"]),
    ("patch", "/api/v1/accounts/me/", {"is_superuser": True}, ["is_superuser"]),
    ("post", "/api/v1/accounts/", {"username": "u", "password": "Another-horse-7",
                                   "role": "member", "is_staff": True}, ["is_staff"]),
    ("post", "/api/v1/members/", {**MEMBER, "\ud800": 1}, ["\\ud800"]),
])
def test_unknown_and_read_only_fields_are_refused_by_name(world, admin_a, method, path, body,
                                                          unknown):
    path = path.format(member=world.members_a[1].pk, department=world.sub_a.pk,
                       account=world.member_user_a.pk)
    response = refused(admin_a, method, path, data=json.dumps(body),
                       content_type="application/json")
    assert sorted(response.json()) == unknown


@pytest.mark.parametrize("text", ["a\x00b", "\ud800", "x\udfff"])
@pytest.mark.parametrize("field", ["name", "employee_number"])
def test_unstorable_text_is_refused(admin_a, text, field):
    # json.dumps escapes a lone surrogate as \\ud800, as a hostile client would send it.
    response = refused(admin_a, "post", "/api/v1/members/",
                       data=json.dumps({**MEMBER, field: text}), content_type="application/json")
    assert list(response.json()) == [field]


@pytest.mark.parametrize("method,path,body,field", [
    ("patch", "/api/v1/members/{member}/", {"name": "\x00"}, "name"),
    ("post", "/api/v1/members/{member}/suspend/", {"reason": "\ud83d"}, "reason"),
    ("post", "/api/v1/members/", {**MEMBER, "category": "\ud83d"}, "category"),
    ("post", "/api/v1/members/", {**MEMBER, "department": "\ud83d"}, "department"),
    ("post", "/api/v1/departments/", {"name": ["\ud83d"]}, "name"),
    ("patch", "/api/v1/accounts/me/", {"language": "\udfff"}, "language"),
])
def test_unstorable_text_anywhere_is_refused(world, admin_a, method, path, body, field):
    path = path.format(member=world.members_a[1].pk)
    response = refused(admin_a, method, path, data=json.dumps(body),
                       content_type="application/json")
    assert list(response.json()) == [field]


# --- Ids in URLs and query strings --------------------------------------------------------------


@pytest.mark.parametrize("pk", ["99999999999999999999", "999999999999999999", "0", "-1",
                                "abc", "1.0", "%20", "١"])
@pytest.mark.parametrize("method,path", [("get", "/api/v1/members/{pk}/"),
                                         ("patch", "/api/v1/members/{pk}/"),
                                         ("post", "/api/v1/members/{pk}/suspend/"),
                                         ("delete", "/api/v1/departments/{pk}/")])
def test_odd_ids_in_urls_are_not_found(admin_a, pk, method, path):
    refused(admin_a, method, path.format(pk=pk), data={"name": "X"}, expect=404)


@pytest.mark.parametrize("path", ["/api/v1/group-customers/99999999999999999999/roster/",
                                  "/api/v1/departments/99999999999999999999/",
                                  "/api/v1/accounts/99999999999999999999/unlock/",
                                  "/api/v1/audit-records/99999999999999999999/"])
def test_huge_ids_everywhere_are_not_found(world, api_as, path):
    refused(api_as(world.admin), "get" if "unlock" not in path else "post", path, expect=404)


@pytest.mark.parametrize("path,param", [
    ("/api/v1/members/", "department"), ("/api/v1/members/", "group_customer"),
    ("/api/v1/departments/", "parent"), ("/api/v1/accounts/", "group_customer"),
    ("/api/v1/audit-records/", "actor"), ("/api/v1/group-customers/", "branch"),
    ("/api/v1/branches/", "parent"), ("/api/v1/integrators/", "county"),
])
@pytest.mark.parametrize("value", ["99999999999999999999", "-5", "1.5", "x"])
def test_bad_ids_in_filters_are_refused_by_name(world, api_as, path, param, value):
    response = refused(api_as(world.admin), "get", path, data={param: value})
    assert list(response.json()) == [param]


@pytest.mark.parametrize("params,expect", [
    ({"page": "99999999999999999999"}, 404), ({"page": "0"}, 404), ({"page": "x"}, 404),
    ({"page_size": "99999999999999999999"}, 200), ({"page_size": "-3"}, 200),
    ({"ordering": "password"}, 200), ({"ordering": "-department__group_customer__name"}, 200),
    ({"search": "x" * 3000}, 200), ({"search": "%' OR 1=1 --"}, 200),
    ({"name": "\x00"}, 400), ({"search": "a\x00"}, 400), ({"search": "x" * 5000}, 414),
])
def test_odd_query_parameters(admin_a, params, expect):
    refused(admin_a, "get", "/api/v1/members/", data=params, expect=expect)


def test_ordering_by_an_unlisted_field_is_ignored(world, admin_a):
    ordered = admin_a.get("/api/v1/members/", {"ordering": "password"}).json()["results"]
    assert [m["id"] for m in ordered] == [m.pk for m in world.members_a]


# --- Another tenant's references ----------------------------------------------------------------


@pytest.mark.parametrize("method,path,body,field", [
    ("post", "/api/v1/members/", {**MEMBER, "department": "{sub_b}"}, "department"),
    ("post", "/api/v1/members/", {**MEMBER, "group_customer": "{customer_b}"},
     "group_customer"),
    ("patch", "/api/v1/members/{member}/", {"department": "{head_b}"}, "department"),
    ("post", "/api/v1/departments/", {"name": "D", "parent": "{head_b}"}, "parent"),
    ("post", "/api/v1/departments/", {"name": "D", "group_customer": "{customer_b}"},
     "group_customer"),
    ("patch", "/api/v1/departments/{department}/", {"parent": "{head_b}"}, "parent"),
    ("post", "/api/v1/accounts/", {"username": "u1", "password": "Another-horse-7",
                                   "role": "member", "member": "{member_b}"}, "member"),
    ("post", "/api/v1/accounts/", {"username": "u1", "password": "Another-horse-7",
                                   "role": "enterprise_admin",
                                   "group_customer": "{customer_b}"}, "group_customer"),
])
def test_another_tenants_ids_are_refused_as_if_missing(world, admin_a, method, path, body,
                                                       field):
    handles = {"sub_b": world.sub_b.pk, "head_b": world.head_b.pk,
               "customer_b": world.customer_b.pk, "member_b": world.members_b[1].pk}
    body = {k: handles[v[1:-1]] if isinstance(v, str) and v.startswith("{") else v
            for k, v in body.items()}
    path = path.format(member=world.members_a[1].pk, department=world.sub_a.pk)
    response = refused(admin_a, method, path, data=body)
    assert list(response.json()) == [field]
    missing = refused(admin_a, method, path, data={**body, field: 999_999_999})
    assert missing.json() == {field: [response.json()[field][0].replace(
        str(body[field]), "999999999")]}


def test_customer_manager_cannot_use_another_countys_branch(world, api_as):
    response = refused(api_as(world.manager), "patch",
                       f"/api/v1/group-customers/{world.customer_a.pk}/",
                       data={"branch": world.county_b.pk})
    assert list(response.json()) == ["branch"]


# --- Broken roster files ------------------------------------------------------------------------


def roster_path(world):
    return f"/api/v1/group-customers/{world.customer_a.pk}/roster/"


@pytest.mark.parametrize("name,content", [
    ("roster.xlsx", b"this is not a zip file"),
    ("roster.xlsx", b"PK\x03\x04" + b"\x00" * 100),
    ("roster.csv", b""),
    ("roster.csv", b"   \n \n"),
    ("roster.csv", b"name,phone\n"),
    ("roster.csv", b"just,some,columns\n1,2,3\n"),
    ("roster.csv", b"name,phone\n\x00\x01\x02,\xff\xfe\n"),
    ("roster.csv", "name,phone\n张三,13912345678\n".encode("utf-16")),
    ("roster.csv", b'name,phone\n"unterminated,13912345678\n'),
    ("roster.csv", b"name,phone\n=cmd|' /C calc'!A0,13912345678\nX,13912345678\n"),
    ("roster.exe", b"MZ\x90\x00"),
    ("roster", b"name,phone\nX,13912345678\n"),
    ("../../etc/passwd.csv", b"name,phone\nX,123\n"),
])
def test_broken_roster_files_are_refused_and_change_nothing(world, admin_a, name, content):
    upload = SimpleUploadedFile(name, content)
    response = refused(admin_a, "post", roster_path(world), data={"file": upload},
                       format="multipart")
    body = response.json()
    assert (body["ok"], body["created"]) == (False, 0)
    assert body["errors"]


def test_roster_larger_than_the_limit_is_refused(world, admin_a, settings):
    settings.ONECARD_ROSTER_MAX_BYTES = 1000
    content = b"name,phone\n" + b"X,13912345678\n" * 200
    response = refused(admin_a, "post", roster_path(world),
                       data={"file": SimpleUploadedFile("big.csv", content)}, format="multipart")
    assert [e["code"] for e in response.json()["errors"]] == ["file_too_large"]


@pytest.mark.parametrize("data,kwargs,expect,key", [
    ({}, {"format": "multipart"}, 400, "file"),
    ({"file": "name,phone"}, {"format": "multipart"}, 400, "file"),
    ({"file": SimpleUploadedFile("r.csv", b"name,phone\n"), "mode": "replace"},
     {"format": "multipart"}, 400, "mode"),
    ({"file": "x"}, {"format": "json"}, 415, "detail"),
])
def test_roster_requests_without_a_proper_file(world, admin_a, data, kwargs, expect, key):
    response = refused(admin_a, "post", roster_path(world), data=data, expect=expect, **kwargs)
    assert key in response.json()


# --- Fuzzing ------------------------------------------------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False)
    | st.text(max_size=30),
    lambda children: st.lists(children, max_size=3)
    | st.dictionaries(st.text(max_size=10), children, max_size=3),
    max_leaves=8,
)
FIELDS = ["name", "phone", "employee_number", "department", "category", "group_customer",
          "parent", "code", "reason", "status", "username", "password", "role", "member"]
bodies = st.dictionaries(st.sampled_from(FIELDS) | st.text(max_size=8), json_values,
                         max_size=5)


@pytest.mark.parametrize("method,path", [
    ("post", "/api/v1/members/"), ("patch", "/api/v1/members/{member}/"),
    ("post", "/api/v1/members/{member}/suspend/"), ("post", "/api/v1/departments/"),
    ("patch", "/api/v1/departments/{department}/"), ("post", "/api/v1/accounts/"),
    ("patch", "/api/v1/accounts/me/"),
])
def test_fuzzed_bodies_never_crash(world, admin_a, method, path):
    path = path.format(member=world.members_a[1].pk, department=world.sub_a.pk)

    @settings(max_examples=40, deadline=None,
              suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(body=bodies | json_values)
    def check(body):
        before = database_state()
        response = getattr(admin_a, method)(path, data=json.dumps(body),
                                            content_type="application/json")
        assert response.status_code < 500, response.content[:300]
        if response.status_code >= 400:
            assert database_state() == before

    check()
