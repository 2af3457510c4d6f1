"""Group customer lifecycle and department tree, through the actions; refusals change nothing."""

import pytest

from onecard.audit.models import AuditRecord
from onecard.core.errors import InvalidInput, NotAllowed, TransitionRefused
from onecard.organizations import actions as org
from onecard.organizations.choices import GroupCustomerStatus
from onecard.organizations.errors import DepartmentNotEmpty
from onecard.organizations.models import Department, GroupCustomer, GroupCustomerEvent


def _state(customer):
    customer = GroupCustomer.objects.get(pk=customer.pk)
    return (customer.status, customer.verified_by_id, customer.contract_number,
            GroupCustomerEvent.objects.filter(group_customer=customer).count(),
            AuditRecord.objects.count())


@pytest.fixture
def pending(world):
    return org.create_group_customer(actor=world.manager, branch=world.county_a, name="New Co",
                                     code="GC-new")


def test_verification_records_papers_and_verifier(world, pending):
    assert pending.status == GroupCustomerStatus.PENDING
    assert pending.customer_manager == world.manager
    customer = org.verify_group_customer(
        actor=world.manager, group_customer=pending, business_licence_number="9150X",
        contact_name="王经理", contact_phone="13800001111", contract_number="HT-001",
    )
    customer.refresh_from_db()
    assert customer.status == GroupCustomerStatus.VERIFIED
    assert customer.verified_by == world.manager
    assert customer.verified_at is not None
    assert (customer.business_licence_number, customer.contract_number) == ("9150X", "HT-001")
    event = customer.events.get()
    assert (event.from_status, event.to_status, event.actor) == ("pending", "verified",
                                                                 world.manager)
    record = AuditRecord.objects.filter(action="group_customer.verified",
                                         object_id=str(customer.pk)).get()
    assert record.before["status"] == "pending" and record.after["status"] == "verified"
    assert record.group_customer_id == customer.pk


def test_verification_without_papers_is_refused_and_changes_nothing(world, pending):
    before = _state(pending)
    with pytest.raises(InvalidInput) as refused:
        org.verify_group_customer(actor=world.manager, group_customer=pending,
                                  business_licence_number="9150X", contact_name=" ",
                                  contact_phone="138", contract_number="")
    assert set(refused.value.errors) == {"contact_name", "contract_number"}
    assert _state(pending) == before


@pytest.mark.parametrize("who", ["agent1", "ent_admin_a", "integrator_engineer"])
def test_only_managers_and_admins_verify(world, pending, who):
    before = _state(pending)
    with pytest.raises(NotAllowed):
        org.verify_group_customer(actor=getattr(world, who), group_customer=pending,
                                  business_licence_number="1", contact_name="c",
                                  contact_phone="1", contract_number="1")
    assert _state(pending) == before


def test_suspend_resume_close(world):
    customer = world.customer_a
    org.suspend_group_customer(actor=world.manager, group_customer=customer, reason="arrears")
    assert GroupCustomer.objects.get(pk=customer.pk).status == "suspended"
    org.resume_group_customer(actor=world.manager, group_customer=customer, reason="paid")
    assert GroupCustomer.objects.get(pk=customer.pk).status == "verified"
    org.close_group_customer(actor=world.admin, group_customer=customer, reason="contract ended")
    statuses = list(customer.events.values_list("from_status", "to_status"))
    assert statuses == [("pending", "verified"), ("verified", "suspended"),
                        ("suspended", "verified"), ("verified", "closed")]


@pytest.mark.parametrize("action", ["suspend", "resume", "close"])
def test_closed_is_final(world, action):
    customer = org.close_group_customer(actor=world.admin, group_customer=world.customer_b,
                                        reason="ended")
    before = _state(customer)
    with pytest.raises(TransitionRefused):
        getattr(org, f"{action}_group_customer")(actor=world.admin, group_customer=customer,
                                                 reason="try")
    assert _state(customer) == before


def test_resume_needs_a_suspended_customer(world, pending):
    before = _state(pending)
    with pytest.raises(TransitionRefused):
        org.resume_group_customer(actor=world.manager, group_customer=pending, reason="x")
    assert _state(pending) == before


def test_suspend_needs_a_reason(world):
    before = _state(world.customer_a)
    with pytest.raises(InvalidInput) as refused:
        org.suspend_group_customer(actor=world.manager, group_customer=world.customer_a,
                                   reason="  ")
    assert "reason" in refused.value.errors
    assert _state(world.customer_a) == before


def test_department_tree_moves_keep_paths(world):
    root = world.head_a
    sub = world.sub_a
    leaf = org.create_department(actor=world.ent_admin_a, group_customer=world.customer_a,
                                 name="Backend", parent=sub)
    assert leaf.path == f"/{root.pk}/{sub.pk}/{leaf.pk}/"
    other_root = org.create_department(actor=world.ent_admin_a,
                                       group_customer=world.customer_a, name="Plant")
    org.update_department(actor=world.ent_admin_a, department=sub, parent=other_root)
    leaf.refresh_from_db()
    assert leaf.path == f"/{other_root.pk}/{sub.pk}/{leaf.pk}/"


def test_department_cannot_move_under_itself_or_another_customer(world):
    leaf = org.create_department(actor=world.ent_admin_a, group_customer=world.customer_a,
                                 name="Backend", parent=world.sub_a)
    count = AuditRecord.objects.count()
    with pytest.raises(InvalidInput, match="under itself"):
        org.update_department(actor=world.ent_admin_a, department=world.head_a, parent=leaf)
    with pytest.raises(InvalidInput, match="another customer"):
        org.update_department(actor=world.ent_admin_a, department=world.sub_a,
                              parent=world.head_b)
    world.sub_a.refresh_from_db()
    assert world.sub_a.parent_id == world.head_a.pk
    assert AuditRecord.objects.count() == count


def test_non_empty_department_cannot_be_deleted(world):
    count = Department.objects.count()
    with pytest.raises(DepartmentNotEmpty):
        org.delete_department(actor=world.ent_admin_a, department=world.head_a)
    assert Department.objects.count() == count
    empty = org.create_department(actor=world.ent_admin_a, group_customer=world.customer_a,
                                  name="Empty")
    org.delete_department(actor=world.ent_admin_a, department=empty)
    assert not Department.objects.filter(pk=empty.pk).exists()
    assert AuditRecord.objects.filter(action="department.deleted",
                                      object_id=str(empty.pk)).exists()


def test_duplicate_sibling_department_is_refused(world):
    count = Department.objects.count()
    with pytest.raises(InvalidInput):
        org.create_department(actor=world.ent_admin_a, group_customer=world.customer_a,
                              name="R&D", parent=world.head_a)
    assert Department.objects.count() == count


def test_branch_levels_are_enforced(world):
    with pytest.raises(InvalidInput) as refused:
        org.create_branch(actor=world.admin, operator=world.operator, level="county",
                          name="Bad", code="X1", parent=world.province)
    assert "parent" in refused.value.errors


def test_integrators_serve_counties_only(world):
    with pytest.raises(InvalidInput) as refused:
        org.update_integrator(actor=world.admin, integrator=world.integrator,
                              counties=[world.city])
    assert "counties" in refused.value.errors
    assert list(world.integrator.counties.all()) == [world.county_a]
