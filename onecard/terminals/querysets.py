"""Gatekeeper querysets for terminals (see ``onecard.core.gatekeepers``).

Operator staff and integrator engineers see the terminals of the group customers they may see;
an enterprise admin sees and changes their own customer's; a vendor engineer sees the terminals
their vendor made; members see none. Changing (register, disable, rotate…) is for those who may
change the group customer, and its enterprise admin.
"""

from django.db import models

from onecard.accounts.choices import Role
from onecard.core.gatekeepers import is_active_user


def customers_visible_to(user):
    from onecard.organizations.models import GroupCustomer

    return GroupCustomer.objects.visible_to(user)


def customers_changeable_by(user):
    from onecard.organizations.models import GroupCustomer

    if not is_active_user(user):
        return GroupCustomer.objects.none()
    if user.role == Role.ENTERPRISE_ADMIN:
        return GroupCustomer.objects.filter(pk=user.group_customer_id)
    return GroupCustomer.objects.changeable_by(user)


class TerminalQuerySet(models.QuerySet):
    def visible_to(self, user):
        if not is_active_user(user) or user.role == Role.MEMBER:
            return self.none()
        if user.role == Role.VENDOR_ENGINEER:
            return self.filter(vendor_id=user.vendor_id) if user.vendor_id else self.none()
        return self.filter(group_customer__in=customers_visible_to(user))

    def changeable_by(self, user):
        if not is_active_user(user):
            return self.none()
        return self.filter(group_customer__in=customers_changeable_by(user))


class TerminalChildQuerySet(models.QuerySet):
    """Rows that belong to a terminal (alerts, punches, offline records): seen with it."""

    def visible_to(self, user):
        from .models import Terminal

        return self.filter(terminal__in=Terminal.objects.visible_to(user))

    def changeable_by(self, user):
        from .models import Terminal

        return self.filter(terminal__in=Terminal.objects.changeable_by(user))
