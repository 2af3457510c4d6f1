"""People: the members (集团客户成员) of a group customer, who will hold cards.

Invariants: among members who have not departed, a phone number and an employee/student number
are each unique within a group customer (constraints below); a member's department belongs to
the same group customer (checked by the actions); status changes only through actions following
``MEMBER_TRANSITIONS``.
"""

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from .choices import MemberCategory, MemberStatus
from .querysets import MemberQuerySet

# Mainland China mobile numbers (MSISDN without +86): 11 digits starting 13–19.
PHONE_PATTERN = r"^1[3-9][0-9]{9}$"
phone_validator = RegexValidator(PHONE_PATTERN, _("Enter an 11-digit mobile number."), "bad_phone")


class Member(models.Model):
    """A person of one group customer: employee, student, contractor or visitor."""

    group_customer = models.ForeignKey(
        "organizations.GroupCustomer", on_delete=models.PROTECT, related_name="members",
        verbose_name=_("group customer"),
    )
    department = models.ForeignKey(
        "organizations.Department", null=True, blank=True, on_delete=models.PROTECT,
        related_name="members", verbose_name=_("department"),
    )
    name = models.CharField(_("name"), max_length=100)
    phone = models.CharField(_("phone number"), max_length=11, validators=[phone_validator])
    employee_number = models.CharField(_("employee/student number"), max_length=32, blank=True,
                                       default="")
    category = models.CharField(_("category"), max_length=16, choices=MemberCategory.choices,
                                default=MemberCategory.STAFF)
    status = models.CharField(_("status"), max_length=16, choices=MemberStatus.choices,
                              default=MemberStatus.ACTIVE)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = MemberQuerySet.as_manager()

    class Meta:
        ordering = ["group_customer_id", "name", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["group_customer", "phone"], condition=~Q(status="departed"),
                name="member_unique_phone_per_customer",
                violation_error_message=_("Another member of this customer has this phone number."),
            ),
            models.UniqueConstraint(
                fields=["group_customer", "employee_number"],
                condition=~Q(employee_number="") & ~Q(status="departed"),
                name="member_unique_number_per_customer",
                violation_error_message=_(
                    "Another member of this customer has this employee/student number."
                ),
            ),
        ]
        indexes = [models.Index(fields=["group_customer", "status"])]

    def __str__(self):
        return f"{self.name} ({self.phone})"


class MemberEvent(models.Model):
    """One status transition of a member, with who, when and why. Append-only."""

    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="events")
    from_status = models.CharField(max_length=16, choices=MemberStatus.choices)
    to_status = models.CharField(max_length=16, choices=MemberStatus.choices)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT,
                              related_name="+")
    reason = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self):
        return f"{self.member_id}: {self.from_status} → {self.to_status}"
