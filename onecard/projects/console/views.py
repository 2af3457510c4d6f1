"""Console pages for implementation projects: list, detail, the branch dashboard, the .xlsx
export, and one form page per step (start, sign off, owner, checklist, attachments, equipment,
orders, swap progress, final acceptance, cancel).

Every project comes through a gatekeeper (404 when missing or out of reach); everything below a
project only through its project; every POST calls ONE action from ``onecard.projects.actions``
and shows its refusal on the form.
"""

from dataclasses import dataclass

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from onecard.accounts.choices import Role
from onecard.accounts.console.tables import paginate
from onecard.accounts.console.views import fetch_or_404, for_roles, form_status, run_action
from onecard.core.api import PK_MAX
from onecard.core.errors import DomainError, NotFound
from onecard.organizations.models import Branch
from onecard.projects import actions
from onecard.projects.api.views import XLSX, attachment_response
from onecard.projects.choices import StageKind
from onecard.projects.models import ChecklistItem, Project, StageAttachment
from onecard.projects.reports import dashboard, export_progress

from . import tables
from .forms import (
    AttachmentForm,
    ChecklistItemForm,
    EquipmentForm,
    NoteForm,
    OwnerForm,
    ProcurementOrderForm,
    ProjectCreateForm,
    ProjectFilterForm,
    ReasonForm,
    SwapProgressForm,
)

# Who may open project pages at all (others get 404); the gatekeepers then pick the rows.
READER_ROLES = (Role.OPERATOR_ADMIN, Role.CUSTOMER_MANAGER, Role.INTEGRATOR_ENGINEER,
                Role.ENTERPRISE_ADMIN)
MANAGER_ROLES = (Role.OPERATOR_ADMIN, Role.CUSTOMER_MANAGER)
WORKER_ROLES = (*MANAGER_ROLES, Role.INTEGRATOR_ENGINEER)
SIGNER_ROLES = (*MANAGER_ROLES, Role.ENTERPRISE_ADMIN)


def _project(request, pk, *, for_change=False):
    return fetch_or_404(Project.objects.select_related("group_customer__branch", "integrator"),
                        pk, request.user, for_change=for_change)


# --- List, detail, dashboard, export ------------------------------------------------------------


@require_GET
@for_roles(*READER_ROLES)
def project_list(request):
    form = ProjectFilterForm(request.GET)
    filters = form.cleaned_data if form.is_valid() else {}
    return render(request, "projects/project_list.html", {
        "filter_form": form,
        "page": paginate(request, tables.projects(request.user, filters)),
        "may_create": request.user.role in MANAGER_ROLES,
        "stage_count": tables.STAGE_COUNT,
        "export_query": request.GET.urlencode(),
    })


@require_GET
@for_roles(*READER_ROLES)
def project_detail(request, pk):
    user = request.user
    project = _project(request, pk)
    stages = tables.stages_of(user, project)
    final = stages[-1]
    return render(request, "projects/project_detail.html", {
        "project": project,
        "stages": stages,
        "final": final,
        "may_sign_final": tables.may_sign_final(user, project, final),
        "may_manage": (user.role in MANAGER_ROLES and not project.is_closed
                       and tables.may_change(user, project)),
        "preparation": next(s for s in stages if s.kind == StageKind.CONSTRUCTION_PREPARATION),
        "card_swap": next(s for s in stages if s.kind == StageKind.CARD_SWAP),
        "equipment": project.equipment.select_related("vendor").prefetch_related("orders"),
        "orders": project.procurement_orders.select_related("vendor", "equipment_line"),
        "events": project.events.select_related("actor", "stage").order_by("-occurred_at",
                                                                           "-id")[:50],
    })


def _dashboard_branch(request):
    """An operator admin may narrow the dashboard to a branch (?branch=id); others see their
    gatekeeper's scope (a customer manager: their branch and their customers)."""
    raw = request.GET.get("branch", "")
    if request.user.role != Role.OPERATOR_ADMIN or not (raw.isdigit() and len(raw) <= 18):
        return None
    return Branch.objects.visible_to(request.user).filter(pk=int(raw)).first()


