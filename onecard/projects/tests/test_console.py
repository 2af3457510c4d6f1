"""Project pages through the test client: pages render for allowed roles and answer 404 for
others (GET and POST alike, nothing changed); a walk through the forms; refusals on the form."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from onecard.accounts.actions import set_language
from onecard.projects import actions
from onecard.projects.choices import StageKind
from onecard.projects.models import Project, StageAttachment

from .helpers import stage, state_of, tick_all, walk


@pytest.fixture
def as_user(client):
    def login(user, language="en"):
        set_language(actor=user, language=language)
        client.force_login(user)
        return client

    return login


@pytest.fixture
def project_b(world):
    return actions.create_project(actor=world.manager_b, group_customer=world.customer_b,
                                  name="Customer B one-card")


READERS = ["admin", "manager", "integrator_engineer", "ent_admin_a"]
OUTSIDERS = ["manager_b", "ent_admin_b", "agent1", "vendor_engineer", "member_user_a"]


@pytest.mark.parametrize("who", READERS)
def test_readers_see_list_detail_and_export(world, as_user, project_a, who):
    client = as_user(getattr(world, who))
    page = client.get(reverse("console:project-list"))
    assert page.status_code == 200
    assert [p.pk for p in page.context["page"]] == [project_a.pk]
    page = client.get(reverse("console:project-detail", args=[project_a.pk]))
    assert page.status_code == 200
    assert "Survey and solution" in page.content.decode()
    export = client.get(reverse("console:project-export"))
    assert export.status_code == 200
    import openpyxl

    rows = list(openpyxl.load_workbook(io.BytesIO(export.content)).active.iter_rows(
        values_only=True))
    assert [row[0] for row in rows[1:]] == ["GC-a"]


@pytest.mark.parametrize("who", OUTSIDERS)
def test_outsiders_get_404_for_project_pages(world, as_user, project_a, who):
    client = as_user(getattr(world, who))
    before = state_of(project_a)
    assert client.get(reverse("console:project-detail", args=[project_a.pk])).status_code == 404
    for name in ("project-start", "project-sign-off", "project-attach", "project-owner"):
        path = reverse(f"console:{name}", args=[project_a.pk, "survey"])
        assert client.get(path).status_code == 404
        assert client.post(path, {"note": "x"}).status_code == 404
    for name in ("project-swap", "project-cancel", "project-final-sign"):
        path = reverse(f"console:{name}", args=[project_a.pk])
        assert client.post(path, {"reason": "x", "swapped": 1}).status_code == 404
    item = stage(project_a, "survey").checklist.first()
    tick = reverse("console:project-checklist-tick", args=[project_a.pk, item.pk])
    assert client.post(tick, {"done": "1"}).status_code == 404
    assert state_of(project_a) == before
    listed = client.get(reverse("console:project-list"))
    assert listed.status_code == 404 or list(listed.context["page"]) == []


def test_dashboard_for_operator_staff_only(world, as_user, project_a, project_b):
    page = as_user(world.admin).get(reverse("console:project-dashboard"))
    assert page.status_code == 200
    by_stage = {kind: count for kind, _label, count in page.context["by_stage"]}
    assert by_stage["survey"] == 2
    page = as_user(world.admin).get(reverse("console:project-dashboard"),
                                    {"branch": world.county_a.pk})
    assert {kind: n for kind, _l, n in page.context["by_stage"]}["survey"] == 1
    page = as_user(world.manager).get(reverse("console:project-dashboard"))
    assert page.context["in_progress_count"] == 1
    for who in ("ent_admin_a", "integrator_engineer", "agent1"):
        assert as_user(getattr(world, who)).get(
            reverse("console:project-dashboard")).status_code == 404


def test_dashboard_shows_overdue_and_swap_progress(world, as_user, project_a, project_b):
    from datetime import timedelta

    from django.utils import timezone

    long_ago = timezone.now() - timedelta(days=90)
    walk(project_a, until=StageKind.INITIAL_ACCEPTANCE, actor=world.manager, at=long_ago)
    tick_all(project_a, "initial_acceptance", world.manager, at=long_ago)
    actions.sign_off_stage(actor=world.manager, stage=stage(project_a, "initial_acceptance"),
                           at=long_ago)
    walk(project_b, until=StageKind.CARD_SWAP, actor=world.manager_b)
    actions.record_swap_progress(actor=world.manager_b, project=project_b, swapped=2)
    page = as_user(world.admin).get(reverse("console:project-dashboard"))
    assert [p.pk for p in page.context["overdue"]] == [project_a.pk]
    assert [p.pk for p in page.context["swapping"]] == [project_b.pk]
    html = page.content.decode()
    assert "2/3" in html
    listed = as_user(world.admin).get(reverse("console:project-list"), {"overdue": "on"})
    assert [p.pk for p in listed.context["page"]] == [project_a.pk]


def test_walk_through_the_forms(world, as_user):
    client = as_user(world.manager)
    response = client.post(reverse("console:project-create"), {
        "group_customer": world.customer_a.pk, "name": "Console project",
        "integrator": world.integrator.pk})
    assert response.status_code == 302
    project = Project.objects.get(name="Console project")
    detail = reverse("console:project-detail", args=[project.pk])
    assert response["Location"] == detail

    # Skipping a stage is refused on the form, naming the rule; nothing changes.
    before = state_of(project)
    response = client.post(reverse("console:project-start",
                                   args=[project.pk, "business_acceptance"]), {})
    assert response.status_code == 409
    assert "must be signed off before" in response.content.decode()
    assert state_of(project) == before

    assert client.post(reverse("console:project-start", args=[project.pk, "survey"]),
                       {"note": "On site Monday"}).status_code == 302
    # Signing off with the checklist open is refused.
    before = state_of(project)
    response = client.post(reverse("console:project-sign-off", args=[project.pk, "survey"]), {})
    assert response.status_code == 409
    assert "checklist is not done" in response.content.decode()
    assert state_of(project) == before

    for item in stage(project, "survey").checklist.all():
        response = client.post(reverse("console:project-checklist-tick",
                                       args=[project.pk, item.pk]), {"done": "1"})
        assert response.status_code == 302
    upload = SimpleUploadedFile("plan.pdf", b"%PDF plan", "application/pdf")
    response = client.post(reverse("console:project-attach", args=[project.pk, "survey"]),
                           {"file": upload, "description": "Solution"})
    assert response.status_code == 302
    attachment = StageAttachment.objects.get(stage__project=project)
    download = client.get(reverse("console:project-attachment",
                                  args=[project.pk, attachment.pk]))
    assert b"".join(download.streaming_content) == b"%PDF plan"
    assert client.post(reverse("console:project-sign-off", args=[project.pk, "survey"]),
                       {"note": "Agreed"}).status_code == 302
    assert stage(project, "survey").status == "signed_off"

    page = client.get(detail)
    assert page.status_code == 200
    stages = {s.kind: s for s in page.context["stages"]}
    assert stages["business_acceptance"].may_start is True
    assert stages["construction"].may_start is False


def test_attachment_too_large_is_refused_on_the_form(world, as_user, project_a, settings):
    settings.ONECARD_PROJECT_ATTACHMENT_MAX_BYTES = 5
    client = as_user(world.manager)
    before = state_of(project_a)
    response = client.post(reverse("console:project-attach", args=[project_a.pk, "survey"]),
                           {"file": SimpleUploadedFile("big.bin", b"123456")})
    assert response.status_code == 413
    assert "at most 5 bytes" in response.content.decode()
    assert state_of(project_a) == before


def test_only_the_owner_sees_and_uses_sign_off(world, as_user, project_a):
    actions.start_stage(actor=world.manager, stage=stage(project_a, "survey"))
    tick_all(project_a, "survey", world.manager)
    client = as_user(world.admin)
    page = client.get(reverse("console:project-detail", args=[project_a.pk]))
    assert page.context["stages"][0].may_sign_off is False
    before = state_of(project_a)
    response = client.post(reverse("console:project-sign-off", args=[project_a.pk, "survey"]),
                           {})
    assert response.status_code == 403
    assert "Only the stage owner" in response.content.decode()
    assert state_of(project_a) == before


def test_final_acceptance_signatures_through_the_console(world, as_user, project_a):
    walk(project_a, until=StageKind.FINAL_ACCEPTANCE, actor=world.manager)
    tick_all(project_a, "final_acceptance", world.manager)
    admin_a = as_user(world.ent_admin_a)
    page = admin_a.get(reverse("console:project-detail", args=[project_a.pk]))
    assert page.context["may_sign_final"] is True
    assert admin_a.post(reverse("console:project-final-sign", args=[project_a.pk]),
                        {"note": "OK"}).status_code == 302
    manager = as_user(world.manager)
    assert manager.post(reverse("console:project-final-sign", args=[project_a.pk]),
                        {}).status_code == 302
    assert manager.post(reverse("console:project-sign-off",
                                args=[project_a.pk, "final_acceptance"]), {}).status_code == 302
    project_a.refresh_from_db()
    assert project_a.status == "completed"
    page = manager.get(reverse("console:project-detail", args=[project_a.pk]))
    assert page.status_code == 200
    assert page.context["may_manage"] is False


def test_hostile_ids_answer_404(world, as_user, project_a):
    client = as_user(world.admin)
    assert client.get("/projects/99999999999999999999999/").status_code == 404
    assert client.get(reverse("console:project-start",
                              args=[project_a.pk, "teleport"])).status_code == 404
    assert client.post(f"/projects/{project_a.pk}/checklist/99999999999999999999999/",
                       {"done": "1"}).status_code == 404
    assert client.get(f"/projects/{project_a.pk}/attachments/99999999999999999999999/"
                      ).status_code == 404
    assert client.get(reverse("console:project-list"), {"status": "nope", "page": "x"}
                      ).status_code == 200


def test_pages_render_in_chinese(world, as_user, project_a):
    client = as_user(world.manager, language="zh-hans")
    html = client.get(reverse("console:project-detail", args=[project_a.pk])).content.decode()
    assert "勘察与方案" in html
    assert "终验" in html
