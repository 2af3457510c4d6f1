"""Member and roster pages through the test client: tenancy, filters, actions with refusals shown,
and the roster import and export (all or nothing)."""

import io

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from onecard.accounts.actions import set_language
from onecard.audit.models import AuditRecord
from onecard.people.models import Member, MemberEvent

CSV_HEADER = "name,phone,employee_number,department,category\r\n"


@pytest.fixture
def as_user(client):
    """Log ``user`` in, with the console in English so messages can be matched."""

    def login(user, language="en"):
        set_language(actor=user, language=language)
        client.force_login(user)
        return client

    return login


def state_of(member):
    member.refresh_from_db()
    return (member.name, member.phone, member.status, member.department_id,
            member.events.count())


def names(page):
    return [member.name for member in page.context["page"]]


def test_member_list_is_scoped_to_the_enterprise(world, as_user):
    client = as_user(world.ent_admin_a)
    page = client.get(reverse("console:member-list"))
    assert names(page) == ["Member a0", "Member a1", "Member a2"]
    assert "group_customer" not in page.context["filter_form"].fields


def test_member_list_filters(world, as_user):
    client = as_user(world.ent_admin_a)
    url = reverse("console:member-list")
    assert names(client.get(url, {"department": world.sub_a.pk})) == ["Member a1"]
    # A department includes its sub-departments.
    assert names(client.get(url, {"department": world.head_a.pk})) == [
        "Member a0", "Member a1", "Member a2"]
    assert names(client.get(url, {"q": "13900000002"})) == ["Member a2"]
    assert names(client.get(url, {"q": "Ea001"})) == ["Member a1"]
    assert names(client.get(url, {"status": "departed"})) == []
    assert names(client.get(url, {"category": "staff", "status": "active"})) == [
        "Member a0", "Member a1", "Member a2"]
    # Another tenant's department is not a valid choice: the filter is ignored, nothing leaks.
    page = client.get(url, {"department": world.head_b.pk})
    assert names(page) == ["Member a0", "Member a1", "Member a2"]
    assert "Head office" in page.content.decode()
    # Garbage never fails the page.
    assert client.get(url, {"department": "x", "status": "?", "page": "999"}).status_code == 200


def test_member_list_for_operator_staff_filters_by_customer(world, as_user):
    client = as_user(world.admin)
    url = reverse("console:member-list")
    assert len(names(client.get(url))) == 6
    page = client.get(url, {"group_customer": world.customer_b.pk})
    assert names(page) == ["Member b0", "Member b1", "Member b2"]
    assert page.context["export_url"] is not None
    assert list(page.context["filter_form"].fields["department"].queryset) == [
        world.head_b, world.sub_b]

    client = as_user(world.manager)
    assert len(names(client.get(url))) == 3
    assert names(client.get(url, {"group_customer": world.customer_b.pk})) == [
        "Member a0", "Member a1", "Member a2"]  # not visible to them: filter ignored


def test_member_list_pagination(world, as_user, monkeypatch):
    from onecard.accounts.console import tables

    monkeypatch.setattr(tables, "PAGE_SIZE", 2)
    client = as_user(world.ent_admin_a)
    first = client.get(reverse("console:member-list"))
    assert names(first) == ["Member a0", "Member a1"]
    assert "page=2" in first.content.decode()
    assert names(client.get(reverse("console:member-list"), {"page": 2})) == ["Member a2"]


