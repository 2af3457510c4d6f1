"""Implementation projects through the public API: a worked walk from survey to final
acceptance, every refusal (with nothing changed), role scoping and bad input."""

import io
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from onecard.audit.models import AuditRecord
from onecard.organizations import actions as org
from onecard.projects import actions
from onecard.projects.choices import STAGE_ORDER, StageKind
from onecard.projects.models import (
    ChecklistItem,
    EquipmentLine,
    ProcurementOrder,
    Project,
    ProjectEvent,
    StageAttachment,
)

from .helpers import stage, state_of, tick_all, walk

BASE = "/api/v1/projects/"


@pytest.fixture
def api_as():
    """An API client for ``user`` asking for English answers (the default is zh-Hans)."""
    from rest_framework.test import APIClient

    def make(user, language="en"):
        client = APIClient()
        client.force_authenticate(user)
        client.credentials(HTTP_ACCEPT_LANGUAGE=language)
        return client

    return make


def url(project, tail=""):
    return f"{BASE}{project.pk}/{tail}"


def ids(response):
    return [item["id"] for item in response.json()["results"]]


def tick_via_api(client, project, kind):
    detail = client.get(url(project)).json()
    items = next(s for s in detail["stages"] if s["kind"] == kind)["checklist"]
    for item in items:
        response = client.post(url(project, f"checklist-items/{item['id']}/"), {"done": True})
        assert response.status_code == 200, response.json()
        assert response.json()["is_done"] is True


def start_and_sign(client, project, kind, note="done"):
    response = client.post(url(project, f"stages/{kind}/start/"), {})
    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "in_progress"
    tick_via_api(client, project, kind)
    response = client.post(url(project, f"stages/{kind}/sign-off/"), {"note": note})
    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "signed_off"


# --- The worked walk ----------------------------------------------------------------------------


