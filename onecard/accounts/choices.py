"""Roles of people who log in (DESIGN.md §1)."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    OPERATOR_ADMIN = "operator_admin", _("Operator admin")  # 省/市公司管理员
    CUSTOMER_MANAGER = "customer_manager", _("Customer manager")  # 客户经理
    SERVICE_AGENT_T1 = "service_agent_t1", _("Service agent, tier 1")  # 一级客服
    SERVICE_AGENT_T2 = "service_agent_t2", _("Service agent, tier 2")  # 二级客服
    INTEGRATOR_ENGINEER = "integrator_engineer", _("Integrator engineer")  # 集成商工程师
    VENDOR_ENGINEER = "vendor_engineer", _("Vendor engineer")  # 厂商工程师
    ENTERPRISE_ADMIN = "enterprise_admin", _("Enterprise admin")  # 企业管理员
    MEMBER = "member", _("Member")  # 集团客户成员


# Roles that see every group customer (read), because they answer the whole operator's calls.
OPERATOR_WIDE_READ = {Role.OPERATOR_ADMIN, Role.SERVICE_AGENT_T1, Role.SERVICE_AGENT_T2}
# Roles that belong to one group customer.
TENANT_ROLES = {Role.ENTERPRISE_ADMIN, Role.MEMBER}
# Roles that belong to the operator's staff.
OPERATOR_STAFF = {
    Role.OPERATOR_ADMIN, Role.CUSTOMER_MANAGER, Role.SERVICE_AGENT_T1, Role.SERVICE_AGENT_T2,
}
