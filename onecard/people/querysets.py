"""Gatekeeper querysets for members (see ``onecard.core.gatekeepers``)."""

from django.db import models

from onecard.accounts.choices import Role
from onecard.core.gatekeepers import is_active_user


class MemberQuerySet(models.QuerySet):
    def visible_to(self, user):
        if not is_active_user(user):
            return self.none()
        if user.role == Role.MEMBER:
            return self.filter(pk=user.member_id)
        from onecard.organizations.models import GroupCustomer

        return self.filter(group_customer__in=GroupCustomer.objects.visible_to(user))

    def changeable_by(self, user):
        if not is_active_user(user):
            return self.none()
        if user.role == Role.ENTERPRISE_ADMIN:
            return self.filter(group_customer_id=user.group_customer_id)
        from onecard.organizations.models import GroupCustomer

        return self.filter(group_customer__in=GroupCustomer.objects.changeable_by(user))
