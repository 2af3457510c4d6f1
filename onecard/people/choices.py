"""Choice sets and the member lifecycle table."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class MemberCategory(models.TextChoices):
    STAFF = "staff", _("Staff")  # 员工/教职工
    STUDENT = "student", _("Student")  # 学生
    CONTRACTOR = "contractor", _("Contractor")  # 外包/合同工
    VISITOR = "visitor", _("Visitor")  # 访客


class MemberStatus(models.TextChoices):
    # Works or studies here; may hold credentials.
    ACTIVE = "active", _("Active")
    # Temporarily not allowed (long leave, disciplinary): kept, credentials to be refused.
    SUSPENDED = "suspended", _("Suspended")
    # Has left the group customer: history kept, phone and staff number free for reuse.
    DEPARTED = "departed", _("Departed")


MEMBER_TRANSITIONS = {
    MemberStatus.ACTIVE: {MemberStatus.SUSPENDED, MemberStatus.DEPARTED},
    MemberStatus.SUSPENDED: {MemberStatus.ACTIVE, MemberStatus.DEPARTED},
    MemberStatus.DEPARTED: set(),
}
