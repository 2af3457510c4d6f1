"""Read-side shaping for console pages: pagination, counts by status, the dashboard's cards.

Everything here only reads, and only through the gatekeepers' ``visible_to``.
"""

from django.core.paginator import Paginator
from django.db.models import Count
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from onecard.accounts.choices import OPERATOR_STAFF, Role
from onecard.organizations.choices import GroupCustomerStatus
from onecard.organizations.models import Department, GroupCustomer
from onecard.people.choices import MemberStatus
from onecard.people.models import Member

PAGE_SIZE = 50


def paginate(request, queryset, per_page=None):
    """One page of ``queryset``; a missing, bad or too-high page number gives a valid page."""
    return Paginator(queryset, per_page or PAGE_SIZE).get_page(request.GET.get("page"))


def is_htmx(request):
    """A partial-page request from htmx (not a boosted full page)."""
    return request.headers.get("HX-Request") == "true" and not request.headers.get("HX-Boosted")


def counts_by_status(queryset, choices):
    """``[(value, label, count)]`` for every state of ``choices``, zeros included."""
    found = dict(queryset.order_by().values_list("status").annotate(n=Count("pk")))
    return [(value, label, found.get(value, 0)) for value, label in choices.choices]


def _status_card(title, queryset, choices, list_url, total_label):
    rows = counts_by_status(queryset, choices)
    return {
        "title": title,
        "total": sum(count for _value, _label, count in rows),
        "total_label": total_label,
        "url": list_url,
        "rows": [{"label": label, "count": count, "url": f"{list_url}?status={value}"}
                 for value, label, count in rows],
    }


def dashboard(user):
    """What the dashboard shows ``user``: real counts for their role, nothing else."""
    context = {"cards": [], "own_member": None, "own_customer": None}
    if user.role in OPERATOR_STAFF or user.role == Role.INTEGRATOR_ENGINEER:
        customers = GroupCustomer.objects.visible_to(user)
        context["cards"].append(_status_card(
            _("Group customers"), customers, GroupCustomerStatus,
            reverse("console:group-customer-list"), _("group customers in all"),
        ))
    if user.role in OPERATOR_STAFF:
        context["cards"].append(_status_card(
            _("Members"), Member.objects.visible_to(user), MemberStatus,
            reverse("console:member-list"), _("members in all"),
        ))
    if user.role == Role.ENTERPRISE_ADMIN:
        context["own_customer"] = GroupCustomer.objects.visible_to(user).first()
        context["cards"].append(_status_card(
            _("Members"), Member.objects.visible_to(user), MemberStatus,
            reverse("console:member-list"), _("members in all"),
        ))
        context["department_count"] = Department.objects.visible_to(user).count()
    if user.role == Role.MEMBER:
        context["own_member"] = (
            Member.objects.visible_to(user).select_related("group_customer", "department").first()
        )
    return context
