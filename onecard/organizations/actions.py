"""Actions on organizations. Every state change of this app goes through one of these.

Each action is atomic, takes ``actor=`` keyword-only, checks role rules, re-reads state under a
lock where it depends on it, and writes its audit record in the same transaction. Object access
(may this person touch this customer at all?) is the gatekeepers' job at the entry point.
"""

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from onecard.accounts.choices import Role
from onecard.audit.actions import write_audit
from onecard.core.errors import Conflict, InvalidInput, NotAllowed
from onecard.core.locks import lock_one
from onecard.core.transitions import require_transition
from onecard.core.validation import clean_or_refuse, snapshot

from .choices import GROUP_CUSTOMER_TRANSITIONS, PARENT_LEVEL, BranchLevel, GroupCustomerStatus
from .errors import DepartmentNotEmpty
from .models import (
    Branch,
    Department,
    GroupCustomer,
    GroupCustomerEvent,
    Integrator,
    Operator,
    TerminalVendor,
)

GROUP_CUSTOMER_EDITABLE = {
    "name", "kind", "branch", "customer_manager", "contact_name", "contact_phone", "address",
    "business_licence_number", "contract_number",
}
PARTNER_EDITABLE = {
    "name", "qualification", "qualification_level", "contact_name", "contact_phone", "is_active",
    "product_lines", "support_email",
}


def _require_role(actor, *roles):
    if actor is not None and getattr(actor, "role", None) not in roles:
        raise NotAllowed(_("Your role may not do this."))


def _save_new(obj, *, unique_message, field):
    clean_or_refuse(obj)
    try:
        with transaction.atomic():
            obj.save(force_insert=True)
    except IntegrityError:
        raise Conflict(unique_message, field=field, code="duplicate")
    return obj


# --- Operator and branches ------------------------------------------------------------------


@transaction.atomic
def create_operator(*, actor, name, code):
    operator = _save_new(Operator(name=name, code=code),
                         unique_message=_("This operator already exists."), field="code")
    write_audit(actor=actor, action="operator.created", obj=operator, after=snapshot(operator))
    return operator


@transaction.atomic
def create_branch(*, actor, operator, level, name, code, parent=None):
    """Create a branch one level below ``parent`` (a province has no parent)."""
    _require_role(actor, Role.OPERATOR_ADMIN)
    expected_parent_level = PARENT_LEVEL.get(level, "?")
    if level not in BranchLevel.values:
        raise InvalidInput({"level": [_("Unknown branch level.")]})
    if (parent is None) != (expected_parent_level is None) or (
        parent is not None and parent.level != expected_parent_level
    ):
        raise InvalidInput({"parent": [_("A %(level)s branch must sit under a %(parent)s.")
                                       % {"level": level, "parent": expected_parent_level}]})
    branch = Branch(operator=operator, parent=parent, level=level, name=name, code=code)
    _save_new(branch, unique_message=_("A branch with this code already exists."), field="code")
    branch.path = f"{parent.path if parent else '/'}{branch.pk}/"
    branch.save(update_fields=["path"])
    write_audit(actor=actor, action="branch.created", obj=branch, after=snapshot(branch))
    return branch


# --- Group customers --------------------------------------------------------------------------


@transaction.atomic
def create_group_customer(*, actor, branch, name, code, **details):
    """Sign up a group customer; it starts ``pending`` until a customer manager verifies it."""
    _require_role(actor, Role.OPERATOR_ADMIN, Role.CUSTOMER_MANAGER)
    unknown = set(details) - GROUP_CUSTOMER_EDITABLE
    if unknown:
        raise InvalidInput({name_: [_("Unknown field.")] for name_ in sorted(unknown)})
    if details.get("customer_manager") is None and getattr(actor, "role", None) == (
        Role.CUSTOMER_MANAGER
    ):
        details["customer_manager"] = actor
    _check_customer_manager(details.get("customer_manager"))
    customer = GroupCustomer(branch=branch, name=name, code=code, **details)
    _save_new(customer, unique_message=_("A customer with this code already exists."),
              field="code")
    write_audit(actor=actor, action="group_customer.created", obj=customer,
                group_customer_id=customer.pk, after=snapshot(customer))
    return customer


def _check_customer_manager(user):
    if user is not None and user.role != Role.CUSTOMER_MANAGER:
        raise InvalidInput({"customer_manager": [_("This account is not a customer manager.")]})