def test_a_project_walks_from_survey_to_final_acceptance(world, api_as):
    manager = api_as(world.manager)
    engineer = api_as(world.integrator_engineer)
    audit_before = AuditRecord.objects.count()

    # The customer manager opens the project; the total to swap is A's three active members.
    response = manager.post(BASE, {"group_customer": world.customer_a.pk,
                                   "name": "A one-card rollout",
                                   "integrator": world.integrator.pk})
    assert response.status_code == 201, response.json()
    project = Project.objects.get(pk=response.json()["id"])
    assert response.json()["status"] == "in_progress"
    assert response.json()["current_stage"] == "survey"
    assert response.json()["swap_total"] == 3
    detail = manager.get(url(project)).json()
    assert [s["kind"] for s in detail["stages"]] == [str(k) for k in STAGE_ORDER]
    assert {s["owner"] for s in detail["stages"]} == {world.manager.pk}
    assert all(s["checklist"] for s in detail["stages"])

    # Construction is the integrator's: its engineer becomes the owner.
    response = manager.post(url(project, "stages/construction/owner/"),
                            {"owner": world.integrator_engineer.pk})
    assert response.status_code == 200, response.json()
    assert response.json()["owner"] == world.integrator_engineer.pk

    # Survey, with the survey report attached.
    manager.post(url(project, "stages/survey/start/"), {})
    upload = SimpleUploadedFile("survey report.pdf", b"%PDF-1.4 survey", "application/pdf")
    response = manager.post(url(project, "stages/survey/attachments/"),
                            {"file": upload, "description": "Site survey"}, format="multipart")
    assert response.status_code == 201, response.json()
    attachment_id = response.json()["id"]
    assert response.json()["original_name"] == "survey report.pdf"
    assert response.json()["size"] == len(b"%PDF-1.4 survey")
    download = manager.get(url(project, f"attachments/{attachment_id}/"))
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == b"%PDF-1.4 survey"
    assert "attachment" in download["Content-Disposition"]
    tick_via_api(manager, project, "survey")
    response = manager.post(url(project, "stages/survey/sign-off/"), {"note": "Plan agreed"})
    assert response.status_code == 200
    assert response.json()["signed_off_by"] == world.manager.pk
    assert response.json()["sign_off_note"] == "Plan agreed"

    start_and_sign(manager, project, "business_acceptance")

    # Construction preparation: the equipment list and a procurement order.
    manager.post(url(project, "stages/construction_preparation/start/"), {})
    response = manager.post(url(project, "equipment/"), {
        "name": "Door controller", "model_number": "DC-200", "quantity": 4,
        "vendor": world.vendor.pk})
    assert response.status_code == 201, response.json()
    line_id = response.json()["id"]
    response = manager.post(url(project, "procurement-orders/"), {
        "equipment_line": line_id, "vendor": world.vendor.pk, "order_number": "PO-1",
        "quantity": 4})
    assert response.status_code == 201, response.json()
    tick_via_api(manager, project, "construction_preparation")
    manager.post(url(project, "stages/construction_preparation/sign-off/"), {})

    # Construction, by the integrator's engineer who owns it.
    start_and_sign(engineer, project, "construction", note="All terminals online")

    # Card swap: progress recorded as members swap.
    manager.post(url(project, "stages/card_swap/start/"), {})
    response = manager.post(url(project, "swap-progress/"), {"swapped": 2})
    assert response.status_code == 200, response.json()
    assert (response.json()["swap_done"], response.json()["swap_total"],
            response.json()["swap_percent"]) == (2, 3, 67)
    assert manager.post(url(project, "swap-progress/"), {"swapped": 3}).json()["swap_done"] == 3
    tick_via_api(manager, project, "card_swap")
    manager.post(url(project, "stages/card_swap/sign-off/"), {})

    start_and_sign(manager, project, "training")
    before_initial = timezone.now()
    start_and_sign(manager, project, "initial_acceptance")
    answer = manager.get(url(project)).json()
    assert answer["current_stage"] == "final_acceptance"
    assert answer["final_acceptance_due_at"] is not None
    project.refresh_from_db()
    assert before_initial + timedelta(days=27) < project.final_acceptance_due_at
    assert project.final_acceptance_due_at < before_initial + timedelta(days=32)
    assert answer["is_overdue"] is False

    # Final acceptance: requested (started), then signed by both parties, then signed off.
    response = manager.post(url(project, "stages/final_acceptance/start/"), {})
    assert response.status_code == 200
    assert manager.get(url(project)).json()["final_acceptance_requested_at"] is not None
    tick_via_api(manager, project, "final_acceptance")
    response = manager.post(url(project, "final-acceptance/sign/"), {"note": "Operator OK"})
    assert response.status_code == 200, response.json()
    assert response.json()["operator_signed_by"] == world.manager.pk
    response = api_as(world.ent_admin_a).post(url(project, "final-acceptance/sign/"),
                                              {"note": "Customer OK"})
    assert response.status_code == 200, response.json()
    assert response.json()["customer_signed_by"] == world.ent_admin_a.pk
    response = manager.post(url(project, "stages/final_acceptance/sign-off/"), {})
    assert response.status_code == 200, response.json()

    answer = manager.get(url(project)).json()
    assert answer["status"] == "completed"
    assert answer["current_stage"] == ""
    assert answer["closed_at"] is not None
    assert {s["status"] for s in answer["stages"]} == {"signed_off"}
    assert answer["equipment"][0]["quantity"] == 4
    assert answer["procurement_orders"][0]["order_number"] == "PO-1"

    events = manager.get(url(project, "events/")).json()["results"]
    kinds = [(e["kind"], e["stage"]) for e in events]
    assert kinds[0] == ("project_created", None)
    assert kinds[-1] == ("project_completed", None)
    assert kinds.count(("stage_signed_off", "survey")) == 1
    assert sum(1 for k, _s in kinds if k == "stage_started") == 8
    assert sum(1 for k, _s in kinds if k == "final_acceptance_signed") == 2
    # Every change left an audit record in customer A's chain.
    new_audit = AuditRecord.objects.filter(pk__gt=0).count() - audit_before
    assert new_audit == AuditRecord.objects.filter(
        group_customer_id=world.customer_a.pk, action__startswith="project.").count()
    assert AuditRecord.objects.filter(action="project.completed").count() == 1


