"""Group customer and department pages through the test client: tenancy (404 for other
customers, GET and POST alike, nothing changed), actions called with refusals shown on the form."""

import pytest
from django.urls import reverse

from onecard.accounts.actions import set_language
from onecard.audit.models import AuditRecord
from onecard.organizations.models import Department, GroupCustomer, GroupCustomerEvent


def snapshot_of(customer):
    customer.refresh_from_db()
    return (customer.name, customer.status, customer.contact_name, customer.events.count())


@pytest.fixture
def as_user(client):
    """Log ``user`` in, with the console in English so messages can be matched."""

    def login(user, language="en"):
        set_language(actor=user, language=language)
        client.force_login(user)
        return client

    return login


def test_customer_list_is_scoped_and_filtered(world, as_user):
    client = as_user(world.admin)
    page = client.get(reverse("console:group-customer-list"))
    assert [c.code for c in page.context["page"]] == ["GC-a", "GC-b"]
    page = client.get(reverse("console:group-customer-list"), {"q": "gc-b"})
    assert [c.code for c in page.context["page"]] == ["GC-b"]
    page = client.get(reverse("console:group-customer-list"), {"status": "pending"})
    assert list(page.context["page"]) == []
    # A bad filter value narrows nothing and never fails.
    page = client.get(reverse("console:group-customer-list"), {"status": "nope", "page": "x"})
    assert page.status_code == 200

    client = as_user(world.manager)
    page = client.get(reverse("console:group-customer-list"))
    assert [c.code for c in page.context["page"]] == ["GC-a"]


