"""Read-side shaping for member pages. Only reads, through gatekeepers."""

from django.db.models import Q

from onecard.accounts.choices import Role
from onecard.organizations.models import Department, GroupCustomer
from onecard.people.models import Member


def visible_members(user):
    return Member.objects.visible_to(user).select_related("group_customer", "department")


def filter_customers(user):
    """Customers offered in the member list's customer filter."""
    return GroupCustomer.objects.visible_to(user).order_by("name", "id")


def filter_departments(user, group_customer=None):
    """Departments offered in the member list's department filter: the chosen (or own)
    customer's, so the list stays short and never leaks another tenant's names."""
    departments = Department.objects.visible_to(user).select_related("group_customer")
    if group_customer is not None:
        departments = departments.filter(group_customer=group_customer)
    elif user.role != Role.ENTERPRISE_ADMIN:
        departments = departments.none()
    return departments.order_by("path")


def filter_members(members, filters):
    """Narrow ``members`` by ``MemberFilterForm.filters()``."""
    if filters.get("group_customer"):
        members = members.filter(group_customer=filters["group_customer"])
    if filters.get("department"):
        department = filters["department"]
        # A department includes its sub-departments.
        members = members.filter(department__path__startswith=department.path)
    if filters.get("status"):
        members = members.filter(status=filters["status"])
    if filters.get("category"):
        members = members.filter(category=filters["category"])
    if filters.get("q"):
        text = filters["q"].strip()
        members = members.filter(Q(name__icontains=text) | Q(phone__contains=text)
                                 | Q(employee_number__icontains=text))
    return members.order_by("name", "id")