# --- Refusals: each names its rule and changes nothing ------------------------------------------


def refused(client, path, body, project, *, status, code=None, field=None, fmt=None):
    before = state_of(project)
    response = client.post(path, body, format=fmt) if fmt else client.post(path, body)
    assert response.status_code == status, response.json()
    if code:
        assert response.json().get("code") == code or response.json().get("error_code") == code
    if field:
        assert field in response.json()
    assert state_of(project) == before
    return response.json()


def test_skipping_a_stage_is_refused(world, api_as, project_a):
    client = api_as(world.manager)
    body = refused(client, url(project_a, "stages/business_acceptance/start/"), {}, project_a,
                   status=409, code="stage_skipped")
    assert "Survey and solution" in body["detail"]
    refused(client, url(project_a, "stages/construction/sign-off/"), {}, project_a,
            status=409, code="stage_skipped")
    # Survey started but not signed off: still no skipping.
    actions.start_stage(actor=world.manager, stage=stage(project_a, "survey"))
    refused(client, url(project_a, "stages/business_acceptance/start/"), {}, project_a,
            status=409, code="stage_skipped")


def test_signing_off_without_the_checklist_done_is_refused(world, api_as, project_a):
    client = api_as(world.manager)
    actions.start_stage(actor=world.manager, stage=stage(project_a, "survey"))
    first = stage(project_a, "survey").checklist.first()
    actions.set_checklist_item(actor=world.manager, item=first, done=True)
    body = refused(client, url(project_a, "stages/survey/sign-off/"), {}, project_a, status=409,
                   code="checklist_incomplete")
    assert "Solution and equipment plan" in body["detail"]


def test_signing_off_a_stage_not_started_is_refused(world, api_as, project_a):
    refused(api_as(world.manager), url(project_a, "stages/survey/sign-off/"), {}, project_a,
            status=409, code="transition_refused")


@pytest.mark.parametrize("who", ["admin", "integrator_engineer"])
def test_only_the_owner_signs_off(world, api_as, project_a, who):
    actions.start_stage(actor=world.manager, stage=stage(project_a, "survey"))
    tick_all(project_a, "survey", world.manager)
    body = refused(api_as(getattr(world, who)), url(project_a, "stages/survey/sign-off/"), {},
                   project_a, status=403, code="not_stage_owner")
    assert "manager" in body["detail"]


def test_final_acceptance_sign_off_missing_a_party_is_refused(world, api_as, project_a):
    walk(project_a, until=StageKind.FINAL_ACCEPTANCE, actor=world.manager)
    tick_all(project_a, "final_acceptance", world.manager)
    client = api_as(world.manager)
    body = refused(client, url(project_a, "stages/final_acceptance/sign-off/"), {}, project_a,
                   status=409, code="final_acceptance_missing_party")
    assert "Operator side" in body["detail"] and "Customer side" in body["detail"]
    actions.sign_final_acceptance(actor=world.manager, project=project_a)
    body = refused(client, url(project_a, "stages/final_acceptance/sign-off/"), {}, project_a,
                   status=409, code="final_acceptance_missing_party")
    assert "Customer side" in body["detail"] and "Operator side" not in body["detail"]
    # The same side cannot sign twice.
    refused(client, url(project_a, "final-acceptance/sign/"), {}, project_a, status=409,
            code="already_signed")


@pytest.mark.parametrize("who", ["integrator_engineer", "ent_admin_b"])
def test_only_the_two_parties_sign_final_acceptance(world, api_as, project_a, who):
    walk(project_a, until=StageKind.FINAL_ACCEPTANCE, actor=world.manager)
    actions.assign_stage_owner(actor=world.admin, stage=stage(project_a, "final_acceptance"),
                               owner=world.integrator_engineer)
    expected = 403 if who == "integrator_engineer" else 404  # B's admin cannot see A's project
    refused(api_as(getattr(world, who)), url(project_a, "final-acceptance/sign/"), {}, project_a,
            status=expected)


