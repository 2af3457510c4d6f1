"""Demo data: phone models with calibration profiles, application plans for the demo customers
(all four applications enabled, some with a quota) and card stock received into each customer's
county branch and assigned to it — one RFID-SIM card per demo member plus spares, and a few IC
cards — all through the actions.

Idempotent: phone models and plans are looked up before they are made; card numbers are fixed
(derived from the customer's position and a sequence), and only the numbers not yet stored are
received.
"""

from onecard.people.choices import MemberStatus
from onecard.people.models import Member

from .actions import calibration, provisioning, stock
from .choices import ApplicationKind, CardMedium, CardStatus, ChipType
from .models import ApplicationPlan, Card, PhoneModel
from .validation import luhn_check_digit

# (manufacturer, model, default threshold, weakest, strongest accepted signal) in dBm
PHONE_MODELS = (
    ("Huawei", "Mate 60 Pro", -58, -68, -48),
    ("Xiaomi", "14", -60, -70, -50),
    ("Apple", "iPhone 15", -55, -65, -45),
    ("OPPO", "Find X7", -61, -71, -51),
    ("vivo", "X100", -59, -69, -49),
    ("Honor", "Magic6", -60, -70, -50),
)
# Application quotas per customer (None = no limit); every application is enabled.
QUOTAS = {ApplicationKind.IDENTITY: None, ApplicationKind.ACCESS: None,
          ApplicationKind.ATTENDANCE: None, ApplicationKind.PURSE: 1000}
SPARE_CARDS = 10  # per customer, left in the branch's stock (20 for the two demo customers)
IC_CARDS = 5  # per customer


def sim_numbers(customer_index, sequence):
    """Serial (19 digits: province 23, year 26, vendor 01, version 01, type 50, sequence, Luhn),
    ICCID (20 digits) and IMSI (15 digits) of demo RFID-SIM card ``sequence``."""
    body = f"2326010150{customer_index:02d}{sequence:06d}"
    iccid = f"89860026{customer_index:02d}{sequence:09d}"
    return {"number": body + luhn_check_digit(body),
            "iccid": iccid + luhn_check_digit(iccid),
            "imsi": f"4600726{customer_index:02d}{sequence:06d}"}


def ic_uid(customer_index, sequence):
    return f"DC{customer_index:02X}{sequence:04X}"


def load(builder):
    admin = builder.admin
    for manufacturer, model, default, weakest, strongest in PHONE_MODELS:
        if not PhoneModel.objects.filter(manufacturer=manufacturer, model=model).exists():
            builder.made("phone_model", calibration.create_phone_model(
                actor=admin, manufacturer=manufacturer, model=model, default_threshold=default,
                min_signal=weakest, max_signal=strongest))
    for index, customer in enumerate(builder.customers.values(), start=1):
        manager = customer.customer_manager or admin
        for kind, quota in QUOTAS.items():
            if not ApplicationPlan.objects.filter(group_customer=customer, kind=kind).exists():
                builder.made("application_plan", provisioning.set_application_plan(
                    actor=manager, group_customer=customer, kind=kind, enabled=True,
                    quota=quota))
        members = Member.objects.filter(group_customer=customer,
                                        status=MemberStatus.ACTIVE).count()
        _stock(builder, manager, customer, CardMedium.RFID_SIM,
               [sim_numbers(index, n) for n in range(1, members + SPARE_CARDS + 1)],
               assigned=members)
        _stock(builder, manager, customer, CardMedium.IC_CARD,
               [{"number": ic_uid(index, n), "chip_type": ChipType.CPU if n % 2 else ChipType.M1}
                for n in range(1, IC_CARDS + 1)], assigned=IC_CARDS)


def _stock(builder, manager, customer, medium, rows, *, assigned):
    """Receive the rows not yet stored into the customer's branch; assign the first
    ``assigned`` of them (those still in stock) to the customer."""
    stored = set(Card.objects.filter(number__in=[row["number"] for row in rows])
                 .values_list("number", flat=True))
    new = [row for row in rows if row["number"] not in stored]
    if new:
        received = stock.receive_cards(actor=manager, branch=customer.branch, medium=medium,
                                       cards=new)
        builder.summary.created["card"] += len(received)
    wanted = [row["number"] for row in rows[:assigned]]
    waiting = list(Card.objects.filter(number__in=wanted, status=CardStatus.IN_STOCK,
                                       group_customer__isnull=True))
    if waiting:
        stock.assign_cards(actor=manager, cards=waiting, group_customer=customer)
