"""Members through the actions: uniqueness per customer, tenancy of departments, lifecycle."""

import pytest

from onecard.audit.models import AuditRecord
from onecard.core.errors import InvalidInput, TransitionRefused
from onecard.people import actions
from onecard.people.errors import DuplicateEmployeeNumber, DuplicatePhone
from onecard.people.models import Member


def _counts():
    return Member.objects.count(), AuditRecord.objects.count()


def test_same_phone_is_allowed_in_another_customer(world):
    phone = world.members_a[0].phone
    member = actions.create_member(actor=world.ent_admin_b, group_customer=world.customer_b,
                                   name="Other", phone=phone)
    assert member.group_customer == world.customer_b


@pytest.mark.parametrize("field,error", [("phone", DuplicatePhone),
                                         ("employee_number", DuplicateEmployeeNumber)])
def test_duplicates_within_a_customer_are_refused(world, field, error):
    taken = world.members_a[1]
    details = {"phone": "13999999999", "employee_number": "NEW1",
               field: getattr(taken, field)}
    before = _counts()
    with pytest.raises(error) as refused:
        actions.create_member(actor=world.ent_admin_a, group_customer=world.customer_a,
                              name="Dup", **details)
    assert refused.value.field == field
    assert _counts() == before


@pytest.mark.parametrize("phone", ["12345", "23912345678", "1391234567x", "+8613912345678"])
def test_bad_phone_is_refused(world, phone):
    before = _counts()
    with pytest.raises(InvalidInput) as refused:
        actions.create_member(actor=world.ent_admin_a, group_customer=world.customer_a,
                              name="Bad", phone=phone)
    assert "phone" in refused.value.errors
    assert _counts() == before


def test_department_of_another_customer_is_refused(world):
    before = _counts()
    with pytest.raises(InvalidInput) as refused:
        actions.create_member(actor=world.ent_admin_a, group_customer=world.customer_a,
                              name="X", phone="13911112222", department=world.head_b)
    assert "department" in refused.value.errors
    assert _counts() == before


def test_departed_member_frees_the_phone(world):
    leaver = world.members_a[2]
    actions.mark_member_departed(actor=world.ent_admin_a, member=leaver, reason="left")
    newcomer = actions.create_member(actor=world.ent_admin_a, group_customer=world.customer_a,
                                     name="Newcomer", phone=leaver.phone,
                                     employee_number=leaver.employee_number)
    assert newcomer.phone == leaver.phone
    events = list(leaver.events.values_list("from_status", "to_status", "reason"))
    assert events == [("active", "departed", "left")]


def test_departed_is_final(world):
    leaver = actions.mark_member_departed(actor=world.ent_admin_a, member=world.members_a[2])
    before = _counts()
    for action in (actions.resume_member, actions.suspend_member, actions.mark_member_departed):
        with pytest.raises(TransitionRefused):
            action(actor=world.ent_admin_a, member=leaver)
    assert Member.objects.get(pk=leaver.pk).status == "departed"
    assert _counts() == before


def test_update_writes_before_and_after(world):
    member = world.members_a[1]
    actions.update_member(actor=world.ent_admin_a, member=member, name="Renamed",
                          department=world.head_a)
    record = AuditRecord.objects.filter(action="member.updated", object_id=str(member.pk)).get()
    assert record.before["name"] == "Member a1" and record.after["name"] == "Renamed"
    assert record.after["department_id"] == world.head_a.pk
    assert record.actor == world.ent_admin_a


def test_update_with_unknown_field_changes_nothing(world):
    member = world.members_a[1]
    before = _counts()
    with pytest.raises(InvalidInput) as refused:
        actions.update_member(actor=world.ent_admin_a, member=member, status="departed")
    assert "status" in refused.value.errors
    assert Member.objects.get(pk=member.pk).status == "active"
    assert _counts() == before