def test_final_acceptance_cannot_be_signed_before_it_is_requested(world, api_as, project_a):
    refused(api_as(world.ent_admin_a), url(project_a, "final-acceptance/sign/"), {}, project_a,
            status=409, code="stage_skipped")


def test_enterprise_admin_only_reads_and_signs(world, api_as, project_a):
    client = api_as(world.ent_admin_a)
    assert client.get(url(project_a)).status_code == 200
    refused(client, url(project_a, "stages/survey/start/"), {}, project_a, status=403,
            code="not_allowed")
    refused(client, url(project_a, "cancel/"), {"reason": "no"}, project_a, status=403,
            code="not_allowed")
    refused(client, BASE, {"group_customer": world.customer_a.pk, "name": "X"}, project_a,
            status=400, field="group_customer")


def test_anything_on_a_closed_project_is_refused(world, api_as, project_a):
    client = api_as(world.manager)
    response = client.post(url(project_a, "cancel/"), {"reason": "Contract withdrawn"})
    assert response.status_code == 200
    assert response.json()["status"] == "cancelled"
    item = ChecklistItem.objects.filter(stage__project=project_a).first()
    for path, body in [
        ("stages/survey/start/", {}),
        ("stages/survey/sign-off/", {}),
        ("stages/survey/checklist/", {"title": "More"}),
        (f"checklist-items/{item.pk}/", {"done": True}),
        ("stages/survey/owner/", {"owner": world.manager.pk}),
        ("equipment/", {"name": "POS", "quantity": 1}),
        ("swap-progress/", {"swapped": 1}),
        ("final-acceptance/sign/", {}),
        ("cancel/", {"reason": "again"}),
    ]:
        refused(client, url(project_a, path), body, project_a, status=409, code="project_closed")
    upload = SimpleUploadedFile("late.pdf", b"late", "application/pdf")
    refused(client, url(project_a, "stages/survey/attachments/"), {"file": upload}, project_a,
            status=409, code="project_closed", fmt="multipart")
    # A new project may be opened once the old one is closed.
    response = client.post(BASE, {"group_customer": world.customer_a.pk, "name": "Second go"})
    assert response.status_code == 201


def test_one_project_in_progress_per_customer(world, api_as, project_a):
    refused(api_as(world.admin), BASE, {"group_customer": world.customer_a.pk, "name": "Again"},
            project_a, status=409, code="one_project_in_progress", field="group_customer")


def test_project_needs_a_verified_customer(world, api_as, project_a):
    pending = org.create_group_customer(actor=world.manager, branch=world.county_a,
                                        name="New", code="GC-new")
    refused(api_as(world.manager), BASE, {"group_customer": pending.pk, "name": "Too early"},
            project_a, status=409, code="customer_not_verified", field="group_customer")


def test_integrator_must_serve_the_customers_county(world, api_as, project_a):
    other = org.create_integrator(actor=world.admin, operator=world.operator, name="Far away",
                                  counties=[world.county_b])
    refused(api_as(world.admin), BASE, {"group_customer": world.customer_b.pk, "name": "B",
                                        "integrator": world.integrator.pk},
            project_a, status=400, field="integrator")
    response = api_as(world.admin).post(BASE, {"group_customer": world.customer_b.pk,
                                               "name": "B", "integrator": other.pk})
    assert response.status_code == 201


def test_stage_owner_must_be_a_manager_or_a_serving_engineer(world, api_as, project_a):
    client = api_as(world.admin)
    path = url(project_a, "stages/construction/owner/")
    # An enterprise admin is not a possible owner (not offered: refused like an unknown id).
    refused(client, path, {"owner": world.ent_admin_a.pk}, project_a, status=400, field="owner")
    # manager_b does not look after customer A.
    refused(client, path, {"owner": world.manager_b.pk}, project_a, status=400, field="owner")
    # An engineer of an integrator that does not serve county A.
    far = org.create_integrator(actor=world.admin, operator=world.operator, name="Far",
                                counties=[world.county_b])
    from onecard.accounts.actions import create_account
    from onecard.accounts.choices import Role

    far_engineer = create_account(actor=world.admin, username="far", password=world.password,
                                  role=Role.INTEGRATOR_ENGINEER, integrator=far)
    body = refused(client, path, {"owner": far_engineer.pk}, project_a, status=400, field="owner")
    assert "county" in body["owner"][0]