@require_GET
@for_roles(*tables.DASHBOARD_ROLES)
def project_dashboard(request):
    branch = _dashboard_branch(request)
    figures = dashboard(tables.dashboard_projects(request.user, branch))
    return render(request, "projects/project_dashboard.html", {
        **figures,
        "branch": branch,
        "branches": (Branch.objects.visible_to(request.user)
                     if request.user.role == Role.OPERATOR_ADMIN else []),
        "stage_count": tables.STAGE_COUNT,
    })


@require_GET
@for_roles(*READER_ROLES)
def project_export(request):
    form = ProjectFilterForm(request.GET)
    filters = form.cleaned_data if form.is_valid() else {}
    content = export_progress(tables.projects(request.user, filters))
    response = HttpResponse(content, content_type=XLSX)
    response["Content-Disposition"] = 'attachment; filename="project-progress.xlsx"'
    return response


@require_GET
@for_roles(*READER_ROLES)
def attachment_download(request, pk, attachment_id):
    project = _project(request, pk)
    if attachment_id > PK_MAX:
        raise Http404
    attachment = StageAttachment.objects.filter(stage__project=project,
                                                pk=attachment_id).first()
    if attachment is None:
        raise Http404
    try:
        return attachment_response(attachment)
    except NotFound:
        raise Http404


@require_http_methods(["GET", "POST"])
@for_roles(*MANAGER_ROLES)
def project_create(request):
    form = ProjectCreateForm(request.POST if request.method == "POST" else None,
                             user=request.user)
    refused = None
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        project, refused = run_action(
            form, actions.create_project, actor=request.user,
            group_customer=data["group_customer"], name=data["name"],
            integrator=data["integrator"], swap_total=data["swap_total"],
        )
        if not refused:
            messages.success(request, _("The project “%(name)s” was opened.")
                             % {"name": project.name})
            return redirect("console:project-detail", pk=project.pk)
    return render(request, "projects/project_form.html", {
        "form": form, "project": None, "title": _("New implementation project"),
        "button": _("Open project"), "button_class": "primary",
    }, status=form_status(request, form, refused))


@require_POST
@for_roles(*WORKER_ROLES)
def checklist_tick(request, pk, item_id):
    """Tick or untick one item (a button on the detail page); refusals come back as a message."""
    project = _project(request, pk, for_change=True)
    if item_id > PK_MAX:
        raise Http404
    item = ChecklistItem.objects.select_related("stage").filter(stage__project=project,
                                                                pk=item_id).first()
    if item is None:
        raise Http404
    item.stage.project = project
    try:
        actions.set_checklist_item(actor=request.user, item=item,
                                   done=request.POST.get("done") == "1")
    except NotFound:
        raise Http404
    except DomainError as refusal:
        messages.error(request, refusal.message)
    return redirect(f"{reverse('console:project-detail', args=[project.pk])}#stage-"
                    f"{item.stage.kind}")


# --- One form page per step ---------------------------------------------------------------------


@dataclass(frozen=True)
class Step:
    """One step offered on the project page: a form, and the ONE action it calls."""

    name: str
    title: Promise
    button: Promise
    button_class: str
    form: type
    roles: tuple
    call: object  # call(actor, project, stage, cleaned_data) -> result
    per_stage: bool = True
    multipart: bool = False
    done: Promise = gettext_lazy("Done.")


def _form_for(step, request, project):
    data = request.POST if request.method == "POST" else None
    files = request.FILES if request.method == "POST" and step.multipart else None
    if step.form is ProcurementOrderForm:
        return step.form(data, files, project=project)
    return step.form(data, files)


