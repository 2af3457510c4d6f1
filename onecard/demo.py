"""Demo data (演示数据): one operator with its branches, partners, two group customers and their
members, built only through the domain actions, so every row has its audit record.

Invariants:

* **Idempotent.** Everything is looked up by its natural key (operator and branch codes,
  customer codes, department name under its parent, member phone, integrator/vendor name,
  username) before it is created; a second run creates nothing and does not fail.
* **Deterministic.** Names, phones and numbers come from fixed-seed generators, so every run
  (and every machine) builds the same people.
* **One transaction.** The whole load commits or nothing does.

Every demo account has the password ``DEMO_PASSWORD``. Demo data is for trying the platform out;
do not load it into a production database.
"""

import importlib
import random
from collections import Counter
from dataclasses import dataclass, field

from django.db import transaction

from onecard.accounts.actions import create_account
from onecard.accounts.choices import Role
from onecard.accounts.models import User
from onecard.organizations import actions as org
from onecard.organizations.choices import BranchLevel, CustomerKind, GroupCustomerStatus
from onecard.organizations.models import (
    Branch,
    Department,
    GroupCustomer,
    Integrator,
    Operator,
    TerminalVendor,
)
from onecard.people.actions import create_member
from onecard.people.choices import MemberCategory, MemberStatus
from onecard.people.models import Member

DEMO_PASSWORD = "Demo-Pass-2026"
OPERATOR_NAME = "OneCard 演示运营商"
OPERATOR_CODE = "onecard-demo"
MEMBERS_PER_CUSTOMER = 200

# Later apps add their demo data here: each module has ``load(builder)``, runs after the
# organizations and people above exist, in this order, inside the same transaction, and must be
# idempotent like the rest (look up by natural key before creating; count with builder.made).
DEMO_STEPS = [
    "onecard.wallet.demo",
    "onecard.projects.demo",
    "onecard.service.demo",
    "onecard.cards.demo_stock",  # phone models, application plans, card stock
    "onecard.cards.demo",  # cards issued to members, lifecycle examples
    "onecard.cards.demo_provisioning",  # applications opened over the air, calibrations
    "onecard.terminals.demo",  # enrolled terminals
]

SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程"
    "苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝"
)
GIVEN_NAME_CHARACTERS = (
    "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚英华玉兰萍红鹏辉建文斌宇浩凯健俊帆旭宁林欣晨"
    "怡佳雪琳晶婷倩雨萱梓涵子轩博思悦嘉然欢昊天泽逸"
)

# Branches: (code, level, name, parent code).
BRANCHES = (
    ("CQ", BranchLevel.PROVINCE, "重庆", None),
    ("CQ-CITY", BranchLevel.CITY, "重庆市", "CQ"),
    ("CQ-YZ", BranchLevel.COUNTY, "渝中区", "CQ-CITY"),
    ("CQ-JB", BranchLevel.COUNTY, "江北区", "CQ-CITY"),
)


@dataclass(frozen=True)
class CustomerPlan:
    """What one demo group customer looks like."""

    code: str
    name: str
    kind: str
    county_code: str
    manager: str
    admin: str
    member_login: str
    licence: str
    contract: str
    address: str
    seed: int
    phone_range: tuple
    # (top-level department, [sub-departments])
    departments: tuple
    # Departments whose members are mostly students.
    academic: tuple = ()


CUSTOMERS = (
    CustomerPlan(
        code="DEMO-CQ-TECH", name="重庆示例科技有限公司", kind=CustomerKind.ENTERPRISE,
        county_code="CQ-YZ", manager="demo_manager_yz", admin="demo_ent_admin",
        member_login="demo_member", licence="91500103MA5DEMO01X", contract="CQ-YZ-2026-001",
        address="重庆市渝中区解放碑示例大厦 18 楼", seed=20260001,
        phone_range=(10_000_000, 49_999_999),
        departments=(("总部", ("研发部", "市场部", "财务部", "人力资源部", "行政部")),),
    ),
    CustomerPlan(
        code="DEMO-CQ-UNIV", name="重庆示例大学", kind=CustomerKind.CAMPUS,
        county_code="CQ-JB", manager="demo_manager_jb", admin="demo_campus_admin",
        member_login="demo_student", licence="12500000MB1DEMO02Y", contract="CQ-JB-2026-002",
        address="重庆市江北区示例大道 1 号", seed=20260002,
        phone_range=(50_000_000, 99_999_999),
        departments=(
            ("计算机学院", ("软件工程系", "人工智能系")),
            ("经济管理学院", ("会计学系", "金融学系")),
            ("行政部门", ("后勤处",)),
        ),
        academic=("软件工程系", "人工智能系", "会计学系", "金融学系"),
    ),
)