def test_owner_of_a_signed_off_stage_is_final(world, api_as, project_a):
    walk(project_a, until=StageKind.BUSINESS_ACCEPTANCE, actor=world.manager)
    refused(api_as(world.admin), url(project_a, "stages/survey/owner/"),
            {"owner": world.integrator_engineer.pk}, project_a, status=409,
            code="stage_signed_off")


def test_integrator_engineer_works_only_on_stages_they_own(world, api_as, project_a):
    actions.start_stage(actor=world.manager, stage=stage(project_a, "survey"))
    client = api_as(world.integrator_engineer)
    item = stage(project_a, "survey").checklist.first()
    refused(client, url(project_a, f"checklist-items/{item.pk}/"), {"done": True}, project_a,
            status=403, code="not_allowed")
    actions.assign_stage_owner(actor=world.manager, stage=stage(project_a, "survey"),
                               owner=world.integrator_engineer)
    response = client.post(url(project_a, f"checklist-items/{item.pk}/"), {"done": True})
    assert response.status_code == 200
    item.refresh_from_db()
    assert (item.is_done, item.done_by) == (True, world.integrator_engineer)


def test_checklist_ticks_only_while_the_stage_is_in_progress(world, api_as, project_a):
    item = stage(project_a, "survey").checklist.first()
    refused(api_as(world.manager), url(project_a, f"checklist-items/{item.pk}/"), {"done": True},
            project_a, status=409, code="stage_not_in_progress")


def test_untick_clears_who_and_when(world, api_as, project_a):
    actions.start_stage(actor=world.manager, stage=stage(project_a, "survey"))
    item = stage(project_a, "survey").checklist.first()
    client = api_as(world.manager)
    assert client.post(url(project_a, f"checklist-items/{item.pk}/"),
                       {"done": True}).json()["done_by"] == world.manager.pk
    answer = client.post(url(project_a, f"checklist-items/{item.pk}/"), {"done": False}).json()
    assert (answer["is_done"], answer["done_by"], answer["done_at"]) == (False, None, None)


def test_an_attachment_over_the_limit_is_refused(world, api_as, project_a, settings):
    settings.ONECARD_PROJECT_ATTACHMENT_MAX_BYTES = 10
    client = api_as(world.manager)
    upload = SimpleUploadedFile("big.pdf", b"x" * 11, "application/pdf")
    body = refused(client, url(project_a, "stages/survey/attachments/"), {"file": upload},
                   project_a, status=413, code="attachment_too_large", field="file",
                   fmt="multipart")
    assert "at most 10 bytes" in body["file"][0]
    empty = SimpleUploadedFile("empty.pdf", b"", "application/pdf")
    refused(client, url(project_a, "stages/survey/attachments/"), {"file": empty}, project_a,
            status=400, field="file", fmt="multipart")
    exact = SimpleUploadedFile("../../etc/passwd", b"x" * 10, "text/plain")
    response = client.post(url(project_a, "stages/survey/attachments/"), {"file": exact},
                           format="multipart")
    assert response.status_code == 201
    stored = StageAttachment.objects.get()
    assert stored.original_name == "passwd"
    assert ".." not in stored.file.name and stored.file.name.startswith("projects/")


def test_equipment_and_orders_only_in_construction_preparation(world, api_as, project_a):
    client = api_as(world.manager)
    refused(client, url(project_a, "equipment/"), {"name": "POS", "quantity": 2}, project_a,
            status=409, code="stage_not_in_progress")
    walk(project_a, until=StageKind.CONSTRUCTION_PREPARATION, actor=world.manager)
    line = actions.add_equipment_line(actor=world.manager, project=project_a, name="POS",
                                      quantity=2, vendor=world.vendor)
    actions.add_procurement_order(actor=world.manager, project=project_a, equipment_line=line,
                                  vendor=world.vendor, order_number="PO-1", quantity=1)
    body = refused(client, url(project_a, "procurement-orders/"), {
        "equipment_line": line.pk, "vendor": world.vendor.pk, "order_number": "PO-2",
        "quantity": 2}, project_a, status=400, field="quantity")
    assert "Only 1 of 2" in body["quantity"][0]
    refused(client, url(project_a, "procurement-orders/"), {
        "equipment_line": line.pk, "vendor": world.vendor.pk, "order_number": "PO-1",
        "quantity": 1}, project_a, status=409, field="order_number")


