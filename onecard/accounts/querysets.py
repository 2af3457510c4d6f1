"""Gatekeeper queryset for accounts (see ``onecard.core.gatekeepers``)."""

from django.db import models

from onecard.core.gatekeepers import is_active_user

from .choices import Role


class UserQuerySet(models.QuerySet):
    def visible_to(self, user):
        if not is_active_user(user):
            return self.none()
        if user.role == Role.OPERATOR_ADMIN:
            return self.all()
        if user.role == Role.ENTERPRISE_ADMIN:
            return self.filter(group_customer_id=user.group_customer_id)
        return self.filter(pk=user.pk)

    def changeable_by(self, user):
        if not is_active_user(user):
            return self.none()
        if user.role == Role.OPERATOR_ADMIN:
            return self.all()
        if user.role == Role.ENTERPRISE_ADMIN:
            return self.filter(group_customer_id=user.group_customer_id,
                               role__in=[Role.ENTERPRISE_ADMIN, Role.MEMBER])
        return self.none()
