"""Organizations: the operator, its branches, group customers and their departments, integrators
and terminal vendors.

Tenancy runs operator → branch → group customer → department → member. Everything an enterprise
admin sees hangs off exactly one ``GroupCustomer``.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from . import choices
from .querysets import BranchQuerySet, DepartmentQuerySet, GroupCustomerQuerySet, PartnerQuerySet


class Operator(models.Model):
    """The service provider that runs the platform (运营商). Normally exactly one row."""

    name = models.CharField(_("name"), max_length=200, unique=True)
    code = models.SlugField(_("code"), max_length=50, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self):
        return self.name


class Branch(models.Model):
    """A province, city or county company of the operator (分公司).

    Invariants: a branch's parent is one level up (province has none); ``path`` is the chain of
    ancestor ids ("/1/4/9/") so a subtree is one prefix query; codes are unique per operator.
    """

    operator = models.ForeignKey(Operator, on_delete=models.PROTECT, related_name="branches")
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    level = models.CharField(_("level"), max_length=16, choices=choices.BranchLevel.choices)
    name = models.CharField(_("name"), max_length=200)
    code = models.CharField(_("code"), max_length=50)
    path = models.CharField(max_length=255, editable=False, default="", db_index=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = BranchQuerySet.as_manager()

    class Meta:
        ordering = ["path"]
        verbose_name_plural = "branches"
        constraints = [
            models.UniqueConstraint(
                fields=["operator", "code"], name="branch_unique_code",
                violation_error_message=_("A branch with this code already exists."),
            ),
        ]

    def __str__(self):
        return self.name


class GroupCustomer(models.Model):
    """An enterprise, campus or agency that buys the service (集团客户): the unit of tenancy.

    Invariants: status changes only through the actions in ``actions.py`` following
    ``GROUP_CUSTOMER_TRANSITIONS``; a verified customer has a business licence number, a contact
    and a contract number, and records the customer manager who verified it.
    """

    branch = models.ForeignKey(Branch, on_delete=models.PROTECT, related_name="group_customers")
    name = models.CharField(_("name"), max_length=200)
    code = models.CharField(_("customer code"), max_length=50, unique=True)
    kind = models.CharField(
        _("kind"), max_length=16, choices=choices.CustomerKind.choices,
        default=choices.CustomerKind.ENTERPRISE,
    )
    status = models.CharField(
        _("status"), max_length=16, choices=choices.GroupCustomerStatus.choices,
        default=choices.GroupCustomerStatus.PENDING,
    )
    customer_manager = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
        related_name="managed_group_customers", verbose_name=_("customer manager"),
    )
    business_licence_number = models.CharField(_("business licence number"), max_length=32,
                                               blank=True, default="")
    contact_name = models.CharField(_("contact name"), max_length=100, blank=True, default="")
    contact_phone = models.CharField(_("contact phone"), max_length=20, blank=True, default="")
    contract_number = models.CharField(_("contract number"), max_length=64, blank=True, default="")
    address = models.CharField(_("address"), max_length=255, blank=True, default="")
    verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
        related_name="+", verbose_name=_("verified by"),
    )
    verified_at = models.DateTimeField(_("verified at"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = GroupCustomerQuerySet.as_manager()

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(status="verified")
                | (~Q(business_licence_number="") & ~Q(contract_number="") & ~Q(contact_name="")
                   & Q(verified_by__isnull=False)),
                name="group_customer_verified_has_papers",
                violation_error_message=_(
                    "A verified customer needs a licence number, contact, contract and verifier."
                ),
            ),
        ]

    def __str__(self):
        return self.name

    @property
    def is_live(self):
        return self.status == choices.GroupCustomerStatus.VERIFIED


class GroupCustomerEvent(models.Model):
    """One status transition of a group customer, with who, when and why. Append-only."""

    group_customer = models.ForeignKey(GroupCustomer, on_delete=models.PROTECT,
                                       related_name="events")
    from_status = models.CharField(max_length=16, choices=choices.GroupCustomerStatus.choices)
    to_status = models.CharField(max_length=16, choices=choices.GroupCustomerStatus.choices)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT,
                              related_name="+")
    reason = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self):
        return f"{self.group_customer_id}: {self.from_status} → {self.to_status}"


class Department(models.Model):
    """A department of one group customer (部门), in a tree.

    Invariants: the parent belongs to the same group customer; no cycles; sibling names are
    unique; ``path`` lists ancestor ids ("/3/8/") for subtree queries.
    """

    group_customer = models.ForeignKey(GroupCustomer, on_delete=models.PROTECT,
                                       related_name="departments")
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT,
                               related_name="children", verbose_name=_("parent department"))
    name = models.CharField(_("name"), max_length=100)
    code = models.CharField(_("code"), max_length=50, blank=True, default="")
    path = models.CharField(max_length=255, editable=False, default="", db_index=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = DepartmentQuerySet.as_manager()

    class Meta:
        ordering = ["group_customer_id", "path"]
        constraints = [
            models.UniqueConstraint(
                fields=["group_customer", "parent", "name"], name="department_unique_sibling_name",
                violation_error_message=_("A department with this name already exists here."),
            ),
            models.UniqueConstraint(
                fields=["group_customer", "name"], condition=Q(parent__isnull=True),
                name="department_unique_root_name",
                violation_error_message=_("A top-level department with this name already exists."),
            ),
        ]

    def __str__(self):
        return self.name

    @property
    def depth(self):
        return max(self.path.count("/") - 2, 0)


class Integrator(models.Model):
    """A construction and integration company (施工集成商) that installs and maintains terminals.

    Serves one or more counties (1–2 integrators per county); qualification recorded.
    """

    operator = models.ForeignKey(Operator, on_delete=models.PROTECT, related_name="integrators")
    name = models.CharField(_("name"), max_length=200, unique=True)
    qualification = models.CharField(_("qualification"), max_length=200, blank=True, default="")
    qualification_level = models.CharField(
        _("qualification level"), max_length=16, choices=choices.QualificationLevel.choices,
        blank=True, default="",
    )
    counties = models.ManyToManyField(
        Branch, related_name="integrators", blank=True, verbose_name=_("counties served"),
        limit_choices_to={"level": choices.BranchLevel.COUNTY},
    )
    contact_name = models.CharField(_("contact name"), max_length=100, blank=True, default="")
    contact_phone = models.CharField(_("contact phone"), max_length=20, blank=True, default="")
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = PartnerQuerySet.as_manager()

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class TerminalVendor(models.Model):
    """A maker of terminals (产品厂商): door controllers, clocks, POS. Answers terminal faults."""

    operator = models.ForeignKey(Operator, on_delete=models.PROTECT, related_name="vendors")
    name = models.CharField(_("name"), max_length=200, unique=True)
    product_lines = models.CharField(_("product lines"), max_length=255, blank=True, default="")
    contact_name = models.CharField(_("contact name"), max_length=100, blank=True, default="")
    contact_phone = models.CharField(_("contact phone"), max_length=20, blank=True, default="")
    support_email = models.EmailField(_("support e-mail"), blank=True, default="")
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = PartnerQuerySet.as_manager()

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name