def test_swap_progress_cannot_exceed_the_total(world, api_as, project_a):
    client = api_as(world.manager)
    refused(client, url(project_a, "swap-progress/"), {"swapped": 1}, project_a, status=409,
            code="stage_not_in_progress")
    walk(project_a, until=StageKind.CARD_SWAP, actor=world.manager)
    body = refused(client, url(project_a, "swap-progress/"), {"swapped": 4}, project_a,
                   status=400, field="swapped")
    assert "cannot exceed the total (3)" in body["swapped"][0]
    response = client.post(url(project_a, "swap-progress/"), {"swapped": 4, "total": 5})
    assert (response.json()["swap_done"], response.json()["swap_total"]) == (4, 5)


# --- Overdue final acceptance -------------------------------------------------------------------


def test_overdue_final_acceptance_is_flagged_and_filterable(world, api_as, project_a):
    long_ago = timezone.now() - timedelta(days=60)
    walk(project_a, until=StageKind.INITIAL_ACCEPTANCE, actor=world.manager, at=long_ago)
    tick_all(project_a, "initial_acceptance", world.manager, at=long_ago)
    actions.sign_off_stage(actor=world.manager, stage=stage(project_a, "initial_acceptance"),
                           at=long_ago)
    client = api_as(world.admin)
    answer = client.get(url(project_a)).json()
    assert answer["is_overdue"] is True
    assert ids(client.get(BASE, {"is_overdue": "true"})) == [project_a.pk]
    assert ids(client.get(BASE, {"is_overdue": "false"})) == []
    # Requesting it late clears the flag but is recorded as late.
    actions.start_stage(actor=world.manager, stage=stage(project_a, "final_acceptance"))
    answer = client.get(url(project_a)).json()
    assert (answer["is_overdue"], answer["final_acceptance_requested_late"]) == (False, True)


# --- Role scoping -------------------------------------------------------------------------------


@pytest.fixture
def two_projects(world, project_a):
    project_b = actions.create_project(actor=world.manager_b, group_customer=world.customer_b,
                                       name="Customer B one-card")
    return project_a, project_b


@pytest.mark.parametrize("who,sees", [
    ("admin", {"a", "b"}),
    ("manager", {"a"}),
    ("manager_b", {"b"}),
    ("integrator_engineer", {"a"}),
    ("ent_admin_a", {"a"}),
    ("ent_admin_b", {"b"}),
    ("agent1", set()),
    ("agent2", set()),
    ("vendor_engineer", set()),
    ("member_user_a", set()),
])
def test_each_role_sees_only_its_projects(world, api_as, two_projects, who, sees):
    by_tag = {"a": two_projects[0], "b": two_projects[1]}
    client = api_as(getattr(world, who))
    listed = set(ids(client.get(BASE)))
    assert listed == {by_tag[tag].pk for tag in sees}
    for tag, project in by_tag.items():
        expected = 200 if tag in sees else 404
        assert client.get(url(project)).status_code == expected
        assert client.get(url(project, "events/")).status_code == expected


def test_integrator_engineer_sees_projects_where_their_integrator_owns_a_stage(world, api_as,
                                                                                two_projects):
    _a, project_b = two_projects
    client = api_as(world.integrator_engineer)
    assert client.get(url(project_b)).status_code == 404
    # Their integrator does not serve county B, so they cannot own a stage there; once it
    # does, and they own one, the project becomes visible.
    org.update_integrator(actor=world.admin, integrator=world.integrator,
                          counties=[world.county_a, world.county_b])
    actions.assign_stage_owner(actor=world.admin, stage=stage(project_b, "construction"),
                               owner=world.integrator_engineer)
    assert client.get(url(project_b)).status_code == 200