@transaction.atomic
def update_group_customer(*, actor, group_customer, **changes):
    """Change a customer's details (not its status: that has its own actions)."""
    _require_role(actor, Role.OPERATOR_ADMIN, Role.CUSTOMER_MANAGER)
    unknown = set(changes) - GROUP_CUSTOMER_EDITABLE
    if unknown:
        raise InvalidInput({name: [_("Unknown field.")] for name in sorted(unknown)})
    customer = lock_one(GroupCustomer.objects.all(), group_customer.pk)
    before = snapshot(customer)
    if "customer_manager" in changes:
        _check_customer_manager(changes["customer_manager"])
    for name, value in changes.items():
        setattr(customer, name, value)
    clean_or_refuse(customer)
    customer.save(update_fields=list(changes) or None)
    after = snapshot(customer)
    if after != before:
        write_audit(actor=actor, action="group_customer.updated", obj=customer,
                    group_customer_id=customer.pk, before=before, after=after)
    return customer


def _transition_group_customer(*, actor, group_customer, target, reason, audit_action,
                               **fields):
    customer = lock_one(GroupCustomer.objects.all(), group_customer.pk)
    require_transition(GROUP_CUSTOMER_TRANSITIONS, GroupCustomerStatus, customer.status, target)
    before = snapshot(customer)
    previous = customer.status
    customer.status = target
    for name, value in fields.items():
        setattr(customer, name, value)
    clean_or_refuse(customer)
    customer.save(update_fields=["status", *fields])
    GroupCustomerEvent.objects.create(group_customer=customer, from_status=previous,
                                      to_status=target, actor=actor, reason=reason or "")
    write_audit(actor=actor, action=audit_action, obj=customer, group_customer_id=customer.pk,
                before=before, after=snapshot(customer), reason=reason)
    return customer


@transaction.atomic
def verify_group_customer(*, actor, group_customer, business_licence_number, contact_name,
                          contact_phone, contract_number, reason=""):
    """pending → verified (or suspended → verified to resume): record the papers and the verifier.

    Only a customer manager or an operator admin verifies; the verifier is recorded.
    """
    _require_role(actor, Role.CUSTOMER_MANAGER, Role.OPERATOR_ADMIN)
    papers = {
        "business_licence_number": (business_licence_number or "").strip(),
        "contact_name": (contact_name or "").strip(),
        "contact_phone": (contact_phone or "").strip(),
        "contract_number": (contract_number or "").strip(),
    }
    missing = {name: [_("This field is required to verify.")]
               for name, value in papers.items() if not value}
    if missing:
        raise InvalidInput(missing, code="required")
    return _transition_group_customer(
        actor=actor, group_customer=group_customer, target=GroupCustomerStatus.VERIFIED,
        reason=reason, audit_action="group_customer.verified",
        verified_by=actor, verified_at=timezone.now(), **papers,
    )


@transaction.atomic
def suspend_group_customer(*, actor, group_customer, reason):
    _require_role(actor, Role.CUSTOMER_MANAGER, Role.OPERATOR_ADMIN)
    _require_reason(reason)
    return _transition_group_customer(
        actor=actor, group_customer=group_customer, target=GroupCustomerStatus.SUSPENDED,
        reason=reason, audit_action="group_customer.suspended",
    )


@transaction.atomic
def resume_group_customer(*, actor, group_customer, reason):
    """suspended → verified, keeping the papers recorded at verification."""
    _require_role(actor, Role.CUSTOMER_MANAGER, Role.OPERATOR_ADMIN)
    _require_reason(reason)
    current = lock_one(GroupCustomer.objects.all(), group_customer.pk)
    if current.status != GroupCustomerStatus.SUSPENDED:
        require_transition({}, GroupCustomerStatus, current.status, GroupCustomerStatus.VERIFIED)
    return _transition_group_customer(
        actor=actor, group_customer=current, target=GroupCustomerStatus.VERIFIED,
        reason=reason, audit_action="group_customer.resumed",
    )


@transaction.atomic
def close_group_customer(*, actor, group_customer, reason):
    _require_role(actor, Role.OPERATOR_ADMIN, Role.CUSTOMER_MANAGER)
    _require_reason(reason)
    return _transition_group_customer(
        actor=actor, group_customer=group_customer, target=GroupCustomerStatus.CLOSED,
        reason=reason, audit_action="group_customer.closed",
    )


def _require_reason(reason):
    if not (reason or "").strip():
        raise InvalidInput({"reason": [_("Give a reason.")]}, code="required")


# --- Departments ------------------------------------------------------------------------------


def _check_parent(group_customer, parent, department=None):
    if parent is None:
        return
    if parent.group_customer_id != group_customer.pk:
        raise InvalidInput({"parent": [_("The parent department belongs to another customer.")]})
    if department is not None and parent.path.startswith(department.path or "/-/"):
        raise InvalidInput({"parent": [_("A department cannot sit under itself.")]})


def _refresh_subtree_paths(department, old_path):
    for child in Department.objects.filter(path__startswith=old_path).exclude(pk=department.pk):
        child.path = department.path + child.path[len(old_path):]
        child.save(update_fields=["path"])


