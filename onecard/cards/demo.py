"""Demo data: cards issued to the demo members, and one example of each lifecycle operation per
group customer — a card reported lost, one suspended, one replaced, one deregistered (a member
leaving: applications deleted, purse refunded) — all through the actions. The member is not
marked departed here: the wallet demo draws its amounts for the active members in order, so a
member leaving between two runs would change them.

Runs after ``demo_stock`` (which receives and assigns stock) but does not depend on it: a
customer without cards waiting gets a few received here. Idempotent: members are taken in a
fixed order (primary key), a member who ever held a card is not issued another, and each example
is done only if its card has no such event yet.
"""

from onecard.accounts.choices import Role
from onecard.accounts.models import User
from onecard.people.choices import MemberStatus
from onecard.people.models import Member

from .actions import lifecycle, stock
from .choices import (
    LIVE_STATUSES,
    ApplicationKind,
    CardEventKind,
    CardMedium,
    CardStatus,
    ChipType,
)
from .models import Card, CardEvent
from .validation import luhn_check_digit

CARDS_PER_CUSTOMER = 40  # members (in primary-key order) who get a card
IC_MEMBERS = 4  # of them, the last few get IC cards instead of RFID-SIM cards
SIM_APPLICATIONS = [ApplicationKind.IDENTITY, ApplicationKind.ACCESS, ApplicationKind.ATTENDANCE,
                    ApplicationKind.PURSE]
# Positions (in the members chosen above) of the lifecycle examples.
LOST, SUSPENDED, REPLACED, DEREGISTERED = 5, 6, 7, 8


def load(builder):
    for index, customer in enumerate(builder.customers.values(), start=1):
        _customer(builder, index, customer)


def _waiting(customer, medium):
    """Cards that may be issued to this customer's members, assigned ones first."""
    cards = Card.objects.filter(medium=medium, member__isnull=True)
    assigned = cards.filter(group_customer=customer, status=CardStatus.ASSIGNED)
    in_stock = cards.filter(group_customer__isnull=True, status=CardStatus.IN_STOCK,
                            branch=customer.branch)
    return list(assigned.order_by("number")) + list(in_stock.order_by("number"))


def _receive_fallback(builder, index, customer, medium, count):
    """Receive ``count`` cards for ``customer`` when the stock demo left none (fixed numbers)."""
    rows = []
    for n in range(1, count + 1):
        if medium == CardMedium.RFID_SIM:
            body = f"2326019950{index:02d}{n:06d}"
            iccid = f"89860099{index:02d}{n:09d}"
            row = {"number": body + luhn_check_digit(body),
                   "iccid": iccid + luhn_check_digit(iccid),
                   "imsi": f"4600799{index:02d}{n:06d}"}
        else:
            row = {"number": f"DE{index:02X}{n:04X}", "chip_type": ChipType.CPU}
        rows.append(row)
    stored = set(Card.objects.filter(number__in=[r["number"] for r in rows])
                 .values_list("number", flat=True))
    new = [r for r in rows if r["number"] not in stored]
    if new:
        received = stock.receive_cards(actor=builder.admin, branch=customer.branch,
                                       medium=medium, cards=new)
        builder.summary.created["card"] += len(received)


def _customer(builder, index, customer):
    admin = builder.admin
    accounts = list(User.objects.filter(role=Role.MEMBER, group_customer=customer)
                    .values_list("member_id", flat=True))
    chosen = list(Member.objects.filter(group_customer=customer).order_by("pk")
                  [:CARDS_PER_CUSTOMER])
    chosen.sort(key=lambda m: (m.pk not in accounts, m.pk))  # member log-ins first
    to_issue = {CardMedium.RFID_SIM: [], CardMedium.IC_CARD: []}
    for position, member in enumerate(chosen):
        if member.status != MemberStatus.ACTIVE or Card.objects.filter(member=member).exists():
            continue
        is_ic = position >= len(chosen) - IC_MEMBERS
        to_issue[CardMedium.IC_CARD if is_ic else CardMedium.RFID_SIM].append(member)
    spare = 1 if not Card.objects.filter(member__in=chosen, status=CardStatus.REPLACED).exists() \
        else 0  # one new card for the replacement example
    waiting = {}
    for medium, members in to_issue.items():
        count = len(members) + (spare if medium == CardMedium.RFID_SIM else 0)
        if count and len(_waiting(customer, medium)) < count:
            _receive_fallback(builder, index, customer, medium, count)
        waiting[medium] = _waiting(customer, medium)
        for member in members:
            if not waiting[medium]:
                break
            card = waiting[medium].pop(0)
            kinds = list(SIM_APPLICATIONS)
            if card.chip_type == ChipType.M1:
                kinds.remove(ApplicationKind.PURSE)
            lifecycle.issue_card(actor=admin, card=card, member=member, applications=kinds)
            builder.summary.created["issued card"] += 1
    _examples(builder, admin, customer, chosen, waiting[CardMedium.RFID_SIM])


def _card_of(member):
    return Card.objects.filter(member=member).order_by("-pk").first()


def _done(card, kind):
    return CardEvent.objects.filter(card__member_id=card.member_id, kind=kind).exists()


def _examples(builder, admin, customer, chosen, spare_sims):
    if len(chosen) <= DEREGISTERED:
        return
    lost = _card_of(chosen[LOST])
    if lost and lost.status == CardStatus.ACTIVE and not _done(lost, CardEventKind.REPORTED_LOST):
        lifecycle.report_card_lost(actor=admin, card=lost, reason="演示：乘车时遗失")
    suspended = _card_of(chosen[SUSPENDED])
    if suspended and suspended.status == CardStatus.ACTIVE and not _done(
            suspended, CardEventKind.SUSPENDED):
        lifecycle.suspend_card(actor=admin, card=suspended, reason="演示：长期休假")
    replaced = _card_of(chosen[REPLACED])
    if (replaced and replaced.status in LIVE_STATUSES and spare_sims
            and not _done(replaced, CardEventKind.REPLACED)):
        lifecycle.replace_card(actor=admin, old_card=replaced, new_card=spare_sims.pop(0),
                               reason="演示：卡片损坏", identity_checked=True)
    leaving = chosen[DEREGISTERED]
    card = _card_of(leaving)
    if card and card.status in LIVE_STATUSES:
        lifecycle.deregister_card(actor=admin, card=card,
                                  client_id=f"demo-deregister-{leaving.pk}",
                                  reason="演示：员工离职", recovered=True)
