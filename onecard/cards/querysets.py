"""Gatekeeper querysets for cards (see ``onecard.core.gatekeepers``).

Who sees which card:
- operator admins and service agents: every card (they answer the whole operator's calls);
- a customer manager: the cards of the group customers they may see, and the stock (no group
  customer yet) of their branch's subtree;
- an integrator engineer: the cards of the group customers they install for (card swap day);
- an enterprise admin: the cards of their own group customer;
- a member: only their own cards (the live one and the ones it replaced);
- a vendor engineer: none.

Who may change them: operator admins (all), customer managers (their customers' cards and their
subtree's stock), integrator engineers (their customers' cards, on site), enterprise admins
(their own customer's cards). A member changes nothing through these querysets; the one
self-service change (reporting their own card lost) is checked by the action itself.

Application, event, binding and calibration rows follow the card they belong to.
"""

from django.db import models
from django.db.models import Q

from onecard.accounts.choices import OPERATOR_WIDE_READ, Role
from onecard.core.gatekeepers import is_active_user


def _customers_visible_to(user):
    from onecard.organizations.models import GroupCustomer

    return GroupCustomer.objects.visible_to(user)


def customers_changeable_by(user):
    from onecard.organizations.models import GroupCustomer

    if user.role == Role.ENTERPRISE_ADMIN:
        return GroupCustomer.objects.filter(pk=user.group_customer_id)
    if user.role == Role.INTEGRATOR_ENGINEER:
        return GroupCustomer.objects.visible_to(user)
    return GroupCustomer.objects.changeable_by(user)


def _stock_of(user, prefix):
    """Cards not yet assigned to a customer, in the branch subtree of a customer manager."""
    branch = getattr(user, "branch", None)
    if branch is None:
        return Q(pk__in=[])
    return Q(**{f"{prefix}group_customer__isnull": True,
                f"{prefix}branch__path__startswith": branch.path})


def card_filter(user, *, prefix="", for_change=False):
    """The ``Q`` selecting the cards ``user`` may see (or change); ``prefix`` is the lookup path
    from the queried model to its card (``"card__"`` for applications, events...).

    Returns ``None`` for "everything" and ``False`` for "nothing"."""
    if not is_active_user(user):
        return False
    role = user.role
    if for_change:
        if role == Role.OPERATOR_ADMIN:
            return None
        if role == Role.MEMBER or role not in {Role.CUSTOMER_MANAGER, Role.INTEGRATOR_ENGINEER,
                                               Role.ENTERPRISE_ADMIN}:
            return False
        customers = Q(**{f"{prefix}group_customer__in": customers_changeable_by(user)})
        if role == Role.CUSTOMER_MANAGER:
            return customers | _stock_of(user, prefix)
        return customers
    if role in OPERATOR_WIDE_READ:
        return None
    if role == Role.MEMBER:
        if not user.member_id:
            return False
        return Q(**{f"{prefix}member_id": user.member_id})
    if role == Role.VENDOR_ENGINEER:
        return False
    customers = Q(**{f"{prefix}group_customer__in": _customers_visible_to(user)})
    if role == Role.CUSTOMER_MANAGER:
        return customers | _stock_of(user, prefix)
    return customers


class _CardScopedQuerySet(models.QuerySet):
    """A queryset whose rows belong to a card; ``card_prefix`` is the lookup path to it."""

    card_prefix = "card__"

    def _scoped(self, user, *, for_change):
        condition = card_filter(user, prefix=self.card_prefix, for_change=for_change)
        if condition is None:
            return self.all()
        if condition is False:
            return self.none()
        return self.filter(condition)

    def visible_to(self, user):
        return self._scoped(user, for_change=False)

    def changeable_by(self, user):
        return self._scoped(user, for_change=True)


class CardQuerySet(_CardScopedQuerySet):
    card_prefix = ""

    def live(self):
        from .choices import LIVE_STATUSES

        return self.filter(status__in=LIVE_STATUSES)


class CardApplicationQuerySet(_CardScopedQuerySet):
    pass


class CardEventQuerySet(_CardScopedQuerySet):
    pass


class CarrierBindingQuerySet(_CardScopedQuerySet):
    pass


class CalibrationRecordQuerySet(_CardScopedQuerySet):
    pass


class CredentialChangeQuerySet(models.QuerySet):
    """Credential-list entries: for those who may see the group customer (not members)."""

    def visible_to(self, user):
        if not is_active_user(user) or user.role in {Role.MEMBER, Role.VENDOR_ENGINEER}:
            return self.none()
        return self.filter(group_customer__in=_customers_visible_to(user))

    def changeable_by(self, user):
        return self.none()