@dataclass
class DemoLogin:
    username: str
    role: str
    scope: str


@dataclass
class DemoSummary:
    """What ``load_demo`` did: the log-ins to show and how many objects of each kind it created
    (empty on a re-run)."""

    logins: list = field(default_factory=list)
    created: Counter = field(default_factory=Counter)
    password: str = DEMO_PASSWORD


@dataclass(frozen=True)
class DemoPerson:
    name: str
    phone: str
    employee_number: str
    department: str
    category: str


def demo_people(plan, count=MEMBERS_PER_CUSTOMER):
    """The same people for ``plan`` on every run and machine; the first ``n`` are the same
    whatever ``count`` is, so a bigger run only adds people. Phones are unique."""
    # Set-based sampling from a large range picks in order, so the phone list is prefix-stable.
    low, high = plan.phone_range
    suffixes = random.Random(plan.seed).sample(range(low, high + 1), count)
    leaves = [child for _top, children in plan.departments for child in children]
    tops = [top for top, _children in plan.departments]
    people = []
    for index, suffix in enumerate(suffixes):
        # A string seed is hashed with SHA-512, so it does not depend on PYTHONHASHSEED.
        rng = random.Random(f"{plan.seed}:{index}")
        given = "".join(rng.choice(GIVEN_NAME_CHARACTERS) for _ in range(rng.choice((1, 2, 2))))
        name = rng.choice(SURNAMES) + given
        roll = rng.random()
        if plan.academic:
            if roll < 0.85:
                category = MemberCategory.STUDENT
                department = rng.choice(plan.academic)
                number = f"{2022 + index % 4}{index + 1:05d}"
            else:
                category = MemberCategory.STAFF
                department = rng.choice(leaves + tops)
                number = f"T{index + 1:05d}"
        else:
            category = (MemberCategory.STAFF if roll < 0.85 else
                        MemberCategory.CONTRACTOR if roll < 0.97 else MemberCategory.VISITOR)
            department = rng.choice(leaves) if rng.random() < 0.9 else tops[0]
            number = f"CQT{index + 1:05d}"
        people.append(DemoPerson(name, f"139{suffix:08d}", number, department, category))
    return people


