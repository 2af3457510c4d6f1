"""Console pages of the audit log: read-only list and detail."""

import json

from django.core.serializers.json import DjangoJSONEncoder
from django.http import Http404
from django.shortcuts import render
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_GET

from onecard.accounts.choices import Role
from onecard.accounts.console.tables import is_htmx, paginate
from onecard.accounts.console.views import for_roles
from onecard.audit.models import AuditRecord

from . import tables
from .forms import AuditFilterForm

AUDIT_ROLES = (Role.OPERATOR_ADMIN, Role.ENTERPRISE_ADMIN)


@require_GET
@for_roles(*AUDIT_ROLES)
def audit_list(request):
    form = AuditFilterForm(request.GET)
    records = tables.filter_records(tables.audit_records_visible_to(request.user), form.filters())
    context = {"filter_form": form, "page": paginate(request, records)}
    template = "audit/_audit_table.html" if is_htmx(request) else "audit/audit_list.html"
    response = render(request, template, context)
    patch_vary_headers(response, ["HX-Request"])
    return response


@require_GET
@for_roles(*AUDIT_ROLES)
def audit_detail(request, pk):
    try:
        record = tables.audit_records_visible_to(request.user).get(pk=pk)
    except (ValueError, OverflowError, AuditRecord.DoesNotExist):
        raise Http404
    return render(request, "audit/audit_detail.html", {
        "record": record,
        "before": _pretty(record.before),
        "after": _pretty(record.after),
    })


def _pretty(value):
    if value is None:
        return ""
    return json.dumps(value, cls=DjangoJSONEncoder, ensure_ascii=False, indent=2, sort_keys=True)