def _step_view(step):
    @require_http_methods(["GET", "POST"])
    @for_roles(*step.roles)
    def view(request, pk, kind=None):
        project = _project(request, pk, for_change=True)
        stage = None
        if step.per_stage:
            stage = tables.stage_from(project, kind)
            if stage is None:
                raise Http404
            stage.project = project
        form = _form_for(step, request, project)
        refused = None
        if request.method == "POST" and form.is_valid():
            _result, refused = run_action(form, step.call, actor=request.user, project=project,
                                          stage=stage, data=form.cleaned_data)
            if not refused:
                messages.success(request, step.done)
                anchor = f"#stage-{stage.kind}" if stage else ""
                return redirect(f"{reverse('console:project-detail', args=[project.pk])}"
                                f"{anchor}")
        return render(request, "projects/project_form.html", {
            "form": form, "project": project, "stage": stage, "title": step.title,
            "button": step.button, "button_class": step.button_class,
            "multipart": step.multipart,
        }, status=form_status(request, form, refused))

    view.__name__ = f"project_{step.name.replace('-', '_')}"
    return view


STEPS = [
    Step("start", gettext_lazy("Start stage"), gettext_lazy("Start"), "primary", NoteForm,
         WORKER_ROLES,
         lambda actor, project, stage, data: actions.start_stage(actor=actor, stage=stage,
                                                                 note=data["note"]),
         done=gettext_lazy("The stage was started.")),
    Step("sign-off", gettext_lazy("Sign off stage"), gettext_lazy("Sign off"), "success",
         NoteForm, WORKER_ROLES,
         lambda actor, project, stage, data: actions.sign_off_stage(actor=actor, stage=stage,
                                                                    note=data["note"]),
         done=gettext_lazy("The stage was signed off.")),
    Step("owner", gettext_lazy("Assign stage owner"), gettext_lazy("Assign"), "primary",
         OwnerForm, MANAGER_ROLES,
         lambda actor, project, stage, data: actions.assign_stage_owner(
             actor=actor, stage=stage, owner=data["owner"]),
         done=gettext_lazy("The stage owner was assigned.")),
    Step("checklist", gettext_lazy("Add checklist item"), gettext_lazy("Add"), "primary",
         ChecklistItemForm, WORKER_ROLES,
         lambda actor, project, stage, data: actions.add_checklist_item(
             actor=actor, stage=stage, title=data["title"]),
         done=gettext_lazy("The checklist item was added.")),
    Step("attach", gettext_lazy("Upload attachment"), gettext_lazy("Upload"), "primary",
         AttachmentForm, WORKER_ROLES,
         lambda actor, project, stage, data: actions.add_attachment(
             actor=actor, stage=stage, uploaded_file=data["file"],
             description=data["description"]),
         multipart=True, done=gettext_lazy("The attachment was uploaded.")),
    Step("equipment", gettext_lazy("Add equipment"), gettext_lazy("Add"), "primary",
         EquipmentForm, WORKER_ROLES,
         lambda actor, project, stage, data: actions.add_equipment_line(
             actor=actor, project=project, **data),
         per_stage=False, done=gettext_lazy("The equipment line was added.")),
    Step("order", gettext_lazy("Add procurement order"), gettext_lazy("Add"), "primary",
         ProcurementOrderForm, WORKER_ROLES,
         lambda actor, project, stage, data: actions.add_procurement_order(
             actor=actor, project=project, **data),
         per_stage=False, done=gettext_lazy("The procurement order was added.")),
    Step("swap", gettext_lazy("Record card swap progress"), gettext_lazy("Save"), "primary",
         SwapProgressForm, WORKER_ROLES,
         lambda actor, project, stage, data: actions.record_swap_progress(
             actor=actor, project=project, swapped=data["swapped"], total=data["total"]),
         per_stage=False, done=gettext_lazy("The card swap progress was saved.")),
    Step("final-sign", gettext_lazy("Sign final acceptance"), gettext_lazy("Sign"), "success",
         NoteForm, SIGNER_ROLES,
         lambda actor, project, stage, data: actions.sign_final_acceptance(
             actor=actor, project=project, note=data["note"]),
         per_stage=False, done=gettext_lazy("Your signature was recorded.")),
    Step("cancel", gettext_lazy("Cancel project"), gettext_lazy("Cancel project"), "danger",
         ReasonForm, MANAGER_ROLES,
         lambda actor, project, stage, data: actions.cancel_project(
             actor=actor, project=project, reason=data["reason"]),
         per_stage=False, done=gettext_lazy("The project was cancelled.")),
]
STEP_VIEWS = {step.name: (step, _step_view(step)) for step in STEPS}
