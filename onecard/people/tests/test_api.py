"""Members and the roster through the public API. Every refusal also checks nothing changed."""

import io

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from onecard.audit.models import AuditRecord
from onecard.people.models import Member, MemberEvent


def state():
    """Everything a refused member request must leave alone."""
    return (list(Member.objects.order_by("pk").values()), AuditRecord.objects.count(),
            MemberEvent.objects.count())


def ids(response):
    return [item["id"] for item in response.json()["results"]]


def roster_file(text, name="roster.csv"):
    return SimpleUploadedFile(name, text.encode("utf-8"), content_type="text/csv")


# --- Create and update --------------------------------------------------------------------------


def test_enterprise_admin_adds_a_member_to_their_own_customer(world, api_as):
    audit_before = AuditRecord.objects.count()
    response = api_as(world.ent_admin_a).post("/api/v1/members/", {
        "name": "张三", "phone": "13912345678", "employee_number": "E100",
        "department": world.sub_a.pk})
    assert response.status_code == 201
    member = Member.objects.get(phone="13912345678")
    body = response.json()
    assert body == {
        "id": member.pk, "group_customer": world.customer_a.pk, "department": world.sub_a.pk,
        "name": "张三", "phone": "13912345678", "employee_number": "E100", "category": "staff",
        "status": "active", "created_at": body["created_at"], "updated_at": body["updated_at"],
    }
    assert AuditRecord.objects.count() == audit_before + 1
    record = AuditRecord.objects.latest("id")
    assert (record.action, record.actor, record.group_customer_id) == (
        "member.created", world.ent_admin_a, world.customer_a.pk)


def test_operator_side_must_name_the_customer(world, api_as):
    client = api_as(world.manager)
    before = state()
    refused = client.post("/api/v1/members/", {"name": "Li", "phone": "13912345678"})
    assert refused.status_code == 400
    assert list(refused.json()) == ["group_customer"]
    assert state() == before
    response = client.post("/api/v1/members/", {"name": "Li", "phone": "13912345678",
                                                "group_customer": world.customer_a.pk,
                                                "category": "contractor"})
    assert response.status_code == 201
    assert response.json()["category"] == "contractor"


@pytest.mark.parametrize("body,status,field", [
    ({"name": "Dup", "phone": "13900000001"}, 409, "phone"),
    ({"name": "Dup", "phone": "13912345678", "employee_number": "Ea001"}, 409,
     "employee_number"),
    ({"name": "Bad", "phone": "12345"}, 400, "phone"),
    ({"name": "", "phone": "13912345678"}, 400, "name"),
    ({"phone": "13912345678"}, 400, "name"),
    ({"name": "X" * 101, "phone": "13912345678"}, 400, "name"),
    ({"name": "X", "phone": "13912345678", "category": "alien"}, 400, "category"),
    ({"name": "X", "phone": "13912345678", "status": "departed"}, 400, "status"),
    ({"name": "X", "phone": "13912345678", "department": "R&D"}, 400, "department"),
])
def test_bad_members_are_refused_with_the_field_named(world, api_as, body, status, field):
    before = state()
    response = api_as(world.ent_admin_a).post("/api/v1/members/", body)
    assert response.status_code == status
    assert field in response.json()
    assert state() == before


def test_department_of_another_customer_is_refused(world, api_as):
    before = state()
    # For the operator admin both exist: the action refuses the mix, naming the field.
    response = api_as(world.admin).post("/api/v1/members/", {
        "name": "Mix", "phone": "13912345678", "group_customer": world.customer_a.pk,
        "department": world.head_b.pk})
    assert response.status_code == 400
    assert list(response.json()) == ["department", "code"]
    # For customer A's admin, B's department is as good as nonexistent.
    response = api_as(world.ent_admin_a).post("/api/v1/members/", {
        "name": "Mix", "phone": "13912345678", "department": world.head_b.pk})
    assert response.status_code == 400
    assert list(response.json()) == ["department"]
    assert state() == before


def test_update_a_member(world, api_as):
    member = world.members_a[1]
    response = api_as(world.ent_admin_a).patch(f"/api/v1/members/{member.pk}/", {
        "name": "Renamed", "department": None, "category": "visitor"})
    assert response.status_code == 200
    member.refresh_from_db()
    assert (member.name, member.department, member.category) == ("Renamed", None, "visitor")
    record = AuditRecord.objects.latest("id")
    assert record.action == "member.updated"
    assert record.before["name"] == "Member a1"
    assert record.after["name"] == "Renamed"


def test_update_to_a_taken_phone_is_a_conflict(world, api_as):
    before = state()
    response = api_as(world.ent_admin_a).patch(f"/api/v1/members/{world.members_a[1].pk}/",
                                               {"phone": world.members_a[2].phone})
    assert response.status_code == 409
    assert response.json()["code"] == "duplicate_phone"
    assert state() == before


