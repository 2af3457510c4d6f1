"""Gatekeeper querysets for organizations (see ``onecard.core.gatekeepers``)."""

from django.db import models
from django.db.models import Q

from onecard.accounts.choices import OPERATOR_STAFF, OPERATOR_WIDE_READ, TENANT_ROLES, Role
from onecard.core.gatekeepers import is_active_user


def _branch_subtree(branch):
    return Q(branch__path__startswith=branch.path) if branch is not None else Q(pk__in=[])


class BranchQuerySet(models.QuerySet):
    def visible_to(self, user):
        if is_active_user(user) and user.role in OPERATOR_STAFF:
            return self.all()
        return self.none()

    def changeable_by(self, user):
        if is_active_user(user) and user.role == Role.OPERATOR_ADMIN:
            return self.all()
        return self.none()

    def subtree_of(self, branch):
        return self.filter(path__startswith=branch.path)


class GroupCustomerQuerySet(models.QuerySet):
    def visible_to(self, user):
        if not is_active_user(user):
            return self.none()
        if user.role in OPERATOR_WIDE_READ:
            return self.all()
        if user.role == Role.CUSTOMER_MANAGER:
            return self.filter(_branch_subtree(user.branch) | Q(customer_manager=user))
        if user.role == Role.INTEGRATOR_ENGINEER:
            return self.filter(branch__integrators=user.integrator_id).distinct()
        if user.role in TENANT_ROLES:
            return self.filter(pk=user.group_customer_id)
        return self.none()

    def changeable_by(self, user):
        if not is_active_user(user):
            return self.none()
        if user.role == Role.OPERATOR_ADMIN:
            return self.all()
        if user.role == Role.CUSTOMER_MANAGER:
            return self.visible_to(user)
        return self.none()


class DepartmentQuerySet(models.QuerySet):
    def visible_to(self, user):
        if not is_active_user(user):
            return self.none()
        if user.role == Role.MEMBER:
            return self.filter(members__pk=user.member_id)
        from .models import GroupCustomer

        return self.filter(group_customer__in=GroupCustomer.objects.visible_to(user))

    def changeable_by(self, user):
        if not is_active_user(user):
            return self.none()
        if user.role == Role.ENTERPRISE_ADMIN:
            return self.filter(group_customer_id=user.group_customer_id)
        from .models import GroupCustomer

        return self.filter(group_customer__in=GroupCustomer.objects.changeable_by(user))


class PartnerQuerySet(models.QuerySet):
    """Integrators and vendors: operator staff read all; their own engineers read their own."""

    def visible_to(self, user):
        if not is_active_user(user):
            return self.none()
        if user.role in OPERATOR_STAFF:
            return self.all()
        if user.role == Role.INTEGRATOR_ENGINEER and self.model.__name__ == "Integrator":
            return self.filter(pk=user.integrator_id)
        if user.role == Role.VENDOR_ENGINEER and self.model.__name__ == "TerminalVendor":
            return self.filter(pk=user.vendor_id)
        return self.none()

    def changeable_by(self, user):
        if is_active_user(user) and user.role == Role.OPERATOR_ADMIN:
            return self.all()
        return self.none()
