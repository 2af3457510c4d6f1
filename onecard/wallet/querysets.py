"""Gatekeeper querysets for the ledger (see ``onecard.core.gatekeepers``).

Operator staff and enterprise admins see the ledger of the group customers they may see; a member
sees only their own purses and the transfers that touch them; engineers see no money at all.
Changing (counter top-up, refund, reversal, policy) is for those who may change the group
customer, and its enterprise admin.
"""

from django.db import models
from django.db.models import Q

from onecard.accounts.choices import Role
from onecard.core.gatekeepers import is_active_user


def _customers_visible_to(user):
    from onecard.organizations.models import GroupCustomer

    return GroupCustomer.objects.visible_to(user)


def _customers_changeable_by(user):
    from onecard.organizations.models import GroupCustomer

    if user.role == Role.ENTERPRISE_ADMIN:
        return GroupCustomer.objects.filter(pk=user.group_customer_id)
    return GroupCustomer.objects.changeable_by(user)


# Engineers install and repair terminals; they never see anyone's money.
NO_MONEY_ROLES = {Role.MEMBER, Role.INTEGRATOR_ENGINEER, Role.VENDOR_ENGINEER}


class _TenantQuerySet(models.QuerySet):
    def visible_to(self, user):
        if not is_active_user(user) or user.role in NO_MONEY_ROLES:
            return self.none()
        return self.filter(group_customer__in=_customers_visible_to(user))

    def changeable_by(self, user):
        if not is_active_user(user) or user.role in NO_MONEY_ROLES:
            return self.none()
        return self.filter(group_customer__in=_customers_changeable_by(user))


class MerchantQuerySet(_TenantQuerySet):
    pass


class SpendingPolicyQuerySet(_TenantQuerySet):
    pass


class AccountQuerySet(_TenantQuerySet):
    def visible_to(self, user):
        if is_active_user(user) and user.role == Role.MEMBER:
            return self.filter(member_id=user.member_id) if user.member_id else self.none()
        return super().visible_to(user)


class TransferQuerySet(_TenantQuerySet):
    def visible_to(self, user):
        if is_active_user(user) and user.role == Role.MEMBER:
            if not user.member_id:
                return self.none()
            return self.filter(Q(debit_account__member_id=user.member_id)
                               | Q(credit_account__member_id=user.member_id))
        return super().visible_to(user)

    def touching(self, account_ids):
        return self.filter(Q(debit_account_id__in=account_ids)
                           | Q(credit_account_id__in=account_ids))