def test_put_is_not_offered(world, api_as):
    before = state()
    response = api_as(world.ent_admin_a).put(f"/api/v1/members/{world.members_a[1].pk}/",
                                             {"name": "Whole", "phone": "13912345678"})
    assert response.status_code == 405
    assert api_as(world.ent_admin_a).delete(
        f"/api/v1/members/{world.members_a[1].pk}/").status_code == 405
    assert state() == before


# --- Lifecycle ----------------------------------------------------------------------------------


def test_member_lifecycle(world, api_as):
    client = api_as(world.ent_admin_a)
    member = world.members_a[2]
    url = f"/api/v1/members/{member.pk}/"
    assert client.post(url + "suspend/", {"reason": "Leave"}).json()["status"] == "suspended"
    assert client.post(url + "resume/", {}).json()["status"] == "active"
    assert client.post(url + "depart/", {"reason": "Left"}).json()["status"] == "departed"
    events = MemberEvent.objects.filter(member=member)
    assert [(e.from_status, e.to_status, e.reason) for e in events] == [
        ("active", "suspended", "Leave"), ("suspended", "active", ""),
        ("active", "departed", "Left")]
    before = state()
    refused = client.post(url + "resume/", {})
    assert refused.status_code == 409
    assert refused.json()["code"] == "transition_refused"
    assert state() == before
    # The departed member's phone is free again.
    again = client.post("/api/v1/members/", {"name": "Back", "phone": member.phone})
    assert again.status_code == 201


def test_lifecycle_refuses_unknown_fields(world, api_as):
    before = state()
    response = api_as(world.ent_admin_a).post(
        f"/api/v1/members/{world.members_a[1].pk}/suspend/", {"reason": "x", "until": "2030"})
    assert response.status_code == 400
    assert list(response.json()) == ["until"]
    assert state() == before


# --- Reading ------------------------------------------------------------------------------------


def test_member_filters_search_and_ordering(world, api_as):
    client = api_as(world.ent_admin_a)
    a0, a1, a2 = world.members_a
    api_as(world.ent_admin_a).post(f"/api/v1/members/{a2.pk}/suspend/", {})
    assert ids(client.get("/api/v1/members/")) == [a0.pk, a1.pk, a2.pk]
    assert ids(client.get("/api/v1/members/", {"department": world.sub_a.pk})) == [a1.pk]
    assert ids(client.get("/api/v1/members/", {"status": "suspended"})) == [a2.pk]
    assert ids(client.get("/api/v1/members/", {"category": "student"})) == []
    assert ids(client.get("/api/v1/members/", {"search": a1.phone})) == [a1.pk]
    assert ids(client.get("/api/v1/members/", {"search": "Ea000"})) == [a0.pk]
    assert ids(client.get("/api/v1/members/", {"ordering": "-name"})) == [a2.pk, a1.pk, a0.pk]
    assert ids(client.get("/api/v1/members/", {"group_customer": world.customer_a.pk})) == [
        a0.pk, a1.pk, a2.pk]
    page = client.get("/api/v1/members/", {"page_size": 2, "page": 2}).json()
    assert (page["count"], [m["id"] for m in page["results"]]) == (3, [a2.pk])


def test_invalid_filter_values_are_refused_with_the_parameter_named(world, api_as):
    client = api_as(world.ent_admin_a)
    for params in ({"status": "gone"}, {"department": "abc"}, {"department": "-1"},
                   {"group_customer": "99999999999999999999"}):
        response = client.get("/api/v1/members/", params)
        assert response.status_code == 400
        assert list(response.json()) == list(params)


def test_member_account_sees_only_themself(world, api_as):
    client = api_as(world.member_user_a)
    me = world.members_a[0]
    assert ids(client.get("/api/v1/members/")) == [me.pk]
    assert client.get(f"/api/v1/members/{me.pk}/").json()["name"] == me.name
    assert client.get(f"/api/v1/members/{world.members_a[1].pk}/").status_code == 404
    before = state()
    assert client.patch(f"/api/v1/members/{me.pk}/", {"name": "Me"}).status_code == 404
    assert client.post(f"/api/v1/members/{me.pk}/depart/", {}).status_code == 404
    assert client.post("/api/v1/members/", {"name": "New", "phone": "13912345678"}
                       ).status_code == 400
    assert state() == before


def test_service_agent_reads_but_does_not_change_members(world, api_as):
    client = api_as(world.agent1)
    assert client.get("/api/v1/members/").json()["count"] == 6
    before = state()
    member = world.members_a[1]
    assert client.patch(f"/api/v1/members/{member.pk}/", {"name": "X"}).status_code == 404
    assert client.post(f"/api/v1/members/{member.pk}/suspend/", {}).status_code == 404
    refused = client.post("/api/v1/members/", {"name": "X", "phone": "13912345678",
                                               "group_customer": world.customer_a.pk})
    assert refused.status_code == 400
    assert list(refused.json()) == ["group_customer"]
    assert state() == before