@transaction.atomic
def create_department(*, actor, group_customer, name, parent=None, code=""):
    _check_parent(group_customer, parent)
    department = Department(group_customer=group_customer, parent=parent,
                            name=(name or "").strip(), code=code or "")
    _save_new(department, unique_message=_("A department with this name already exists here."),
              field="name")
    department.path = f"{parent.path if parent else '/'}{department.pk}/"
    department.save(update_fields=["path"])
    write_audit(actor=actor, action="department.created", obj=department,
                group_customer_id=group_customer.pk, after=snapshot(department))
    return department


@transaction.atomic
def update_department(*, actor, department, name=None, code=None, parent=..., ):
    """Rename, recode or move a department within its customer (never under itself)."""
    current = lock_one(Department.objects.all(), department.pk)
    before = snapshot(current)
    if name is not None:
        current.name = name.strip()
    if code is not None:
        current.code = code
    old_path = current.path
    if parent is not ...:
        _check_parent(current.group_customer, parent, current)
        current.parent = parent
        current.path = f"{parent.path if parent else '/'}{current.pk}/"
    clean_or_refuse(current)
    try:
        with transaction.atomic():
            current.save()
    except IntegrityError:
        raise Conflict(_("A department with this name already exists here."), field="name",
                       code="duplicate")
    if current.path != old_path:
        _refresh_subtree_paths(current, old_path)
    after = snapshot(current)
    if after != before:
        write_audit(actor=actor, action="department.updated", obj=current,
                    group_customer_id=current.group_customer_id, before=before, after=after)
    return current


@transaction.atomic
def delete_department(*, actor, department):
    """Delete an empty department: no sub-departments and no members."""
    current = lock_one(Department.objects.all(), department.pk)
    if current.children.exists() or current.members.exists():
        raise DepartmentNotEmpty(_("Move its members and sub-departments first."))
    before = snapshot(current)
    pk, customer_id = current.pk, current.group_customer_id
    current.delete()
    write_audit(actor=actor, action="department.deleted", object_type="organizations.department",
                object_id=pk, group_customer_id=customer_id, before=before)


# --- Integrators and vendors -------------------------------------------------------------------


def _check_counties(counties):
    if any(branch.level != BranchLevel.COUNTY for branch in counties):
        raise InvalidInput({"counties": [_("Integrators serve county branches only.")]})


@transaction.atomic
def create_integrator(*, actor, operator, name, counties=(), **details):
    _require_role(actor, Role.OPERATOR_ADMIN)
    _check_counties(counties)
    integrator = _save_new(Integrator(operator=operator, name=name, **details),
                           unique_message=_("An integrator with this name exists."), field="name")
    integrator.counties.set(counties)
    write_audit(actor=actor, action="integrator.created", obj=integrator,
                after={**snapshot(integrator), "counties": sorted(c.pk for c in counties)})
    return integrator


@transaction.atomic
def update_integrator(*, actor, integrator, counties=None, **changes):
    _require_role(actor, Role.OPERATOR_ADMIN)
    return _update_partner(actor=actor, partner=integrator, counties=counties,
                           audit_action="integrator.updated", **changes)


@transaction.atomic
def create_vendor(*, actor, operator, name, **details):
    _require_role(actor, Role.OPERATOR_ADMIN)
    vendor = _save_new(TerminalVendor(operator=operator, name=name, **details),
                       unique_message=_("A vendor with this name exists."), field="name")
    write_audit(actor=actor, action="vendor.created", obj=vendor, after=snapshot(vendor))
    return vendor


@transaction.atomic
def update_vendor(*, actor, vendor, **changes):
    _require_role(actor, Role.OPERATOR_ADMIN)
    return _update_partner(actor=actor, partner=vendor, counties=None,
                           audit_action="vendor.updated", **changes)


def _update_partner(*, actor, partner, counties, audit_action, **changes):
    unknown = set(changes) - PARTNER_EDITABLE
    if unknown:
        raise InvalidInput({name: [_("Unknown field.")] for name in sorted(unknown)})
    current = lock_one(type(partner).objects.all(), partner.pk)
    before = snapshot(current)
    for name, value in changes.items():
        setattr(current, name, value)
    clean_or_refuse(current)
    try:
        with transaction.atomic():
            current.save()
    except IntegrityError:
        raise Conflict(_("This name is taken."), field="name", code="duplicate")
    after = snapshot(current)
    if counties is not None:
        _check_counties(counties)
        before["counties"] = sorted(current.counties.values_list("pk", flat=True))
        current.counties.set(counties)
        after["counties"] = sorted(c.pk for c in counties)
    write_audit(actor=actor, action=audit_action, obj=current, before=before, after=after)
    return current