def test_another_customers_project_is_404_for_writes_too(world, api_as, two_projects):
    project_a, project_b = two_projects
    client = api_as(world.manager)
    item = ChecklistItem.objects.filter(stage__project=project_b).first()
    for path, body in [("stages/survey/start/", {}), ("cancel/", {"reason": "x"}),
                       (f"checklist-items/{item.pk}/", {"done": True}),
                       ("final-acceptance/sign/", {})]:
        before = state_of(project_b)
        assert client.post(url(project_b, path), body).status_code == 404
        assert state_of(project_b) == before
    # An item of B through A's URL is not found either.
    actions.start_stage(actor=world.manager, stage=stage(project_a, "survey"))
    before = state_of(project_b)
    assert client.post(url(project_a, f"checklist-items/{item.pk}/"),
                       {"done": True}).status_code == 404
    assert state_of(project_b) == before


def test_attachments_download_only_through_a_visible_project(world, api_as, two_projects):
    project_a, _b = two_projects
    attachment = actions.add_attachment(
        actor=world.manager, stage=stage(project_a, "survey"),
        uploaded_file=SimpleUploadedFile("a.txt", b"secret", "text/plain"))
    path = url(project_a, f"attachments/{attachment.pk}/")
    assert api_as(world.ent_admin_a).get(path).status_code == 200
    assert api_as(world.ent_admin_b).get(path).status_code == 404
    assert api_as(world.manager_b).get(path).status_code == 404
    assert api_as(world.admin).get(url(project_a, "attachments/999999/")).status_code == 404


def test_list_filters(world, api_as, two_projects):
    project_a, project_b = two_projects
    client = api_as(world.admin)
    assert ids(client.get(BASE, {"group_customer": world.customer_b.pk})) == [project_b.pk]
    assert ids(client.get(BASE, {"branch": world.county_a.pk})) == [project_a.pk]
    assert ids(client.get(BASE, {"integrator": world.integrator.pk})) == [project_a.pk]
    assert set(ids(client.get(BASE, {"current_stage": "survey"}))) == {project_a.pk,
                                                                       project_b.pk}
    assert ids(client.get(BASE, {"status": "completed"})) == []
    assert ids(client.get(BASE, {"search": "GC-b"})) == [project_b.pk]
    page = client.get(BASE, {"page_size": 1}).json()
    assert page["count"] == 2 and len(page["results"]) == 1 and page["next"]


def test_export_is_an_xlsx_of_visible_projects(world, api_as, two_projects):
    import openpyxl

    response = api_as(world.manager).get(f"{BASE}export/")
    assert response.status_code == 200
    workbook = openpyxl.load_workbook(io.BytesIO(response.content))
    rows = list(workbook.active.iter_rows(values_only=True))
    assert rows[0][0] == "Customer code"
    assert [row[0] for row in rows[1:]] == ["GC-a"]
    assert rows[1][6] == "0/8"


# --- Bad input ----------------------------------------------------------------------------------


@pytest.mark.parametrize("body,field", [
    ({"group_customer": "{b}", "name": "X"}, "group_customer"),  # another tenant's customer
    ({"group_customer": 999999, "name": "X"}, "group_customer"),
    ({"group_customer": "abc", "name": "X"}, "group_customer"),
    ({"group_customer": True, "name": "X"}, "group_customer"),
    ({"group_customer": "{a}"}, "name"),
    ({"group_customer": "{a}", "name": "X", "status": "completed"}, "status"),  # read-only
    ({"group_customer": "{a}", "name": "X", "colour": "red"}, "colour"),  # unknown
    ({"group_customer": "{a}", "name": "X", "swap_total": -1}, "swap_total"),
    ({"group_customer": "{a}", "name": "X", "swap_total": "many"}, "swap_total"),
    ({"group_customer": "{a}", "name": "X" * 201}, "name"),
    ({"group_customer": "{a}", "name": "X", "integrator": 10**30}, "integrator"),
])
def test_bad_project_input_names_the_field(world, api_as, body, field):
    body = {key: ({"{a}": world.customer_a.pk, "{b}": world.customer_b.pk}.get(value, value)
                  if isinstance(value, str) else value) for key, value in body.items()}
    before = (Project.objects.count(), AuditRecord.objects.count())
    response = api_as(world.manager).post(BASE, body)
    assert response.status_code == 400, response.json()
    assert field in response.json()
    assert (Project.objects.count(), AuditRecord.objects.count()) == before


