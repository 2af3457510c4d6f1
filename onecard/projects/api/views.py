"""Projects API: implementation projects, their stages, checklists, attachments, equipment,
procurement, card swap progress and final acceptance. Each write validates its input and calls
ONE action of ``projects.actions``; projects are fetched only through the gatekeepers, and
everything below a project (stages, items, attachments) only through its project.
"""

from django.db.models import Prefetch
from django.http import FileResponse, HttpResponse
from django_filters import rest_framework as filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from onecard.core.api import GatekeptViewSetMixin, IdFilter
from onecard.core.errors import NotFound

from .. import actions
from ..choices import ProjectStatus, StageKind
from ..models import ChecklistItem, Project, ProjectStage, StageAttachment
from . import serializers as s

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
STAGE = r"stages/(?P<kind>[a-z_]{1,40})"
ID = r"(?P<item_id>[0-9]{1,18})"


class ProjectFilter(filters.FilterSet):
    status = filters.ChoiceFilter(choices=ProjectStatus.choices)
    current_stage = filters.ChoiceFilter(choices=StageKind.choices)
    group_customer = IdFilter(field_name="group_customer")
    integrator = IdFilter(field_name="integrator")
    branch = IdFilter(field_name="group_customer__branch")
    is_overdue = filters.BooleanFilter(method="filter_overdue",
                                       label="Final acceptance overdue")

    class Meta:
        model = Project
        fields = ["status", "current_stage", "group_customer", "integrator", "branch",
                  "is_overdue"]

    def filter_overdue(self, queryset, name, value):
        overdue = Project.objects.overdue().values("pk")
        return queryset.filter(pk__in=overdue) if value else queryset.exclude(pk__in=overdue)


