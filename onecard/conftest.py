"""Shared fixtures: a small world built through the real actions, as a test would see it.

Two group customers, A and B, under different county branches, each with a department tree,
members and an enterprise admin; one account per operator-side role.
"""

import os
from io import StringIO

import pytest
from rest_framework.test import APIClient

from onecard.accounts.actions import create_account
from onecard.accounts.choices import Role
from onecard.organizations import actions as org
from onecard.people.actions import create_member

PASSWORD = "Correct-horse-42"


@pytest.fixture(scope="session", autouse=True)
def _compiled_translations():
    from django.core.management import call_command

    call_command("compilemessages_py", stdout=StringIO())
    # A catalogue looked up before the .mo files existed is cached empty: forget it.
    from django.utils.translation import trans_real

    trans_real._translations = {}
    trans_real._default = None


@pytest.fixture(autouse=True)
def _english_outside_requests():
    # Actions called directly speak the active language; requests pick theirs per user.
    from django.utils import translation

    with translation.override("en"):
        yield


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # Hashing strength is Django's concern; the suite only needs passwords to round-trip.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


class World:
    """Handles on everything the ``world`` fixture built."""


@pytest.fixture
def world(db):
    w = World()
    w.password = PASSWORD
    w.operator = org.create_operator(actor=None, name="Test Operator", code="test-op")
    w.admin = create_account(actor=None, username="admin", password=PASSWORD,
                             role=Role.OPERATOR_ADMIN)
    w.province = org.create_branch(actor=w.admin, operator=w.operator, level="province",
                                   name="Province", code="P1")
    w.city = org.create_branch(actor=w.admin, operator=w.operator, level="city", name="City",
                               code="C1", parent=w.province)
    w.county_a = org.create_branch(actor=w.admin, operator=w.operator, level="county",
                                   name="County A", code="K1", parent=w.city)
    w.county_b = org.create_branch(actor=w.admin, operator=w.operator, level="county",
                                   name="County B", code="K2", parent=w.city)
    w.manager = create_account(actor=w.admin, username="manager", password=PASSWORD,
                               role=Role.CUSTOMER_MANAGER, branch=w.county_a)
    w.manager_b = create_account(actor=w.admin, username="manager_b", password=PASSWORD,
                                 role=Role.CUSTOMER_MANAGER, branch=w.county_b)
    w.agent1 = create_account(actor=w.admin, username="agent1", password=PASSWORD,
                              role=Role.SERVICE_AGENT_T1)
    w.agent2 = create_account(actor=w.admin, username="agent2", password=PASSWORD,
                              role=Role.SERVICE_AGENT_T2)
    w.integrator = org.create_integrator(actor=w.admin, operator=w.operator, name="Integrator",
                                         qualification="Security systems", counties=[w.county_a])
    w.vendor = org.create_vendor(actor=w.admin, operator=w.operator, name="Vendor")
    w.integrator_engineer = create_account(actor=w.admin, username="engineer", password=PASSWORD,
                                           role=Role.INTEGRATOR_ENGINEER,
                                           integrator=w.integrator)
    w.vendor_engineer = create_account(actor=w.admin, username="vendoreng", password=PASSWORD,
                                       role=Role.VENDOR_ENGINEER, vendor=w.vendor)
    for tag, branch, manager in (("a", w.county_a, w.manager), ("b", w.county_b, w.manager_b)):
        customer = org.create_group_customer(actor=manager, branch=branch,
                                             name=f"Customer {tag.upper()}", code=f"GC-{tag}")
        customer = org.verify_group_customer(
            actor=manager, group_customer=customer, business_licence_number=f"91500000{tag}",
            contact_name="Contact", contact_phone="13800000000", contract_number=f"CT-{tag}",
        )
        head = org.create_department(actor=manager, group_customer=customer, name="Head office")
        sub = org.create_department(actor=manager, group_customer=customer, name="R&D",
                                    parent=head)
        prefix = "1390000" if tag == "a" else "1370000"
        members = [
            create_member(actor=manager, group_customer=customer, name=f"Member {tag}{i}",
                          phone=f"{prefix}{i:04d}", employee_number=f"E{tag}{i:03d}",
                          department=sub if i % 2 else head)
            for i in range(3)
        ]
        ent_admin = create_account(actor=w.admin, username=f"ent_{tag}", password=PASSWORD,
                                   role=Role.ENTERPRISE_ADMIN, group_customer=customer)
        member_user = create_account(actor=w.admin, username=f"member_{tag}", password=PASSWORD,
                                     role=Role.MEMBER, member=members[0],
                                     group_customer=customer)
        setattr(w, f"customer_{tag}", customer)
        setattr(w, f"head_{tag}", head)
        setattr(w, f"sub_{tag}", sub)
        setattr(w, f"members_{tag}", members)
        setattr(w, f"ent_admin_{tag}", ent_admin)
        setattr(w, f"member_user_{tag}", member_user)
    return w


@pytest.fixture
def api():
    """An API client; call ``api.force_authenticate(user)`` or use ``api_as``."""
    return APIClient()


@pytest.fixture
def api_as():
    def make(user):
        client = APIClient()
        client.force_authenticate(user)
        return client

    return make


def pytest_collection_modifyitems(config, items):
    """PostgreSQL-only tests are skipped, visibly, on SQLite; CI's second pass runs them."""
    from django.db import connection

    if connection.vendor == "postgresql":
        return
    if os.environ.get("ONECARD_REQUIRE_POSTGRES"):
        pytest.exit("ONECARD_REQUIRE_POSTGRES is set but the database is not PostgreSQL", 3)
    skip = pytest.mark.skip(reason="needs PostgreSQL; runs in .ci/run's PostgreSQL pass")
    for item in items:
        if "postgres" in item.keywords:
            item.add_marker(skip)
