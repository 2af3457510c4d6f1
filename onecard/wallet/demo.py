"""Demo data for the wallet: each demo customer's ledger, merchants with terminals, spending
policies, purses topped up, a month's subsidy and a few days of meals, all through the actions.

Idempotent: accounts are looked up before they are opened, and every transfer has a fixed
client id, so a second run posts nothing new (the ledger answers "exists").
"""

import random
from datetime import datetime, time, timedelta

from django.utils import timezone

from onecard.accounts.choices import Role
from onecard.accounts.models import User
from onecard.people.choices import MemberCategory
from onecard.people.models import Member

from . import actions
from .errors import LedgerRefused
from .models import Merchant, SpendingPolicy

# (merchant code, name, terminal codes) per demo customer code
MERCHANTS = {
    "DEMO-CQ-TECH": [("canteen", "员工食堂", ("POS-01", "POS-02", "POS-03")),
                     ("shop", "便利店", ("POS-11",))],
    "DEMO-CQ-UNIV": [("canteen-1", "第一食堂", ("POS-01", "POS-02", "POS-03", "POS-04")),
                     ("canteen-2", "第二食堂", ("POS-21", "POS-22")),
                     ("market", "校园超市", ("POS-31",))],
}
# category: (per transaction, daily, PIN from, offline per transaction, offline daily), in fen
POLICIES = {
    MemberCategory.STAFF: (20000, 50000, 10000, 3000, 10000),
    MemberCategory.STUDENT: (5000, 15000, 3000, 2000, 5000),
    MemberCategory.CONTRACTOR: (10000, 20000, 5000, 2000, 5000),
    MemberCategory.VISITOR: (3000, 6000, 3000, 1000, 2000),
}
MEALS = ((7, 30, 300, 900), (12, 0, 1200, 2800), (18, 0, 1000, 2500))  # hour, minute, fen range
DAYS_OF_MEALS = 3


def load(builder):
    for code, customer in builder.customers.items():
        _customer(builder, customer, MERCHANTS[code])


def _customer(builder, customer, merchant_plan):
    admin = User.objects.get(role=Role.ENTERPRISE_ADMIN, group_customer=customer,
                             username__startswith="demo_")
    if actions.open_ledger(actor=admin, group_customer=customer):
        builder.made("ledger", customer)
    opened = actions.open_purses_for_customer(actor=admin, group_customer=customer)
    if opened:
        builder.summary.created["purse"] += opened
    terminals = []
    for code, name, terminal_codes in merchant_plan:
        merchant = Merchant.objects.filter(group_customer=customer, code=code).first()
        if merchant is None:
            merchant = builder.made("merchant", actions.create_merchant(
                actor=admin, group_customer=customer, name=name, code=code))
        terminals += [actions.open_merchant_terminal_account(actor=admin, merchant=merchant,
                                                             code=t) for t in terminal_codes]
    drawer = actions.open_cash_drawer(actor=admin, group_customer=customer, code="COUNTER-1")
    for category, limits in POLICIES.items():
        if not SpendingPolicy.objects.filter(group_customer=customer, category=category).exists():
            actions.set_spending_policy(
                actor=admin, group_customer=customer, category=category,
                **dict(zip(actions.LIMIT_FIELDS, limits, strict=True)))
    _money(builder, customer, admin, drawer, terminals)


def _money(builder, customer, admin, drawer, terminals):
    rng = random.Random(f"wallet:{customer.code}")
    members = list(Member.objects.filter(group_customer=customer, status="active").order_by("pk"))
    today = timezone.localdate()
    month_end = timezone.make_aware(datetime.combine(
        (today.replace(day=28) + timedelta(days=4)).replace(day=1), time.min))
    for member in members:
        top_up = rng.choice((20000, 30000, 50000))
        result = actions.top_up(actor=None, member=member, amount=top_up,
                                client_id=f"demo-topup-{member.pk}", source=drawer,
                                terminal_code="COUNTER-1")
        if result.status == "ok":
            builder.summary.created["transfer"] += 1
        if member.category == MemberCategory.STUDENT or rng.random() < 0.3:
            result = actions.grant_subsidy(actor=admin, member=member, amount=15000,
                                           client_id=f"demo-subsidy-{member.pk}-{today:%Y%m}",
                                           expires_at=month_end)
            if result.status == "ok":
                builder.summary.created["transfer"] += 1
        for day in range(DAYS_OF_MEALS, 0, -1):
            for hour, minute, low, high in MEALS:
                if rng.random() < 0.35:
                    continue
                at = timezone.make_aware(datetime.combine(today - timedelta(days=day),
                                                          time(hour, minute + rng.randint(0, 29))))
                terminal = rng.choice(terminals)
                try:
                    result = actions.purchase(
                        member=member, merchant_account=terminal,
                        amount=rng.randint(low, high) // 10 * 10, pin_verified=True,
                        client_id=f"demo-meal-{member.pk}-{day}-{hour}", created_at=at,
                        terminal_code=terminal.code)
                except LedgerRefused:
                    continue  # out of money or over a limit: the terminal would refuse too
                if result.status == "ok":
                    builder.summary.created["transfer"] += 1