class _Builder:
    """Looks up or creates each piece in turn, counting what it had to create."""

    def __init__(self, members_per_customer):
        self.members_per_customer = members_per_customer
        self.summary = DemoSummary()

    def _made(self, kind, obj):
        self.summary.created[kind] += 1
        return obj

    made = _made  # the name later demo steps use

    def login(self, user, scope):
        self.summary.logins.append(DemoLogin(user.username, str(Role(user.role).label), scope))
        return user

    def account(self, *, actor, username, role, display_name, scope, **links):
        user = User.objects.filter(username=username).first()
        if user is None:
            user = self._made("account", create_account(
                actor=actor, username=username, password=DEMO_PASSWORD, role=role,
                display_name=display_name, **links,
            ))
        return self.login(user, scope)

    def run(self):
        operator = Operator.objects.filter(code=OPERATOR_CODE).first() or self._made(
            "operator", org.create_operator(actor=None, name=OPERATOR_NAME, code=OPERATOR_CODE)
        )
        admin = self.account(actor=None, username="demo_admin", role=Role.OPERATOR_ADMIN,
                             display_name="演示运营管理员", scope=operator.name)
        branches = {}
        for code, level, name, parent_code in BRANCHES:
            branches[code] = Branch.objects.filter(operator=operator, code=code).first() or (
                self._made("branch", org.create_branch(
                    actor=admin, operator=operator, level=level, name=name, code=code,
                    parent=branches.get(parent_code),
                ))
            )
        counties = [branches["CQ-YZ"], branches["CQ-JB"]]
        managers = {}
        for username, county, person in (("demo_manager_yz", counties[0], "刘经理"),
                                         ("demo_manager_jb", counties[1], "陈经理")):
            managers[username] = self.account(
                actor=admin, username=username, role=Role.CUSTOMER_MANAGER, display_name=person,
                scope=f"重庆市 / {county.name}", branch=county,
            )
        self.account(actor=admin, username="demo_agent1", role=Role.SERVICE_AGENT_T1,
                     display_name="10086 一级客服", scope="全部集团客户 (all customers)")
        self.account(actor=admin, username="demo_agent2", role=Role.SERVICE_AGENT_T2,
                     display_name="二级支撑客服", scope="全部集团客户 (all customers)")
        integrator = Integrator.objects.filter(name="重庆示例智能工程有限公司").first() or (
            self._made("integrator", org.create_integrator(
                actor=admin, operator=operator, name="重庆示例智能工程有限公司",
                qualification="电子与智能化工程专业承包", qualification_level="grade_2",
                counties=counties, contact_name="赵工", contact_phone="13900000101",
            ))
        )
        self.account(actor=admin, username="demo_integrator", role=Role.INTEGRATOR_ENGINEER,
                     display_name="赵工", scope=f"{integrator.name} (渝中区, 江北区)",
                     integrator=integrator)
        vendor = TerminalVendor.objects.filter(name="示例终端设备有限公司").first() or (
            self._made("vendor", org.create_vendor(
                actor=admin, operator=operator, name="示例终端设备有限公司",
                product_lines="门禁控制器, 考勤机, 消费 POS, 充值机, 发卡机, 校准器",
                contact_name="孙工", contact_phone="13900000102",
                support_email="support@vendor.example.com",
            ))
        )
        self.account(actor=admin, username="demo_vendor", role=Role.VENDOR_ENGINEER,
                     display_name="孙工", scope=vendor.name, vendor=vendor)
        # What later demo steps build on.
        self.operator, self.admin, self.branches = operator, admin, branches
        self.managers, self.integrator, self.vendor = managers, integrator, vendor
        self.customers = {}
        for plan in CUSTOMERS:
            self.customers[plan.code] = self.customer(
                plan, admin=admin, branch=branches[plan.county_code],
                manager=managers[plan.manager],
            )
        for step in DEMO_STEPS:
            importlib.import_module(step).load(self)
        return self.summary

    def customer(self, plan, *, admin, branch, manager):
        customer = GroupCustomer.objects.filter(code=plan.code).first() or self._made(
            "group_customer", org.create_group_customer(
                actor=manager, branch=branch, name=plan.name, code=plan.code, kind=plan.kind,
                customer_manager=manager, address=plan.address,
            )
        )
        if customer.status == GroupCustomerStatus.PENDING:
            customer = org.verify_group_customer(
                actor=manager, group_customer=customer, business_licence_number=plan.licence,
                contact_name="王主任", contact_phone="13900000103",
                contract_number=plan.contract,
            )
        enterprise_admin = self.account(
            actor=admin, username=plan.admin, role=Role.ENTERPRISE_ADMIN,
            display_name=f"{plan.name} 管理员", scope=plan.name, group_customer=customer,
        )
        departments = self.departments(plan, customer, enterprise_admin)
        people = demo_people(plan, self.members_per_customer)
        current = Member.objects.filter(group_customer=customer).exclude(
            status=MemberStatus.DEPARTED
        )
        existing = set(current.values_list("phone", flat=True))
        for person in people:
            if person.phone in existing:
                continue
            self._made("member", create_member(
                actor=enterprise_admin, group_customer=customer, name=person.name,
                phone=person.phone, employee_number=person.employee_number,
                department=departments[person.department], category=person.category,
            ))
        typical = MemberCategory.STUDENT if plan.academic else MemberCategory.STAFF
        person = next((p for p in people if p.category == typical), people[0])
        first = current.get(phone=person.phone)
        self.account(actor=enterprise_admin, username=plan.member_login, role=Role.MEMBER,
                     display_name=first.name, scope=f"{plan.name} · {first.name}",
                     member=first, group_customer=customer)
        return customer

    def departments(self, plan, customer, actor):
        by_name = {}
        for top, children in plan.departments:
            parent = self.department(customer, actor, top, None)
            by_name[top] = parent
            for child in children:
                by_name[child] = self.department(customer, actor, child, parent)
        return by_name

    def department(self, customer, actor, name, parent):
        found = Department.objects.filter(group_customer=customer, parent=parent,
                                          name=name).first()
        return found or self._made("department", org.create_department(
            actor=actor, group_customer=customer, name=name, parent=parent,
        ))


def load_demo(*, members_per_customer=MEMBERS_PER_CUSTOMER):
    """Build (or complete) the demo data in one transaction and return what was done."""
    with transaction.atomic():
        return _Builder(members_per_customer).run()
