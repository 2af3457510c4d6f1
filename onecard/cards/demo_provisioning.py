"""Demo data: applications opened over the air (most delivered through the local channel, one
left queued, one failed after its retries) and a few distance calibrations, all through the
actions.

Idempotent: a customer that has any over-the-air opening, or any calibration, is skipped by the
matching step. Runs after the cards demo (``demo.py``): the openings go to issued cards that
lack an application, or else to members who have no card yet, issued one here with the identity
application only (card swap day; the rest is opened over the air).
"""

from datetime import timedelta

from django.utils import timezone

from onecard.accounts.choices import Role
from onecard.accounts.models import User
from onecard.people.choices import MemberStatus
from onecard.people.models import Member

from .actions import calibration, lifecycle, provisioning
from .channels import LocalChannel
from .choices import (
    ApplicationKind,
    ApplicationStatus,
    CardMedium,
    CardStatus,
    OpeningChannel,
)
from .models import CalibrationRecord, Card, CardApplication, PhoneModel

# What the demo opens over the air: the first kind enough issued cards do not have yet.
KINDS = (ApplicationKind.ATTENDANCE, ApplicationKind.PURSE, ApplicationKind.ACCESS,
         ApplicationKind.IDENTITY)
DELIVERED = 4  # openings delivered per customer
CALIBRATED = 3  # cards calibrated per customer


def _cards_without(customer, kind):
    """Active RFID-SIM cards of the customer without a live application of ``kind``."""
    has_kind = CardApplication.objects.filter(kind=kind).exclude(
        status=ApplicationStatus.DELETED).values("card_id")
    return (Card.objects.filter(group_customer=customer, status=CardStatus.ACTIVE,
                                medium=CardMedium.RFID_SIM, member__isnull=False)
            .exclude(pk__in=has_kind).select_related("member").order_by("pk"))


def _has_openings(customer):
    return CardApplication.objects.filter(group_customer=customer,
                                          channel=OpeningChannel.OVER_THE_AIR).exists()


def load(builder):
    """Per customer without over-the-air openings yet: one opening that fails after its five
    attempts, ``DELIVERED`` delivered through the local channel, and one left queued."""
    todo = []
    for customer in builder.customers.values():
        if _has_openings(customer):
            continue  # made on an earlier run
        admin = User.objects.filter(role=Role.ENTERPRISE_ADMIN, group_customer=customer,
                                    username__startswith="demo_").first()
        for kind in KINDS:
            cards = list(_cards_without(customer, kind)[:DELIVERED + 2])
            if len(cards) == DELIVERED + 2:
                todo.append((admin, customer, kind, cards))
                break
        else:
            cards = _issue_with_identity_only(builder, customer, DELIVERED + 2)
            if cards:
                todo.append((admin, customer, ApplicationKind.ATTENDANCE, cards))
    if not todo:
        _calibrations(builder)
        return
    # Phase 1: the failing openings alone are due; five passes, an hour apart (past each backoff,
    # well inside the 24-hour expiry).
    for admin, customer, kind, cards in todo:
        _request(builder, admin, customer, kind, cards[0])
    start = timezone.now()
    for attempt in range(provisioning.MAX_ATTEMPTS):
        provisioning.deliver_provisioning_jobs(now=start + timedelta(hours=attempt),
                                               channel=LocalChannel(failure_rate=1.0))
    # Phase 2: delivered over the local channel.
    for admin, customer, kind, cards in todo:
        for card in cards[1:DELIVERED + 1]:
            _request(builder, admin, customer, kind, card)
    provisioning.deliver_provisioning_jobs(channel=LocalChannel())
    # Phase 3: one left queued for the next delivery pass.
    for admin, customer, kind, cards in todo:
        _request(builder, admin, customer, kind, cards[-1])
    _calibrations(builder)


def _issue_with_identity_only(builder, customer, count):
    """Card swap day for ``count`` members who never had a card: an assigned RFID-SIM card
    issued with the identity application only (the rest is opened over the air). Returns the
    cards, or [] when there are not enough members or cards waiting."""
    members = list(Member.objects.filter(group_customer=customer, status=MemberStatus.ACTIVE,
                                         cards__isnull=True).order_by("pk")[:count])
    cards = list(Card.objects.filter(group_customer=customer, status=CardStatus.ASSIGNED,
                                     medium=CardMedium.RFID_SIM, member__isnull=True)
                 .order_by("number")[:count])
    if len(members) < count or len(cards) < count:
        return []
    issued = []
    for member, card in zip(members, cards, strict=True):
        issued.append(lifecycle.issue_card(actor=builder.admin, card=card, member=member,
                                           applications=[ApplicationKind.IDENTITY]))
        builder.summary.created["issued card"] += 1
    return issued


def _request(builder, admin, customer, kind, card):
    builder.summary.created["provisioning_job"] += 1
    return provisioning.request_application_opening(
        actor=admin, group_customer=customer, phone=card.member.phone, name=card.member.name,
        kind=kind)


def _calibrations(builder):
    phones = list(PhoneModel.objects.order_by("pk"))
    if not phones:
        return
    for customer in builder.customers.values():
        cards = (Card.objects.filter(group_customer=customer, status=CardStatus.ACTIVE,
                                     medium=CardMedium.RFID_SIM)
                 .exclude(pk__in=CalibrationRecord.objects.values("card_id")).order_by("pk"))
        if CalibrationRecord.objects.filter(card__group_customer=customer).exists():
            continue
        for number, card in enumerate(cards[:CALIBRATED]):
            phone = phones[number % len(phones)]
            if number == CALIBRATED - 1:  # the first try out of band, then a good one
                calibration.record_calibration(actor=None, card=card, phone_model=phone,
                                               measured_signal=phone.min_signal - 8,
                                               terminal_code="CAL-DEMO-1")
            calibration.record_calibration(actor=None, card=card, phone_model=phone,
                                           measured_signal=phone.default_threshold - number,
                                           terminal_code="CAL-DEMO-1")
            builder.summary.created["calibration"] += 1
