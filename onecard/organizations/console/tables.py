"""Read-side shaping for group customer and department pages. Only reads, through gatekeepers."""

from django.db.models import Count, Q

from onecard.accounts.choices import Role
from onecard.organizations.models import Department, GroupCustomer
from onecard.people.choices import MemberStatus

NOT_DEPARTED = ~Q(members__status=MemberStatus.DEPARTED)


def group_customers(user, filters):
    """Customers ``user`` may see, narrowed by a valid ``GroupCustomerFilterForm``'s data."""
    customers = (
        GroupCustomer.objects.visible_to(user)
        .select_related("branch", "customer_manager")
        .annotate(member_count=Count("members", filter=NOT_DEPARTED, distinct=True))
    )
    if filters.get("status"):
        customers = customers.filter(status=filters["status"])
    if filters.get("q"):
        text = filters["q"].strip()
        customers = customers.filter(Q(name__icontains=text) | Q(code__icontains=text))
    return customers.order_by("name", "id")


def department_tree(departments):
    """Departments in tree order (parents before children, siblings by name), with ``depth``."""
    children = {}
    for department in departments:
        children.setdefault(department.parent_id, []).append(department)
    known = {department.pk for department in departments}
    # Roots are top-level departments, and any whose parent is not in the list.
    roots = [d for d in departments if d.parent_id is None or d.parent_id not in known]
    ordered = []

    def walk(nodes, depth):
        for node in sorted(nodes, key=lambda d: (d.name, d.pk)):
            node.tree_depth = depth
            ordered.append(node)
            walk(children.get(node.pk, []), depth + 1)

    walk(roots, 0)
    return ordered


def departments_of(user, group_customer):
    """The customer's departments ``user`` may see, each with its count of current members."""
    departments = (
        Department.objects.visible_to(user)
        .filter(group_customer=group_customer)
        .annotate(member_count=Count("members", filter=NOT_DEPARTED, distinct=True))
    )
    return department_tree(list(departments))


def may_change_structure(user, group_customer):
    """May ``user`` change this customer's departments and members?"""
    return customers_changeable_by(user).filter(pk=group_customer.pk).exists()


def customers_changeable_by(user):
    """Customers whose departments and members ``user`` may change: an enterprise admin their
    own, operator staff those the group customer gatekeeper lets them change."""
    if user.role == Role.ENTERPRISE_ADMIN:
        return GroupCustomer.objects.visible_to(user).filter(pk=user.group_customer_id)
    return GroupCustomer.objects.changeable_by(user)