def test_customer_list_answers_htmx_with_the_table_only(world, as_user):
    client = as_user(world.admin)
    response = client.get(reverse("console:group-customer-list"), {"q": "GC-a"},
                          HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert "<html" not in html
    assert "Customer A" in html and "Customer B" not in html
    assert "HX-Request" in response["Vary"]


def test_customer_detail_shows_departments_members_and_history(world, as_user):
    client = as_user(world.manager)
    page = client.get(reverse("console:group-customer-detail", args=[world.customer_a.pk]))
    html = page.content.decode()
    assert page.status_code == 200
    assert "Head office" in html and "R&amp;D" in html
    assert page.context["member_total"] == 3
    assert [(e.from_status, e.to_status) for e in page.context["events"]] == [
        ("pending", "verified")]
    assert "91500000a" in html  # verification papers
    assert {t["url"] for t in page.context["transitions"]} == {
        reverse("console:group-customer-suspend", args=[world.customer_a.pk]),
        reverse("console:group-customer-close", args=[world.customer_a.pk])}


def test_enterprise_admin_sees_own_customer_detail(world, as_user):
    client = as_user(world.ent_admin_a)
    page = client.get(reverse("console:group-customer-detail", args=[world.customer_a.pk]))
    assert page.status_code == 200
    assert page.context["transitions"] == []
    assert page.context["may_change"] is False


@pytest.mark.parametrize("url_name", ["group-customer-detail", "group-customer-edit",
                                      "group-customer-verify", "group-customer-suspend",
                                      "group-customer-resume", "group-customer-close"])
def test_enterprise_admin_a_gets_404_for_customer_b(world, as_user, url_name):
    client = as_user(world.ent_admin_a)
    before = snapshot_of(world.customer_b)
    url = reverse(f"console:{url_name}", args=[world.customer_b.pk])
    own_url = reverse(f"console:{url_name}", args=[world.customer_a.pk])
    assert client.get(url).status_code == 404
    data = {"name": "Hijacked", "reason": "x", "contact_name": "x",
            "business_licence_number": "x", "contact_phone": "x", "contract_number": "x"}
    response = client.post(url, data)
    if url_name == "group-customer-detail":
        # A read-only page refuses POST the same way whoever owns the object.
        assert response.status_code == client.post(own_url, data).status_code == 405
    else:
        assert response.status_code == 404
    assert snapshot_of(world.customer_b) == before


@pytest.mark.parametrize("url_name", ["group-customer-edit", "group-customer-suspend"])
def test_manager_of_another_county_gets_404(world, as_user, url_name):
    client = as_user(world.manager_b)
    before = snapshot_of(world.customer_a)
    url = reverse(f"console:{url_name}", args=[world.customer_a.pk])
    assert client.get(url).status_code == 404
    assert client.post(url, {"name": "Hijacked", "reason": "x"}).status_code == 404
    assert snapshot_of(world.customer_a) == before


def test_missing_and_hostile_ids_answer_404(world, as_user):
    client = as_user(world.admin)
    assert client.get(reverse("console:group-customer-detail", args=[999999])).status_code == 404
    assert client.get("/group-customers/99999999999999999999999/").status_code == 404
    response = client.get(reverse("console:department-list"), {"group_customer": "abc"})
    assert response.status_code == 404
    response = client.get(reverse("console:department-list"),
                          {"group_customer": "9" * 30})
    assert response.status_code == 404


def test_create_group_customer(world, as_user):
    client = as_user(world.manager)
    url = reverse("console:group-customer-create")
    response = client.post(url, {"name": "", "code": "GC-new", "kind": "campus",
                                 "branch": world.county_a.pk})
    assert response.status_code == 400
    assert set(response.context["form"].errors) == {"name"}

    response = client.post(url, {"name": "Taken", "code": "GC-a", "kind": "campus",
                                 "branch": world.county_a.pk})
    assert response.status_code == 400
    assert set(response.context["form"].errors) == {"code"}

    # A branch outside the manager's county is not offered, so it is refused.
    response = client.post(url, {"name": "New", "code": "GC-new", "kind": "campus",
                                 "branch": world.county_b.pk})
    assert response.status_code == 400
    assert "branch" in response.context["form"].errors
    assert not GroupCustomer.objects.filter(code="GC-new").exists()

    response = client.post(url, {"name": "New school", "code": "GC-new", "kind": "campus",
                                 "branch": world.county_a.pk, "contact_name": "Li"})
    created = GroupCustomer.objects.get(code="GC-new")
    assert response.status_code == 302
    assert response["Location"] == reverse("console:group-customer-detail", args=[created.pk])
    assert created.status == "pending"
    assert created.customer_manager == world.manager
    assert AuditRecord.objects.filter(action="group_customer.created",
                                      object_id=str(created.pk)).count() == 1


def test_service_agent_cannot_create_or_edit(world, as_user):
    client = as_user(world.agent1)
    assert client.get(reverse("console:group-customer-create")).status_code == 404
    url = reverse("console:group-customer-edit", args=[world.customer_a.pk])
    assert client.post(url, {"name": "x"}).status_code == 404
    # …but reads every customer.
    assert client.get(reverse("console:group-customer-detail",
                              args=[world.customer_b.pk])).status_code == 200


def test_edit_group_customer(world, as_user):
    client = as_user(world.admin)
    url = reverse("console:group-customer-edit", args=[world.customer_a.pk])
    assert client.get(url).status_code == 200
    response = client.post(url, {
        "name": "Customer A Ltd", "kind": "enterprise", "branch": world.county_a.pk,
        "customer_manager": world.manager.pk, "contact_name": "Wang",
        "contact_phone": "13800000001", "address": "1 Road",
        "business_licence_number": "91500000a", "contract_number": "CT-a",
    })
    assert response.status_code == 302
    world.customer_a.refresh_from_db()
    assert (world.customer_a.name, world.customer_a.contact_name) == ("Customer A Ltd", "Wang")
    assert AuditRecord.objects.filter(action="group_customer.updated",
                                      object_id=str(world.customer_a.pk)).count() == 1


def test_edit_refused_by_the_action_shows_the_error_and_changes_nothing(world, as_user):
    client = as_user(world.admin)
    before = snapshot_of(world.customer_a)
    url = reverse("console:group-customer-edit", args=[world.customer_a.pk])
    # A verified customer must keep its papers: the action's model check refuses.
    response = client.post(url, {
        "name": "Customer A", "kind": "enterprise", "branch": world.county_a.pk,
        "contact_name": "", "contact_phone": "", "business_licence_number": "",
        "contract_number": "",
    })
    assert response.status_code == 400
    assert response.context["form"].errors
    assert snapshot_of(world.customer_a) == before


def test_suspend_needs_a_reason_then_resume_and_close(world, as_user):
    client = as_user(world.manager)
    customer = world.customer_a
    suspend = reverse("console:group-customer-suspend", args=[customer.pk])
    assert client.get(suspend).status_code == 200
    response = client.post(suspend, {"reason": "   "})
    assert response.status_code == 400
    assert "reason" in response.context["form"].errors
    customer.refresh_from_db()
    assert customer.status == "verified"

    assert client.post(suspend, {"reason": "Arrears"}).status_code == 302
    customer.refresh_from_db()
    assert customer.status == "suspended"
    assert GroupCustomerEvent.objects.filter(group_customer=customer,
                                             to_status="suspended", reason="Arrears").exists()

    resume = reverse("console:group-customer-resume", args=[customer.pk])
    assert client.post(resume, {"reason": "Paid"}).status_code == 302
    customer.refresh_from_db()
    assert customer.status == "verified"

    close = reverse("console:group-customer-close", args=[customer.pk])
    assert client.post(close, {"reason": "Contract ended"}).status_code == 302
    customer.refresh_from_db()
    assert customer.status == "closed"


def test_refused_transition_shows_the_error_and_changes_nothing(world, as_user):
    client = as_user(world.manager)
    before = snapshot_of(world.customer_a)
    audit_before = AuditRecord.objects.count()
    response = client.post(reverse("console:group-customer-resume", args=[world.customer_a.pk]),
                           {"reason": "Why not"})
    assert response.status_code == 409
    errors = response.context["form"].non_field_errors()
    assert any("Cannot change status" in error for error in errors)
    assert snapshot_of(world.customer_a) == before
    assert AuditRecord.objects.count() == audit_before


def test_verify_a_pending_customer(world, as_user):
    client = as_user(world.manager)
    client.post(reverse("console:group-customer-create"),
                {"name": "Pending Co", "code": "GC-p", "kind": "enterprise",
                 "branch": world.county_a.pk})
    customer = GroupCustomer.objects.get(code="GC-p")
    url = reverse("console:group-customer-verify", args=[customer.pk])
    response = client.post(url, {"business_licence_number": "9150", "contact_name": "",
                                 "contact_phone": "138", "contract_number": "C1"})
    assert response.status_code == 400
    assert "contact_name" in response.context["form"].errors
    response = client.post(url, {"business_licence_number": "9150", "contact_name": "Zhao",
                                 "contact_phone": "138", "contract_number": "C1"})
    assert response.status_code == 302
    customer.refresh_from_db()
    assert (customer.status, customer.verified_by) == ("verified", world.manager)


# --- Departments --------------------------------------------------------------------------------


def test_department_tree_for_an_enterprise_admin(world, as_user):
    client = as_user(world.ent_admin_a)
    page = client.get(reverse("console:department-list"))
    assert page.status_code == 200
    assert [(d.name, d.tree_depth, d.member_count) for d in page.context["departments"]] == [
        ("Head office", 0, 2), ("R&D", 1, 1)]
    assert page.context["may_change"] is True


def test_operator_staff_reach_departments_through_the_customer(world, as_user):
    client = as_user(world.agent1)
    response = client.get(reverse("console:department-list"))
    assert response.status_code == 302
    page = client.get(reverse("console:department-list"), {"group_customer": world.customer_b.pk})
    assert page.status_code == 200
    assert page.context["may_change"] is False
    assert client.get(reverse("console:department-create"),
                      {"group_customer": world.customer_b.pk}).status_code == 404


def test_create_edit_and_delete_a_department(world, as_user):
    client = as_user(world.ent_admin_a)
    response = client.post(reverse("console:department-create"),
                           {"name": "Sales", "code": "S1", "parent": world.head_a.pk})
    assert response.status_code == 302
    sales = Department.objects.get(group_customer=world.customer_a, name="Sales")
    assert sales.parent == world.head_a

    response = client.post(reverse("console:department-create"),
                           {"name": "Sales", "parent": world.head_a.pk})
    assert response.status_code in (400, 409)
    assert "A department with this name already exists here." in response.content.decode()
    assert Department.objects.filter(group_customer=world.customer_a, name="Sales").count() == 1

    response = client.post(reverse("console:department-edit", args=[sales.pk]),
                           {"name": "Sales & Marketing", "code": "S1", "parent": ""})
    assert response.status_code == 302
    sales.refresh_from_db()
    assert (sales.name, sales.parent) == ("Sales & Marketing", None)

    # A department cannot move under itself: not offered, so refused by the form.
    response = client.post(reverse("console:department-edit", args=[world.head_a.pk]),
                           {"name": "Head office", "parent": world.sub_a.pk})
    assert response.status_code == 400
    assert "parent" in response.context["form"].errors

    response = client.post(reverse("console:department-delete", args=[sales.pk]))
    assert response.status_code == 302
    assert not Department.objects.filter(pk=sales.pk).exists()
    assert AuditRecord.objects.filter(action="department.deleted",
                                      object_id=str(sales.pk)).count() == 1


def test_deleting_a_department_with_members_is_refused(world, as_user):
    client = as_user(world.ent_admin_a)
    response = client.post(reverse("console:department-delete", args=[world.sub_a.pk]))
    assert response.status_code == 409
    assert "Move its members and sub-departments first." in response.content.decode()
    assert Department.objects.filter(pk=world.sub_a.pk).exists()


def test_parent_from_another_customer_is_refused(world, as_user):
    client = as_user(world.ent_admin_a)
    count = Department.objects.count()
    response = client.post(reverse("console:department-create"),
                           {"name": "Spy", "parent": world.head_b.pk})
    assert response.status_code == 400
    assert "parent" in response.context["form"].errors
    assert Department.objects.count() == count


@pytest.mark.parametrize("url_name", ["department-edit", "department-delete"])
def test_enterprise_admin_a_gets_404_for_departments_of_b(world, as_user, url_name):
    client = as_user(world.ent_admin_a)
    url = reverse(f"console:{url_name}", args=[world.head_b.pk])
    assert client.get(url).status_code == 404
    assert client.post(url, {"name": "Hijacked"}).status_code == 404
    world.head_b.refresh_from_db()
    assert world.head_b.name == "Head office"


def test_enterprise_admin_a_gets_404_for_the_department_list_of_b(world, as_user):
    client = as_user(world.ent_admin_a)
    count = Department.objects.count()
    assert client.get(reverse("console:department-list"),
                      {"group_customer": world.customer_b.pk}).status_code == 404
    url = f"{reverse('console:department-create')}?group_customer={world.customer_b.pk}"
    assert client.get(url).status_code == 404
    assert client.post(url, {"name": "Spy"}).status_code == 404
    assert Department.objects.count() == count
