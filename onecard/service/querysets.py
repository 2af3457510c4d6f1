"""Gatekeeper querysets for tickets and work orders (see ``onecard.core.gatekeepers``).

Who sees which tickets:

* operator admin: all;
* customer manager: tickets of the group customers they see (their branch subtree and the
  customers they manage), both tiers;
* tier-1 agent: the tier-1 queue; tier-2 agent: the tier-2 queue. Agents are not bound to a
  branch (the 10086 hotline answers for the whole operator: ``accounts`` leaves their branch
  empty); an agent account that *has* a branch sees only that branch subtree's queue;
* integrator / vendor engineer: tickets with a work order dispatched to their company;
* enterprise admin: their customer's tickets; member: tickets raised for themselves.

Who changes them: the same people, except engineers, who work on work orders only. Role rules
(which tier an agent may work, who confirms) are the actions' job.
"""

from django.db import models
from django.db.models import BooleanField, Case, F, Q, When

from onecard.accounts.choices import Role
from onecard.core.gatekeepers import is_active_user


def _subtree(user):
    return Q(branch__path__startswith=user.branch.path) if user.branch_id else Q()


class TicketQuerySet(models.QuerySet):
    def visible_to(self, user):
        if not is_active_user(user):
            return self.none()
        role = user.role
        if role == Role.OPERATOR_ADMIN:
            return self.all()
        if role == Role.CUSTOMER_MANAGER:
            from onecard.organizations.models import GroupCustomer

            return self.filter(group_customer__in=GroupCustomer.objects.visible_to(user))
        if role == Role.SERVICE_AGENT_T1:
            return self.filter(Q(tier=1) & _subtree(user))
        if role == Role.SERVICE_AGENT_T2:
            return self.filter(Q(tier=2) & _subtree(user))
        if role == Role.INTEGRATOR_ENGINEER:
            from .models import WorkOrder

            return self.filter(pk__in=WorkOrder.objects.filter(
                integrator_id=user.integrator_id).values("ticket_id"))
        if role == Role.VENDOR_ENGINEER:
            from .models import WorkOrder

            return self.filter(pk__in=WorkOrder.objects.filter(
                vendor_id=user.vendor_id).values("ticket_id"))
        if role == Role.ENTERPRISE_ADMIN:
            return self.filter(group_customer_id=user.group_customer_id)
        if role == Role.MEMBER:
            return self.filter(group_customer_id=user.group_customer_id,
                               member_id=user.member_id)
        return self.none()

    def changeable_by(self, user):
        if not is_active_user(user) or user.role in (Role.INTEGRATOR_ENGINEER,
                                                     Role.VENDOR_ENGINEER):
            return self.none()
        return self.visible_to(user)

    def with_sla(self, now):
        """Annotate ``response_breached``, ``on_site_breached``, ``resolution_breached`` and
        ``sla_breached`` as of ``now`` (see ``Ticket.sla_breaches``, which mirrors this)."""
        from .choices import OPEN_STATUSES, TicketStatus

        def flag(condition):
            return Case(When(condition, then=True), default=False, output_field=BooleanField())

        is_open = Q(status__in=OPEN_STATUSES)
        response = Q(acknowledged_at__gt=F("response_due_at")) | Q(
            acknowledged_at__isnull=True, response_due_at__lt=now) & is_open
        on_site = Q(on_site_at__gt=F("on_site_due_at")) | Q(
            on_site_at__isnull=True, status=TicketStatus.DISPATCHED, on_site_due_at__lt=now)
        resolution = Q(resolved_at__gt=F("resolution_due_at")) | Q(
            resolution_due_at__lt=now) & is_open
        return self.annotate(
            response_breached=flag(response), on_site_breached=flag(on_site),
            resolution_breached=flag(resolution),
            sla_breached=flag(response | on_site | resolution),
        )


class WorkOrderQuerySet(models.QuerySet):
    """Engineers see and move the work orders of their company; everyone else reads the work
    orders of the tickets they see."""

    def visible_to(self, user):
        if not is_active_user(user):
            return self.none()
        if user.role == Role.OPERATOR_ADMIN:
            return self.all()
        if user.role == Role.INTEGRATOR_ENGINEER:
            return self.filter(integrator_id=user.integrator_id)
        if user.role == Role.VENDOR_ENGINEER:
            return self.filter(vendor_id=user.vendor_id)
        from .models import Ticket

        return self.filter(ticket__in=Ticket.objects.visible_to(user))

    def changeable_by(self, user):
        if not is_active_user(user):
            return self.none()
        if user.role == Role.INTEGRATOR_ENGINEER:
            return self.filter(integrator_id=user.integrator_id)
        if user.role == Role.VENDOR_ENGINEER:
            return self.filter(vendor_id=user.vendor_id)
        return self.none()