class ProjectViewSet(GatekeptViewSetMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin,
                     viewsets.GenericViewSet):
    """Implementation projects (项目实施). No DELETE: a project ends completed or cancelled."""

    queryset = Project.objects.select_related("group_customer")
    serializer_class = s.ProjectSerializer
    input_serializers = {
        "create": s.ProjectCreateSerializer,
        "cancel": s.ProjectReasonSerializer,
        "assign_owner": s.StageOwnerSerializer,
        "start_stage": s.ProjectNoteSerializer,
        "sign_off_stage": s.ProjectNoteSerializer,
        "add_checklist_item": s.ChecklistItemCreateSerializer,
        "tick_checklist_item": s.ChecklistTickSerializer,
        "upload_attachment": s.StageAttachmentUploadSerializer,
        "add_equipment": s.EquipmentLineCreateSerializer,
        "add_procurement_order": s.ProcurementOrderCreateSerializer,
        "swap_progress": s.SwapProgressSerializer,
        "sign_final_acceptance": s.ProjectNoteSerializer,
    }
    filterset_class = ProjectFilter
    search_fields = ["name", "group_customer__name", "group_customer__code"]
    ordering_fields = ["created_at", "name", "current_stage", "final_acceptance_due_at"]
    ordering = ["-created_at", "-id"]

    def get_serializer_class(self):
        if self.action == "retrieve":
            return s.ProjectDetailSerializer
        return super().get_serializer_class()

    def get_queryset(self):
        queryset = super().get_queryset()
        if self.action == "retrieve":
            queryset = queryset.prefetch_related(
                Prefetch("stages", ProjectStage.objects.prefetch_related("checklist",
                                                                         "attachments")),
                "equipment", "procurement_orders",
            )
        return queryset

    def get_serializer_context(self):
        context = super().get_serializer_context()
        if getattr(self, "_project", None) is not None:
            context["project"] = self._project
        return context

    # --- helpers --------------------------------------------------------------------------------

    def _project_for_change(self):
        self._project = self.get_gated_object(for_change=True)
        return self._project

    def _stage(self, project, kind):
        if kind not in StageKind.values:
            raise NotFound(f"stage {kind}")
        stage = ProjectStage.objects.select_related("owner").get(project=project, kind=kind)
        stage.project = project
        return stage

    def _answer(self, serializer_class, obj, status_code=status.HTTP_200_OK):
        data = serializer_class(obj, context=self.get_serializer_context()).data
        return Response(data, status=status_code)

    # --- projects -------------------------------------------------------------------------------

    @extend_schema(responses={201: s.ProjectSerializer})
    def create(self, request):
        data = self.validated_input()
        project = actions.create_project(actor=request.user, **data)
        return self.answer(project, status.HTTP_201_CREATED)

    @extend_schema(responses={200: s.ProjectSerializer})
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        """in progress → cancelled, with a reason."""
        project = self._project_for_change()
        data = self.validated_input()
        project = actions.cancel_project(actor=request.user, project=project, **data)
        return self.answer(project)

    @extend_schema(responses={200: s.ProjectEventSerializer(many=True)})
    @action(detail=True, methods=["get"])
    def events(self, request, pk=None):
        """Every transition of the project and its stages, oldest first."""
        project = self.get_gated_object()
        events = project.events.select_related("stage").order_by("occurred_at", "id")
        page = self.paginate_queryset(events)
        data = s.ProjectEventSerializer(page, many=True).data
        return self.get_paginated_response(data)

    @extend_schema(responses={(200, XLSX): OpenApiResponse(OpenApiTypes.BINARY,
                                                           description="Project progress")})
    @action(detail=False, methods=["get"], url_path="export")
    def export(self, request):
        """Progress of the listed projects (filters apply) as an .xlsx workbook."""
        from ..reports import export_progress

        projects = self.filter_queryset(self.get_queryset())
        response = HttpResponse(export_progress(projects), content_type=XLSX)
        response["Content-Disposition"] = 'attachment; filename="project-progress.xlsx"'
        return response

    # --- stages ---------------------------------------------------------------------------------

    @extend_schema(responses={200: s.ProjectStageSerializer})
    @action(detail=True, methods=["post"], url_path=f"{STAGE}/owner")
    def assign_owner(self, request, pk=None, kind=None):
        """Make a customer manager or an integrator engineer the stage's owner."""
        project = self._project_for_change()
        stage = self._stage(project, kind)
        data = self.validated_input()
        stage = actions.assign_stage_owner(actor=request.user, stage=stage, **data)
        return self._answer(s.ProjectStageSerializer, stage)

    @extend_schema(responses={200: s.ProjectStageSerializer})
    @action(detail=True, methods=["post"], url_path=f"{STAGE}/start")
    def start_stage(self, request, pk=None, kind=None):
        """pending → in progress, once the stage before is signed off. Starting final
        acceptance requests it."""
        project = self._project_for_change()
        stage = self._stage(project, kind)
        data = self.validated_input()
        stage = actions.start_stage(actor=request.user, stage=stage, **data)
        return self._answer(s.ProjectStageSerializer, stage)

    @extend_schema(responses={200: s.ProjectStageSerializer})
    @action(detail=True, methods=["post"], url_path=f"{STAGE}/sign-off")
    def sign_off_stage(self, request, pk=None, kind=None):
        """in progress → signed off, by the owner, with the checklist done (final acceptance:
        and both parties' signatures)."""
        project = self._project_for_change()
        stage = self._stage(project, kind)
        data = self.validated_input()
        stage = actions.sign_off_stage(actor=request.user, stage=stage, **data)
        return self._answer(s.ProjectStageSerializer, stage)

    @extend_schema(responses={201: s.ChecklistItemSerializer})
    @action(detail=True, methods=["post"], url_path=f"{STAGE}/checklist")
    def add_checklist_item(self, request, pk=None, kind=None):
        project = self._project_for_change()
        stage = self._stage(project, kind)
        data = self.validated_input()
        item = actions.add_checklist_item(actor=request.user, stage=stage, **data)
        return self._answer(s.ChecklistItemSerializer, item, status.HTTP_201_CREATED)

    @extend_schema(responses={200: s.ChecklistItemSerializer})
    @action(detail=True, methods=["post"], url_path=f"checklist-items/{ID}")
    def tick_checklist_item(self, request, pk=None, item_id=None):
        """Tick (``done: true``) or untick a checklist item of a stage in progress."""
        project = self._project_for_change()
        item = ChecklistItem.objects.select_related("stage").filter(
            stage__project=project, pk=int(item_id)).first()
        if item is None:
            raise NotFound(f"ChecklistItem {item_id}")
        item.stage.project = project
        data = self.validated_input()
        item = actions.set_checklist_item(actor=request.user, item=item, **data)
        return self._answer(s.ChecklistItemSerializer, item)

    @extend_schema(request={"multipart/form-data": s.StageAttachmentUploadSerializer},
                   responses={201: s.StageAttachmentSerializer})
    @action(detail=True, methods=["post"], url_path=f"{STAGE}/attachments")
    def upload_attachment(self, request, pk=None, kind=None):
        project = self._project_for_change()
        stage = self._stage(project, kind)
        data = self.validated_input()
        attachment = actions.add_attachment(actor=request.user, stage=stage,
                                            uploaded_file=data["file"],
                                            description=data.get("description", ""))
        return self._answer(s.StageAttachmentSerializer, attachment, status.HTTP_201_CREATED)

    @extend_schema(responses={(200, "application/octet-stream"): OpenApiTypes.BINARY})
    @action(detail=True, methods=["get"], url_path=f"attachments/{ID}")
    def download_attachment(self, request, pk=None, item_id=None):
        """The attachment's file, to anyone who may read the project."""
        project = self.get_gated_object()
        attachment = StageAttachment.objects.filter(stage__project=project,
                                                    pk=int(item_id)).first()
        if attachment is None:
            raise NotFound(f"StageAttachment {item_id}")
        return attachment_response(attachment)

    # --- construction preparation, card swap, final acceptance ----------------------------------

    @extend_schema(responses={201: s.EquipmentLineSerializer})
    @action(detail=True, methods=["post"], url_path="equipment")
    def add_equipment(self, request, pk=None):
        project = self._project_for_change()
        data = self.validated_input()
        line = actions.add_equipment_line(actor=request.user, project=project, **data)
        return self._answer(s.EquipmentLineSerializer, line, status.HTTP_201_CREATED)

    @extend_schema(responses={201: s.ProcurementOrderSerializer})
    @action(detail=True, methods=["post"], url_path="procurement-orders")
    def add_procurement_order(self, request, pk=None):
        project = self._project_for_change()
        data = self.validated_input()
        order = actions.add_procurement_order(actor=request.user, project=project, **data)
        return self._answer(s.ProcurementOrderSerializer, order, status.HTTP_201_CREATED)

    @extend_schema(responses={200: s.ProjectSerializer})
    @action(detail=True, methods=["post"], url_path="swap-progress")
    def swap_progress(self, request, pk=None):
        """Members swapped so far (and optionally a corrected total)."""
        project = self._project_for_change()
        data = self.validated_input()
        project = actions.record_swap_progress(actor=request.user, project=project, **data)
        return self.answer(project)

    @extend_schema(responses={200: s.ProjectStageSerializer})
    @action(detail=True, methods=["post"], url_path="final-acceptance/sign")
    def sign_final_acceptance(self, request, pk=None):
        """Sign final acceptance for your side: operator staff for the operator, the customer's
        enterprise admin for the customer."""
        project = self._project_for_change()
        data = self.validated_input()
        stage = actions.sign_final_acceptance(actor=request.user, project=project, **data)
        return self._answer(s.ProjectStageSerializer, stage)


def attachment_response(attachment):
    """Hand out a stored attachment as a download, never rendered inline."""
    try:
        handle = attachment.file.open("rb")
    except (FileNotFoundError, ValueError):
        raise NotFound(f"StageAttachment file {attachment.pk}")
    return FileResponse(handle, as_attachment=True, filename=attachment.original_name,
                        content_type="application/octet-stream")
