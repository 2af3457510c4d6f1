"""Choice sets and lifecycle tables of the organizations app."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class BranchLevel(models.TextChoices):
    PROVINCE = "province", _("Province")  # 省公司
    CITY = "city", _("City")  # 市公司
    COUNTY = "county", _("County")  # 县/区公司


# A branch's parent must be exactly one level up; a province has no parent.
PARENT_LEVEL = {
    BranchLevel.PROVINCE: None,
    BranchLevel.CITY: BranchLevel.PROVINCE,
    BranchLevel.COUNTY: BranchLevel.CITY,
}


class GroupCustomerStatus(models.TextChoices):
    # Signed up, not yet checked: members may be prepared, no service is live.
    PENDING = "pending", _("Pending verification")
    # Business licence, contact and contract checked by a customer manager: service is live.
    VERIFIED = "verified", _("Verified")
    # Service paused (arrears, dispute): data kept, nothing new issued.
    SUSPENDED = "suspended", _("Suspended")
    # Contract ended: read-only history, no way back.
    CLOSED = "closed", _("Closed")


GROUP_CUSTOMER_TRANSITIONS = {
    GroupCustomerStatus.PENDING: {GroupCustomerStatus.VERIFIED, GroupCustomerStatus.CLOSED},
    GroupCustomerStatus.VERIFIED: {GroupCustomerStatus.SUSPENDED, GroupCustomerStatus.CLOSED},
    GroupCustomerStatus.SUSPENDED: {GroupCustomerStatus.VERIFIED, GroupCustomerStatus.CLOSED},
    GroupCustomerStatus.CLOSED: set(),
}


class CustomerKind(models.TextChoices):
    ENTERPRISE = "enterprise", _("Enterprise")  # 企业
    CAMPUS = "campus", _("Campus")  # 校园
    GOVERNMENT = "government", _("Government")  # 政府机关
    OTHER = "other", _("Other")  # 其他


class QualificationLevel(models.TextChoices):
    GRADE_1 = "grade_1", _("Grade 1")  # 一级
    GRADE_2 = "grade_2", _("Grade 2")  # 二级
    GRADE_3 = "grade_3", _("Grade 3")  # 三级
