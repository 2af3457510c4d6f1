"""Demo data: terminals of the first demo customer — POS at each of its merchants, a top-up
machine, doors, an attendance clock, an issuing machine and a calibrator — registered through
the actions, most of them enrolled. The secrets they got are not kept anywhere: the simulator
(``onecard simulate``) enrols its own fleet with codes issued through ``issue_enrolment_code``.

Idempotent: a customer that has terminals already is left as it is.
"""

from onecard.accounts.choices import Role
from onecard.accounts.models import User
from onecard.organizations.models import TerminalVendor
from onecard.wallet.models import Merchant

from . import actions
from .models import Terminal

# (kind, name, location, frequencies, enrolled)
PLAN = (
    ("top_up", "充值机 1", "一楼大厅", ["2.4ghz", "13.56mhz"], True),
    ("door_controller", "东门", "东门", ["2.4ghz", "13.56mhz"], True),
    ("door_controller", "研发楼门禁", "研发楼一层", ["2.4ghz"], True),
    ("door_controller", "机房门禁", "三楼机房", ["2.4ghz"], False),
    ("attendance_clock", "考勤机 1", "一楼大厅", ["2.4ghz", "13.56mhz"], True),
    ("issuing", "发卡机", "营业厅", ["2.4ghz", "13.56mhz"], True),
    ("calibrator", "校准器", "营业厅", ["2.4ghz"], False),
)


def load(builder):
    """Idempotent: safe to run on every start."""
    if not builder.customers:
        return
    customer = next(iter(builder.customers.values()))
    if Terminal.objects.filter(group_customer=customer).exists():
        return
    admin = User.objects.filter(role=Role.ENTERPRISE_ADMIN, group_customer=customer,
                                username__startswith="demo_").first()
    vendor = TerminalVendor.objects.order_by("pk").first()
    plan = [("pos", f"{merchant.name} POS", merchant.name, ["2.4ghz", "13.56mhz"], True,
             merchant) for merchant in Merchant.objects.filter(group_customer=customer)]
    plan += [(*row, None) for row in PLAN]
    for index, (kind, name, location, frequencies, enrolled, merchant) in enumerate(plan):
        registered = actions.register_terminal(
            actor=admin, group_customer=customer, kind=kind, name=name, location=location,
            frequencies=frequencies, merchant=merchant, vendor=vendor)
        builder.made("terminal", registered.terminal)
        if enrolled:
            actions.enrol_terminal(code=registered.enrolment_code, serial=f"DEMO-{index:04d}",
                                   firmware="1.0.0")
