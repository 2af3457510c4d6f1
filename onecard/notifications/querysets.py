"""Gatekeeper querysets for notifications (see ``onecard.core.gatekeepers``).

The outbox is read by the people who answer for a group customer: operator staff who may see
the customer and its enterprise admin. Members and engineers see none of it; nobody changes a
notification by hand (only ``deliver_pending`` does).
"""

from django.db import models

from onecard.accounts.choices import Role
from onecard.core.gatekeepers import is_active_user

READER_ROLES = {Role.OPERATOR_ADMIN, Role.CUSTOMER_MANAGER, Role.SERVICE_AGENT_T1,
                Role.SERVICE_AGENT_T2, Role.ENTERPRISE_ADMIN}


class NotificationQuerySet(models.QuerySet):
    def visible_to(self, user):
        if not is_active_user(user) or user.role not in READER_ROLES:
            return self.none()
        from onecard.organizations.models import GroupCustomer

        return self.filter(group_customer__in=GroupCustomer.objects.visible_to(user))

    def changeable_by(self, user):
        return self.none()

    def due(self, now):
        """Queued or retrying notifications whose (next) attempt time has come."""
        from django.db.models import Q

        from .choices import NotificationStatus

        return self.filter(
            status__in=[NotificationStatus.QUEUED, NotificationStatus.RETRYING]
        ).filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