@pytest.mark.parametrize("path,body,field", [
    ("stages/survey/start/", {"note": 5, "extra": 1}, "extra"),
    ("stages/survey/start/", ["not", "an", "object"], "non_field_errors"),
    ("stages/survey/checklist/", {"title": ""}, "title"),
    ("stages/survey/checklist/", {}, "title"),
    ("stages/survey/owner/", {"owner": "me"}, "owner"),
    ("stages/survey/owner/", {"owner": 999999}, "owner"),
    ("swap-progress/", {"swapped": "lots"}, "swapped"),
    ("swap-progress/", {"swapped": -1}, "swapped"),
    ("swap-progress/", {"swapped": 1, "total": 1.5}, "total"),
    ("equipment/", {"name": "POS", "quantity": 0}, "quantity"),
    ("equipment/", {"name": "POS", "quantity": 1, "vendor": "x"}, "vendor"),
    ("procurement-orders/", {"equipment_line": 999999, "vendor": 1, "order_number": "P",
                             "quantity": 1}, "equipment_line"),
    ("cancel/", {}, "reason"),
    ("cancel/", {"reason": "x" * 2001}, "reason"),
])
def test_bad_stage_input_names_the_field(world, api_as, project_a, path, body, field):
    before = state_of(project_a)
    response = api_as(world.manager).post(url(project_a, path), body)
    assert response.status_code == 400, response.json()
    assert field in response.json()
    assert state_of(project_a) == before


def test_unknown_stage_and_ids_are_404(world, api_as, project_a):
    client = api_as(world.manager)
    before = state_of(project_a)
    assert client.post(url(project_a, "stages/teleport/start/"), {}).status_code == 404
    assert client.post(url(project_a, "stages/SURVEY/start/"), {}).status_code == 404
    assert client.post(url(project_a, "checklist-items/999999999999/"),
                       {"done": True}).status_code == 404
    assert client.get(f"{BASE}99999999999999999999/").status_code == 404
    assert client.get(BASE, {"group_customer": "x"}).status_code == 400
    # An unknown boolean narrows nothing (django-filter reads it as "either").
    assert ids(client.get(BASE, {"is_overdue": "perhaps"})) == [project_a.pk]
    assert state_of(project_a) == before


def test_another_projects_equipment_line_is_refused_with_the_field_named(world, api_as,
                                                                          two_projects):
    project_a, project_b = two_projects
    walk(project_b, until=StageKind.CONSTRUCTION_PREPARATION, actor=world.manager_b)
    line_b = actions.add_equipment_line(actor=world.manager_b, project=project_b, name="POS",
                                        quantity=2)
    walk(project_a, until=StageKind.CONSTRUCTION_PREPARATION, actor=world.manager)
    before = state_of(project_a)
    response = api_as(world.manager).post(url(project_a, "procurement-orders/"), {
        "equipment_line": line_b.pk, "vendor": world.vendor.pk, "order_number": "X",
        "quantity": 1})
    assert response.status_code == 400
    assert "equipment_line" in response.json()
    assert state_of(project_a) == before
    assert not ProcurementOrder.objects.exists()
    assert EquipmentLine.objects.count() == 1
    assert ProjectEvent.objects.filter(project=project_b).exists()


def test_refusals_speak_chinese_by_default(world, api_as, project_a):
    body = refused(api_as(world.manager, language="zh-hans"),
                   url(project_a, "stages/construction/start/"), {}, project_a, status=409,
                   code="stage_skipped")
    assert "阶段须按顺序进行" in body["detail"] and "施工准备" in body["detail"]