@pytest.mark.parametrize("extra_members", [0, 25])
def test_member_list_query_count_does_not_grow_with_rows(world, api_as, extra_members,
                                                         django_assert_max_num_queries):
    from onecard.people.actions import create_member

    for i in range(extra_members):
        create_member(actor=world.ent_admin_a, group_customer=world.customer_a, name=f"N{i}",
                      phone=f"1360000{i:04d}", department=world.sub_a)
    client = api_as(world.ent_admin_a)
    # Baseline: one count, one page (the gatekeeper is a subquery, not a query).
    with django_assert_max_num_queries(2):
        response = client.get("/api/v1/members/", {"page_size": 100})
    assert response.json()["count"] == 3 + extra_members


# --- Roster -------------------------------------------------------------------------------------


ROSTER = (
    "name,phone,employee_number,department,category\n"
    "张三,13912345678,E100,Head office,staff\n"
    "李四,13912345679,E101,Head office/R&D,student\n"
)


def test_roster_import_creates_every_member(world, api_as):
    url = f"/api/v1/group-customers/{world.customer_a.pk}/roster/"
    response = api_as(world.ent_admin_a).post(url, {"file": roster_file(ROSTER)},
                                              format="multipart")
    assert response.status_code == 201
    assert response.json() == {"ok": True, "created": 2, "errors": []}
    zhang = Member.objects.get(group_customer=world.customer_a, phone="13912345678")
    li = Member.objects.get(group_customer=world.customer_a, phone="13912345679")
    assert (zhang.name, zhang.employee_number, zhang.department, zhang.category) == (
        "张三", "E100", world.head_a, "staff")
    assert (li.department, li.category) == (world.sub_a, "student")
    assert AuditRecord.objects.filter(action="member.created",
                                      group_customer_id=world.customer_a.pk).count() == 5


def test_roster_with_a_bad_row_creates_nothing(world, api_as):
    before = state()
    text = ROSTER + "王五,12345,E102,Nowhere,staff\n"
    response = api_as(world.manager).post(
        f"/api/v1/group-customers/{world.customer_a.pk}/roster/", {"file": roster_file(text)},
        format="multipart")
    assert response.status_code == 400
    body = response.json()
    assert (body["ok"], body["created"]) == (False, 0)
    assert [(e["row"], e["field"]) for e in body["errors"]] == [(4, "phone"), (4, "department")]
    assert state() == before


@pytest.mark.parametrize("who,status", [("ent_admin_b", 404), ("member_user_a", 404),
                                        ("agent1", 404), ("vendor_engineer", 404),
                                        ("manager_b", 404)])
def test_roster_import_only_by_people_who_change_the_customers_members(world, api_as, who,
                                                                      status):
    before = state()
    response = api_as(getattr(world, who)).post(
        f"/api/v1/group-customers/{world.customer_a.pk}/roster/", {"file": roster_file(ROSTER)},
        format="multipart")
    assert response.status_code == status
    assert state() == before


def test_roster_export_is_an_xlsx_of_the_members(world, api_as):
    response = api_as(world.ent_admin_a).get(
        f"/api/v1/group-customers/{world.customer_a.pk}/roster/")
    assert response.status_code == 200
    assert response["Content-Type"] == (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    assert response["Content-Disposition"] == 'attachment; filename="roster-GC-a.xlsx"'
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert len(rows) == 4
    assert sorted(r[1] for r in rows[1:]) == sorted(m.phone for m in world.members_a)
    assert {r[3] for r in rows[1:]} == {"Head office", "Head office/R&D"}


def test_roster_export_round_trips(world, api_as):
    exported = api_as(world.ent_admin_a).get(
        f"/api/v1/group-customers/{world.customer_a.pk}/roster/").content
    # Import A's roster into customer B, which has departments of the same names.
    upload = SimpleUploadedFile("roster.xlsx", exported)
    response = api_as(world.ent_admin_b).post(
        f"/api/v1/group-customers/{world.customer_b.pk}/roster/", {"file": upload},
        format="multipart")
    assert response.status_code == 201
    assert response.json()["created"] == 3
    imported = Member.objects.filter(group_customer=world.customer_b,
                                     name__startswith="Member a")
    assert sorted(imported.values_list("name", flat=True)) == ["Member a0", "Member a1",
                                                               "Member a2"]


def test_roster_export_for_an_accept_header_naming_the_file_type(world, api_as):
    response = api_as(world.ent_admin_a).get(
        f"/api/v1/group-customers/{world.customer_a.pk}/roster/",
        HTTP_ACCEPT="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    assert response.status_code == 200
    assert response.content[:2] == b"PK"


def test_roster_export_of_another_customer_is_not_found(world, api_as):
    response = api_as(world.ent_admin_a).get(
        f"/api/v1/group-customers/{world.customer_b.pk}/roster/")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