def test_member_list_answers_htmx_with_the_table_only(world, as_user):
    client = as_user(world.ent_admin_a)
    response = client.get(reverse("console:member-list"), {"q": "a2"}, HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert "<html" not in html
    assert "Member a2" in html and "Member a1" not in html
    assert 'hx-swap-oob="true"' in html


def test_member_detail(world, as_user):
    client = as_user(world.ent_admin_a)
    member = world.members_a[1]
    page = client.get(reverse("console:member-detail", args=[member.pk]))
    assert page.status_code == 200
    assert member.phone in page.content.decode()
    assert {t["url"] for t in page.context["transitions"]} == {
        reverse("console:member-suspend", args=[member.pk]),
        reverse("console:member-depart", args=[member.pk])}
    assert "Mark as departed" in page.content.decode()


@pytest.mark.parametrize("url_name", ["member-detail", "member-edit", "member-suspend",
                                      "member-resume", "member-depart"])
def test_enterprise_admin_a_gets_404_for_members_of_b(world, as_user, url_name):
    client = as_user(world.ent_admin_a)
    member = world.members_b[0]
    before = state_of(member)
    audit_before = AuditRecord.objects.count()
    url = reverse(f"console:{url_name}", args=[member.pk])
    assert client.get(url).status_code == 404
    data = {"name": "Hijacked", "phone": "13911112222", "reason": "x", "category": "staff"}
    response = client.post(url, data)
    if url_name == "member-detail":
        # A read-only page refuses POST the same way whoever owns the object.
        own_url = reverse("console:member-detail", args=[world.members_a[0].pk])
        assert response.status_code == client.post(own_url, data).status_code == 405
    else:
        assert response.status_code == 404
    assert state_of(member) == before
    assert AuditRecord.objects.count() == audit_before


def test_enterprise_admin_a_cannot_add_members_to_b(world, as_user):
    client = as_user(world.ent_admin_a)
    count = Member.objects.count()
    url = f"{reverse('console:member-create')}?group_customer={world.customer_b.pk}"
    assert client.get(url).status_code == 404
    assert client.post(url, {"name": "Spy", "phone": "13911112222",
                             "category": "staff"}).status_code == 404
    assert Member.objects.count() == count


def test_member_role_gets_404_on_member_pages(world, as_user):
    client = as_user(world.member_user_a)
    own = world.members_a[0]
    assert client.get(reverse("console:member-detail", args=[own.pk])).status_code == 404
    assert client.get(reverse("console:member-edit", args=[own.pk])).status_code == 404


def test_edit_member_writes_an_audit_record(world, as_user):
    client = as_user(world.ent_admin_a)
    member = world.members_a[2]
    url = reverse("console:member-edit", args=[member.pk])
    assert client.get(url).status_code == 200
    response = client.post(url, {"name": "Renamed", "phone": "13900009999",
                                 "employee_number": "Ea002", "department": world.sub_a.pk,
                                 "category": "contractor"})
    assert response.status_code == 302
    member.refresh_from_db()
    assert (member.name, member.phone, member.department, member.category) == (
        "Renamed", "13900009999", world.sub_a, "contractor")
    record = AuditRecord.objects.get(action="member.updated", object_id=str(member.pk))
    assert record.actor == world.ent_admin_a
    assert record.before["name"] == "Member a2"
    assert record.after["name"] == "Renamed"
    assert record.group_customer_id == world.customer_a.pk


def test_edit_member_refusal_names_the_field_and_changes_nothing(world, as_user):
    client = as_user(world.ent_admin_a)
    member = world.members_a[2]
    before = state_of(member)
    response = client.post(reverse("console:member-edit", args=[member.pk]), {
        "name": "Dup", "phone": world.members_a[0].phone, "employee_number": "Ea002",
        "category": "staff",
    })
    assert response.status_code in (400, 409)
    assert "phone" in response.context["form"].errors
    response = client.post(reverse("console:member-edit", args=[member.pk]), {
        "name": "Bad", "phone": "12345", "category": "staff",
    })
    assert response.status_code == 400
    assert "phone" in response.context["form"].errors
    assert state_of(member) == before


def test_create_member(world, as_user):
    client = as_user(world.ent_admin_a)
    response = client.post(reverse("console:member-create"), {
        "name": "New person", "phone": "13911112222", "employee_number": "N1",
        "department": world.head_a.pk, "category": "student",
    })
    member = Member.objects.get(phone="13911112222")
    assert response.status_code == 302
    assert member.group_customer == world.customer_a
    assert AuditRecord.objects.filter(action="member.created",
                                      object_id=str(member.pk)).count() == 1


def test_operator_chooses_the_customer_before_adding_a_member(world, as_user):
    client = as_user(world.manager)
    chooser = client.get(reverse("console:member-create"))
    assert chooser.status_code == 200
    assert list(chooser.context["form"].fields["group_customer"].queryset) == [world.customer_a]
    url = f"{reverse('console:member-create')}?group_customer={world.customer_a.pk}"
    assert client.post(url, {"name": "By manager", "phone": "13911113333",
                             "category": "staff"}).status_code == 302
    assert Member.objects.get(phone="13911113333").group_customer == world.customer_a
    url = f"{reverse('console:member-create')}?group_customer={world.customer_b.pk}"
    assert client.get(url).status_code == 404


def test_status_changes_and_refused_resume_after_departure(world, as_user):
    client = as_user(world.ent_admin_a)
    member = world.members_a[1]
    response = client.post(reverse("console:member-depart", args=[member.pk]),
                           {"reason": "Left the company"})
    assert response.status_code == 302
    member.refresh_from_db()
    assert member.status == "departed"
    assert MemberEvent.objects.filter(member=member, to_status="departed",
                                      reason="Left the company").exists()

    before = state_of(member)
    audit_before = AuditRecord.objects.count()
    response = client.post(reverse("console:member-resume", args=[member.pk]), {"reason": ""})
    assert response.status_code == 409
    html = response.content.decode()
    assert "Cannot change status from “Departed” to “Active”." in html
    assert state_of(member) == before
    assert AuditRecord.objects.count() == audit_before
    # The detail page offers no transitions out of "departed".
    page = client.get(reverse("console:member-detail", args=[member.pk]))
    assert page.context["transitions"] == []


def test_suspend_and_resume(world, as_user):
    client = as_user(world.ent_admin_a)
    member = world.members_a[0]
    client.post(reverse("console:member-suspend", args=[member.pk]), {"reason": "Leave"})
    member.refresh_from_db()
    assert member.status == "suspended"
    client.post(reverse("console:member-resume", args=[member.pk]), {})
    member.refresh_from_db()
    assert member.status == "active"


def test_export_is_an_xlsx_of_the_listed_members(world, as_user):
    client = as_user(world.ent_admin_a)
    response = client.get(reverse("console:member-export"), {"department": world.sub_a.pk})
    assert response.status_code == 200
    assert response["Content-Type"] == (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    assert response["Content-Disposition"].startswith('attachment; filename="roster-GC-a-')
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    cells = [str(cell.value) for row in sheet.iter_rows() for cell in row if cell.value]
    assert "Member a1" in cells
    assert "Member a0" not in cells
    assert not any("Member b" in cell for cell in cells)


def test_export_for_operator_staff_needs_a_customer(world, as_user):
    client = as_user(world.admin)
    response = client.get(reverse("console:member-export"))
    assert response.status_code == 302
    response = client.get(reverse("console:member-export"),
                          {"group_customer": world.customer_b.pk})
    assert response.status_code == 200


def upload(name, content):
    return SimpleUploadedFile(name, content, content_type="application/octet-stream")


def test_roster_import_happy_path(world, as_user):
    client = as_user(world.ent_admin_a)
    assert client.get(reverse("console:roster-import")).status_code == 200
    content = (CSV_HEADER + "Zhang San,13911110001,R1,Head office,staff\r\n"
               "Li Si,13911110002,R2,,student\r\n").encode()
    count = Member.objects.count()
    response = client.post(reverse("console:roster-import"),
                           {"file": upload("roster.csv", content)})
    assert response.status_code == 302
    assert Member.objects.count() == count + 2
    assert set(Member.objects.filter(phone__in=["13911110001", "13911110002"])
               .values_list("group_customer", flat=True)) == {world.customer_a.pk}
    page = client.get(response["Location"])
    assert "2" in str(list(page.context["messages"])[0])


def test_roster_import_bad_file_imports_nothing(world, as_user):
    client = as_user(world.ent_admin_a)
    count, audit_count = Member.objects.count(), AuditRecord.objects.count()
    response = client.post(reverse("console:roster-import"),
                           {"file": upload("roster.xlsx", b"this is not a spreadsheet")})
    assert response.status_code == 400
    assert "Nothing was imported." in response.content.decode()
    assert Member.objects.count() == count
    assert AuditRecord.objects.count() == audit_count


def test_roster_import_with_bad_rows_lists_them_and_imports_nothing(world, as_user):
    client = as_user(world.ent_admin_a)
    count = Member.objects.count()
    content = (CSV_HEADER + "Good,13911110001,R1,,staff\r\n"
               "Bad phone,12345,R2,,staff\r\n").encode()
    response = client.post(reverse("console:roster-import"),
                           {"file": upload("roster.csv", content)})
    assert response.status_code == 400
    assert "Nothing was imported." in response.content.decode()
    report = response.context["report"]
    assert not report.ok
    assert any(error["row"] == 3 and error["field"] == "phone" for error in report.errors)
    assert Member.objects.count() == count


def test_roster_import_refuses_other_file_types_before_reading(world, as_user):
    client = as_user(world.ent_admin_a)
    response = client.post(reverse("console:roster-import"),
                           {"file": upload("roster.exe", b"MZ...")})
    assert response.status_code == 400
    assert "file" in response.context["form"].errors


def test_operator_chooses_a_customer_they_may_change(world, as_user):
    client = as_user(world.manager)
    count = Member.objects.count()
    content = (CSV_HEADER + "Zhang San,13911110001,R1,,staff\r\n").encode()
    response = client.post(reverse("console:roster-import"), {
        "group_customer": world.customer_b.pk, "file": upload("roster.csv", content)})
    assert response.status_code == 400
    assert "group_customer" in response.context["form"].errors
    assert Member.objects.count() == count

    response = client.post(reverse("console:roster-import"), {
        "group_customer": world.customer_a.pk, "file": upload("roster.csv", content)})
    assert response.status_code == 302
    assert Member.objects.get(phone="13911110001").group_customer == world.customer_a
