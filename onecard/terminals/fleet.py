"""Server-side preparation of a simulated fleet (``onecard simulate``, the terminal benchmark).

``prepare_fleet`` registers terminals for a group customer through the terminal actions and
issues one one-time enrolment code per terminal; the simulator then enrols each terminal over
HTTP exactly as a real device would. It also reads the member cards the fleet may present.

Invariants: every terminal is registered and every code issued through
``onecard.terminals.actions`` (event and audit rows included); nothing here changes a card or
moves money. Codes are returned only to the caller, which runs in the same project.
"""

from onecard.cards.choices import ApplicationKind, ApplicationStatus, CardStatus
from onecard.cards.models import CardApplication
from onecard.organizations.choices import GroupCustomerStatus
from onecard.organizations.models import GroupCustomer

from .simulator import FleetPlan

# Simulator kinds → terminal kinds of the registry.
KINDS = {"pos": "pos", "door": "door_controller", "clock": "attendance_clock",
         "topup": "top_up"}
# The merchant simulated POS terminals pay when the customer has none.
SIMULATOR_MERCHANT = "simulator-canteen"


def member_cards(group_customer):
    """Card numbers of ``group_customer`` for a fleet: ``(purse, access, attendance, denied)``.

    The first three hold active cards with that application active; ``denied`` holds cards a
    terminal must refuse (lost or suspended)."""
    by_kind = {ApplicationKind.PURSE: [], ApplicationKind.ACCESS: [],
               ApplicationKind.ATTENDANCE: []}
    rows = (CardApplication.objects
            .filter(group_customer=group_customer, status=ApplicationStatus.ACTIVE,
                    card__status=CardStatus.ACTIVE, kind__in=list(by_kind))
            .order_by("card_id", "kind").values_list("kind", "card__number"))
    for kind, number in rows:
        by_kind[kind].append(number)
    denied = list(group_customer.cards.filter(
        status__in=[CardStatus.LOST, CardStatus.SUSPENDED], member__isnull=False)
        .order_by("pk").values_list("number", flat=True))
    return (by_kind[ApplicationKind.PURSE], by_kind[ApplicationKind.ACCESS],
            by_kind[ApplicationKind.ATTENDANCE], denied)


def busiest_customer():
    """The verified group customer with the most active purse applications (the demo's
    canteen customer), or None."""
    from django.db.models import Count, Q

    return (GroupCustomer.objects.filter(status=GroupCustomerStatus.VERIFIED)
            .annotate(purses=Count("cards__applications", filter=Q(
                cards__status=CardStatus.ACTIVE,
                cards__applications__kind=ApplicationKind.PURSE,
                cards__applications__status=ApplicationStatus.ACTIVE)))
            .filter(purses__gt=0).order_by("-purses", "pk").first())


def fleet_merchant(group_customer, *, actor=None):
    """The merchant simulated POS terminals belong to: the customer's first active merchant,
    else one created for the simulator (through the wallet action)."""
    from onecard.wallet import actions as wallet
    from onecard.wallet.models import Merchant

    merchant = (Merchant.objects.filter(group_customer=group_customer, is_active=True)
                .order_by("pk").first())
    if merchant is None:
        merchant = wallet.create_merchant(actor=actor, group_customer=group_customer,
                                          name="Simulator canteen", code=SIMULATOR_MERCHANT)
    return merchant


def prepare_fleet(group_customer, pos=20, doors=50, clocks=10, topups=2, *, actor=None,
                  label="SIM"):
    """Register ``pos`` POS terminals, ``doors`` door controllers, ``clocks`` attendance clocks
    and ``topups`` top-up machines for ``group_customer``; return a ``FleetPlan`` with the
    one-time enrolment code of each terminal and the customer's member cards.

    Each call registers new terminals (names carry ``label`` and a time stamp), so runs never
    share a device. POS terminals belong to ``fleet_merchant``. ``actor`` is the admin doing
    it (``None``: the system).
    """
    from django.utils import timezone

    from . import actions

    stamp = timezone.now().strftime("%m%d %H:%M:%S")
    merchant = fleet_merchant(group_customer, actor=actor) if pos else None
    enrolments, terminal_ids = [], []
    for sim_kind, number in (("pos", pos), ("door", doors), ("clock", clocks),
                             ("topup", topups)):
        for index in range(number):
            registered = actions.register_terminal(
                actor=actor, group_customer=group_customer, kind=KINDS[sim_kind],
                name=f"{label} {sim_kind} {index + 1} ({stamp})",
                merchant=merchant if sim_kind == "pos" else None)
            enrolments.append((sim_kind, registered.enrolment_code))
            terminal_ids.append(registered.terminal.pk)
    purse, access, attendance, denied = member_cards(group_customer)
    return FleetPlan(enrolments=enrolments, purse_cards=purse, access_cards=access,
                     attendance_cards=attendance, denied_cards=denied,
                     terminal_ids=terminal_ids)


def retire_fleet(plan, *, actor=None, reason="Simulation finished."):
    """Retire every terminal of ``plan`` that is not retired yet (through the terminal action),
    so a finished simulation leaves no live devices behind; return how many were retired."""
    from . import actions
    from .choices import TerminalState
    from .models import Terminal

    retired = 0
    for terminal in (Terminal.objects.filter(pk__in=plan.terminal_ids)
                     .exclude(state=TerminalState.RETIRED).order_by("pk")):
        actions.retire_terminal(actor=actor, terminal=terminal, reason=reason)
        retired += 1
    return retired
