"""Demo data of the service desk: a handful of tickets in different states for the demo
customers, built only through the actions (so each has its history and audit records).

Idempotent: each ticket is looked up by customer and title before it is built; a re-run creates
nothing. Runs after organizations and people (``onecard.demo.DEMO_STEPS``).
"""

from datetime import timedelta

from django.utils import timezone

from onecard.accounts.models import User

from . import actions
from .models import Ticket

TECH, UNIV = "DEMO-CQ-TECH", "DEMO-CQ-UNIV"


def _user(username):
    return User.objects.filter(username=username).first()


def load(builder):
    agent1 = _user("demo_agent1")
    engineer, vendor_engineer = _user("demo_integrator"), _user("demo_vendor")
    tech_admin, member_user = _user("demo_ent_admin"), _user("demo_member")
    tech, univ = builder.customers[TECH], builder.customers[UNIV]

    def ticket(customer, title, build):
        found = Ticket.objects.filter(group_customer=customer, title=title).first()
        if found is None:
            found = builder.made("ticket", build())
        return found

    # 1. A door controller fault, dispatched to the local integrator, who has accepted it.
    def door():
        opened = actions.open_ticket(
            actor=agent1, group_customer=tech, ticket_class="terminal", priority="p2",
            title="东门门禁控制器离线", contact_name="王主任", contact_phone="13900000103",
            description="东门门禁控制器从早上 8 点起离线，员工无法刷卡进门，目前人工放行。",
        )
        actions.acknowledge_ticket(actor=agent1, ticket=opened, note="已电话回复客户")
        work_order = actions.dispatch_ticket(actor=agent1, ticket=opened,
                                             integrator=builder.integrator,
                                             instructions="请携带备用控制器到东门岗亭")
        actions.accept_work_order(actor=engineer, work_order=work_order)
        return opened

    # 2. A billing question the tier-1 desk could not answer: escalated to tier 2.
    def billing():
        opened = actions.open_ticket(
            actor=agent1, group_customer=univ, ticket_class="business", priority="p3",
            title="学生卡套餐资费咨询", contact_name="后勤处李老师", contact_phone="13900000201",
            description="学校希望了解学生 RFID-SIM 卡的套餐资费和批量办理优惠政策。",
        )
        actions.escalate_ticket(actor=agent1, ticket=opened,
                                reason="涉及集团资费政策，需二级支撑答复")
        return opened

    # 3. A canteen POS fault fixed by the vendor, confirmed by the customer with a score.
    def pos():
        opened = actions.open_ticket(
            actor=member_user, group_customer=tech, ticket_class="terminal", priority="p3",
            title="食堂 2 号 POS 机无法读卡", vendor=builder.vendor,
            description="中午在食堂 2 号窗口刷手机卡没有反应，其他窗口正常。",
        )
        actions.acknowledge_ticket(actor=agent1, ticket=opened)
        work_order = actions.dispatch_ticket(actor=agent1, ticket=opened, vendor=builder.vendor)
        actions.accept_work_order(actor=vendor_engineer, work_order=work_order)
        actions.arrive_on_site(actor=vendor_engineer, work_order=work_order)
        actions.report_work_order(actor=vendor_engineer, work_order=work_order, outcome="fixed",
                                  result="更换 POS 读卡模块并重新校准读卡距离，测试正常。")
        actions.confirm_resolution(actor=tech_admin, ticket=opened, satisfaction=5,
                                   comment="处理及时，谢谢")
        return opened

    # 4. An urgent attendance clock fault nobody has answered: it breaches its SLA.
    def clock():
        return actions.open_ticket(
            actor=agent1, group_customer=univ, ticket_class="engineering", priority="p1",
            title="图书馆考勤机时间不同步", received_at=timezone.now() - timedelta(hours=6),
            description="图书馆考勤机时间比标准时间慢 20 分钟，影响教职工考勤记录。",
        )

    ticket(tech, "东门门禁控制器离线", door)
    ticket(univ, "学生卡套餐资费咨询", billing)
    ticket(tech, "食堂 2 号 POS 机无法读卡", pos)
    ticket(univ, "图书馆考勤机时间不同步", clock)
    actions.record_sla_breaches(actor=None)
