"""Read-only views of project progress: the branch dashboard's figures and the .xlsx export.

Everything here only reads, and only from querysets the caller has already scoped through the
gatekeepers (``Project.objects.visible_to``).
"""

import io
import unicodedata

from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from .choices import STAGE_ORDER, ProjectStatus, StageKind, StageStatus

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def with_progress(projects):
    """Annotate ``stages_signed_off`` and select what the tables show."""
    return projects.select_related("group_customer__branch", "integrator").annotate(
        stages_signed_off=Count("stages", filter=Q(stages__status=StageStatus.SIGNED_OFF)),
    )


def dashboard(projects):
    """Figures for the branch dashboard from already-scoped ``projects``: projects in progress
    by current stage, overdue final acceptances, and card swap progress."""
    in_progress = projects.filter(status=ProjectStatus.IN_PROGRESS)
    found = dict(in_progress.order_by().values_list("current_stage").annotate(n=Count("pk")))
    by_stage = [(kind, StageKind(kind).label, found.get(kind, 0)) for kind in STAGE_ORDER]
    overdue = with_progress(in_progress.overdue()).order_by("final_acceptance_due_at", "pk")
    swapping = with_progress(
        in_progress.filter(current_stage=StageKind.CARD_SWAP)
    ).order_by("group_customer__name", "pk")
    totals = {
        status: projects.filter(status=status).count() for status in ProjectStatus.values
    }
    return {
        "by_stage": by_stage,
        "overdue": list(overdue),
        "swapping": list(swapping),
        "totals": [(value, label, totals[value]) for value, label in ProjectStatus.choices],
        "in_progress_count": totals[ProjectStatus.IN_PROGRESS],
    }


def _text(value):
    text = "" if value is None else str(value)
    # openpyxl cannot store XML-illegal control characters; drop them rather than fail.
    return "".join(ch for ch in text if ch in "\t\n\r" or unicodedata.category(ch) != "Cc")


def _cell(sheet, value):
    from openpyxl.cell import WriteOnlyCell

    if isinstance(value, int) and not isinstance(value, bool):
        return WriteOnlyCell(sheet, value=value)
    text = _text(value)
    cell = WriteOnlyCell(sheet, value=text)
    cell.data_type = "s"
    if text.startswith(FORMULA_PREFIXES):
        cell.quotePrefix = True  # formula-looking text is stored as text, never run
    return cell


def _date(moment):
    return timezone.localtime(moment).strftime("%Y-%m-%d") if moment else ""


def export_progress(projects) -> bytes:
    """An .xlsx workbook with one row per project: customer, stage, swap progress, final
    acceptance dates and the overdue flag. Headers follow the active language."""
    import openpyxl

    headers = [
        _("Customer code"), _("Group customer"), _("Branch"), _("Project"), _("Status"),
        _("Current stage"), _("Stages signed off"), _("Members swapped"), _("Members to swap"),
        _("Swap progress (%)"), _("Integrator"), _("Final acceptance due"),
        _("Final acceptance requested"), _("Overdue"),
    ]
    workbook = openpyxl.Workbook(write_only=True)
    sheet = workbook.create_sheet(_("Project progress")[:31])
    sheet.append([_cell(sheet, header) for header in headers])
    for project in with_progress(projects).order_by("group_customer__code", "pk").iterator(
        chunk_size=500
    ):
        row = [
            project.group_customer.code, project.group_customer.name,
            project.group_customer.branch.name, project.name, project.get_status_display(),
            project.get_current_stage_display() if project.current_stage else "",
            f"{project.stages_signed_off}/{len(STAGE_ORDER)}", project.swap_done,
            project.swap_total, project.swap_percent,
            project.integrator.name if project.integrator else "",
            _date(project.final_acceptance_due_at), _date(project.final_acceptance_requested_at),
            _("yes") if project.is_overdue else _("no"),
        ]
        sheet.append([_cell(sheet, value) for value in row])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
