"""``onecard demo``: the promised world, built through actions, idempotent and log-in ready."""

import re
from collections import Counter
from io import StringIO

import pytest
from django.contrib.auth import authenticate
from django.core.management import call_command

from onecard.accounts.choices import Role
from onecard.accounts.models import User
from onecard.audit.actions import verify_audit_log
from onecard.audit.models import AuditRecord
from onecard.demo import CUSTOMERS, DEMO_PASSWORD, OPERATOR_CODE, demo_people, load_demo
from onecard.organizations.models import (
    Branch,
    Department,
    GroupCustomer,
    Integrator,
    Operator,
    TerminalVendor,
)
from onecard.people.models import PHONE_PATTERN, Member

MODELS = (Operator, Branch, GroupCustomer, Department, Integrator, TerminalVendor, Member, User,
          AuditRecord)


def counts():
    return {model.__name__: model.objects.count() for model in MODELS}


def demo(*args):
    out = StringIO()
    call_command("demo", *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def demo_loaded(db):
    return demo()


def test_a_second_run_creates_nothing(demo_loaded):
    first = counts()
    output = demo()
    assert counts() == first
    assert "nothing to create" in output
    assert first["Member"] == 400
    assert "created" in demo_loaded and "400 member" in demo_loaded


def test_the_demo_world(demo_loaded):
    operator = Operator.objects.get(code=OPERATOR_CODE)
    assert operator.name == "OneCard 演示运营商"
    province = Branch.objects.get(operator=operator, level="province")
    city = Branch.objects.get(operator=operator, level="city", parent=province)
    counties = set(Branch.objects.filter(parent=city).values_list("name", flat=True))
    assert (province.name, city.name, counties) == ("重庆", "重庆市", {"渝中区", "江北区"})

    integrator = Integrator.objects.get()
    assert integrator.qualification
    assert set(integrator.counties.values_list("name", flat=True)) == {"渝中区", "江北区"}
    assert User.objects.get(username="demo_integrator").integrator == integrator
    assert User.objects.get(username="demo_vendor").vendor == TerminalVendor.objects.get()

    for plan in CUSTOMERS:
        customer = GroupCustomer.objects.get(code=plan.code)
        assert customer.name == plan.name
        assert customer.status == "verified"
        assert customer.verified_by == customer.customer_manager
        assert customer.customer_manager.branch == customer.branch
        departments = Department.objects.filter(group_customer=customer)
        assert 3 <= departments.count() <= 8
        assert {d.depth for d in departments} == {0, 1}
        members = Member.objects.filter(group_customer=customer)
        assert members.count() == 200
        assert not members.filter(department__isnull=True).exists()
        categories = Counter(members.values_list("category", flat=True))
        main = "student" if plan.kind == "campus" else "staff"
        assert categories[main] > 140
        assert User.objects.get(username=plan.admin).group_customer == customer
        member_login = User.objects.get(username=plan.member_login)
        assert member_login.member.group_customer == customer
        assert member_login.member.category == main
    assert GroupCustomer.objects.get(code="DEMO-CQ-UNIV").kind == "campus"


def test_every_demo_account_logs_in_and_is_listed(demo_loaded):
    usernames = re.findall(r"^  (demo_\w+)", demo_loaded, flags=re.MULTILINE)
    assert len(usernames) == 11
    assert set(usernames) == set(User.objects.filter(username__startswith="demo_")
                                 .values_list("username", flat=True))
    assert f"Password for every demo account: {DEMO_PASSWORD}" in demo_loaded
    for username in usernames:
        assert authenticate(username=username, password=DEMO_PASSWORD) is not None, username
    roles = set(User.objects.filter(username__in=usernames).values_list("role", flat=True))
    assert roles == set(Role.values)


def test_everything_was_audited_and_the_chain_verifies(demo_loaded):
    assert AuditRecord.objects.filter(action="member.created").count() == 400
    assert AuditRecord.objects.filter(action="group_customer.verified").count() == 2
    demo()
    report = verify_audit_log()
    assert report.ok, report.problems


def test_a_bigger_run_only_adds_people(db):
    small = load_demo(members_per_customer=20)
    assert small.created["member"] == 40
    names = dict(Member.objects.values_list("phone", "name"))
    bigger = load_demo()
    assert bigger.created["member"] == 360
    # New people get their purses and money from later demo steps; nothing else is re-created.
    assert not set(bigger.created) & {"operator", "branch", "group_customer", "department",
                                      "integrator", "vendor", "account", "merchant", "ledger"}
    assert {phone: name for phone, name in Member.objects.values_list("phone", "name")
            if phone in names} == names


def test_the_demo_lives_beside_other_data(world):
    before = Member.objects.count()
    demo()
    assert Member.objects.count() == before + 400
    assert authenticate(username="admin", password=world.password) == world.admin


def test_demo_people_are_deterministic_and_plausible():
    for plan in CUSTOMERS:
        people = demo_people(plan)
        assert people == demo_people(plan)
        assert len({p.phone for p in people}) == len(people) == 200
        assert len({p.employee_number for p in people}) == 200
        assert all(re.fullmatch(PHONE_PATTERN, p.phone) for p in people)
        assert all(2 <= len(p.name) <= 3 for p in people)
    phones = [p.phone for plan in CUSTOMERS for p in demo_people(plan)]
    assert len(set(phones)) == len(phones)
