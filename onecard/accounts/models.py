"""Accounts: the people who log in, their single role and the scope that role is bound to.

Invariants (checked by constraints): an enterprise admin and a member belong to exactly one group
customer, a member account is linked to its member record, an integrator engineer to an
integrator, a vendor engineer to a vendor; operator staff belong to no tenant.
"""

from django.contrib.auth.models import AbstractUser, UserManager
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from .choices import Role
from .querysets import UserQuerySet


class AccountManager(UserManager.from_queryset(UserQuerySet)):
    """Django's user manager with the gatekeeper queryset."""

    use_in_migrations = True


class User(AbstractUser):
    """A log-in with one role. Scope fields say which slice of the platform the role covers."""

    role = models.CharField(_("role"), max_length=32, choices=Role.choices)
    display_name = models.CharField(_("display name"), max_length=100, blank=True, default="")
    phone = models.CharField(_("phone number"), max_length=20, blank=True, default="")
    language = models.CharField(
        _("language"), max_length=10, default="zh-hans",
        choices=[("zh-hans", "简体中文"), ("en", "English")],
    )
    branch = models.ForeignKey(
        "organizations.Branch", null=True, blank=True, on_delete=models.PROTECT,
        related_name="staff", verbose_name=_("branch"),
    )
    group_customer = models.ForeignKey(
        "organizations.GroupCustomer", null=True, blank=True, on_delete=models.PROTECT,
        related_name="accounts", verbose_name=_("group customer"),
    )
    member = models.OneToOneField(
        "people.Member", null=True, blank=True, on_delete=models.PROTECT,
        related_name="account", verbose_name=_("member"),
    )
    integrator = models.ForeignKey(
        "organizations.Integrator", null=True, blank=True, on_delete=models.PROTECT,
        related_name="engineers",
    )
    vendor = models.ForeignKey(
        "organizations.TerminalVendor", null=True, blank=True, on_delete=models.PROTECT,
        related_name="engineers",
    )

    objects = AccountManager()

    class Meta:
        ordering = ["username"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(role__in=[Role.ENTERPRISE_ADMIN, Role.MEMBER])
                | Q(group_customer__isnull=False),
                name="user_tenant_role_has_group_customer",
                violation_error_message=_("This role needs a group customer."),
            ),
            models.CheckConstraint(
                condition=Q(role__in=[Role.ENTERPRISE_ADMIN, Role.MEMBER])
                | Q(group_customer__isnull=True),
                name="user_staff_role_has_no_group_customer",
                violation_error_message=_(
                    "Only enterprise admins and members have a group customer."
                ),
            ),
            models.CheckConstraint(
                condition=~Q(role=Role.MEMBER) | Q(member__isnull=False),
                name="user_member_role_has_member",
                violation_error_message=_("A member account must be linked to a member."),
            ),
            models.CheckConstraint(
                condition=~Q(role=Role.INTEGRATOR_ENGINEER) | Q(integrator__isnull=False),
                name="user_integrator_role_has_integrator",
                violation_error_message=_("An integrator engineer needs an integrator."),
            ),
            models.CheckConstraint(
                condition=~Q(role=Role.VENDOR_ENGINEER) | Q(vendor__isnull=False),
                name="user_vendor_role_has_vendor",
                violation_error_message=_("A vendor engineer needs a vendor."),
            ),
        ]

    def __str__(self):
        return self.display_name or self.username

    def has_role(self, *roles):
        return self.is_authenticated and self.is_active and self.role in roles


class LoginFailure(models.Model):
    """Failed log-ins per normalised user name (known or not), for lockout.

    Invariant: once ``failures`` reaches the limit within the window, ``locked_until`` is set and
    every log-in for the name is refused until then, even with the right password.
    """

    username = models.CharField(max_length=150, unique=True)
    failures = models.PositiveIntegerField(default=0)
    first_failure_at = models.DateTimeField()
    locked_until = models.DateTimeField(null=True, blank=True)

    def __str__(self):
        return f"{self.username}: {self.failures}"
