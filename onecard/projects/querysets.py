"""Gatekeeper querysets for implementation projects (see ``onecard.core.gatekeepers``).

Who sees a project:

* operator admin: every project;
* customer manager: projects of the group customers the group customer gatekeeper lets them see
  (their branch subtree and the customers they manage), reusing ``GroupCustomer.visible_to``;
* integrator engineer: projects that name their integrator, or where an engineer of their
  integrator owns a stage. Serving the county alone is not enough: a county has 1–2
  integrators and a project is built by one of them;
* enterprise admin: their own customer's projects (read, and the customer-side signature of
  final acceptance);
* everyone else (service agents, vendor engineers, members): nothing.
"""

from django.db import models
from django.db.models import Q
from django.utils import timezone

from onecard.accounts.choices import Role
from onecard.core.gatekeepers import is_active_user


class ProjectQuerySet(models.QuerySet):
    def visible_to(self, user):
        if not is_active_user(user):
            return self.none()
        if user.role == Role.OPERATOR_ADMIN:
            return self.all()
        if user.role == Role.CUSTOMER_MANAGER:
            from onecard.organizations.models import GroupCustomer

            return self.filter(group_customer__in=GroupCustomer.objects.visible_to(user))
        if user.role == Role.INTEGRATOR_ENGINEER:
            from .models import ProjectStage

            owned = ProjectStage.objects.filter(owner__integrator_id=user.integrator_id)
            return self.filter(Q(integrator_id=user.integrator_id)
                               | Q(pk__in=owned.values("project_id")))
        if user.role == Role.ENTERPRISE_ADMIN:
            return self.filter(group_customer_id=user.group_customer_id)
        return self.none()

    def changeable_by(self, user):
        """Projects ``user`` may act on at all. Which acts each role may do (owners sign their
        stages, an enterprise admin only signs the customer side) is the actions' rule."""
        if not is_active_user(user):
            return self.none()
        if user.role == Role.CUSTOMER_MANAGER:
            from onecard.organizations.models import GroupCustomer

            return self.filter(group_customer__in=GroupCustomer.objects.changeable_by(user))
        return self.visible_to(user)

    def overdue(self, now=None):
        """In progress, final acceptance due and not requested."""
        return self.filter(status="in_progress", final_acceptance_due_at__lt=now or timezone.now(),
                           final_acceptance_requested_at__isnull=True)
