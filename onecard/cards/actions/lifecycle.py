"""Card actions: lifecycle (see actions/__init__.py and docs/cards.md).

Issue, loss report and un-report, suspend/resume (one member, or a whole group customer),
replace, delete an application, deregister, recover, and the carrier binding of RFID-SIM cards.

Invariants kept here:
- Every status change follows ``CARD_TRANSITIONS`` / ``APPLICATION_TRANSITIONS`` under row locks
  (member first, then cards in primary-key order) and writes a card event and an audit record in
  the same transaction (``_shared``).
- Every change a terminal must know about appends exactly one credential-list change per card.
- A member has at most one live card; an RFID-SIM card is bound to its member's number in the
  carrier register, and a phone number to at most one card.
- Money never moves here except through ONE linked ledger request on deregistration
  (``wallet.actions.deregister_purses``); a replacement moves none (purses belong to the member).
- The carrier adapter is called last, after every check and database write; if it fails, what
  it did is undone and the transaction rolls back: nothing is left half-bound.
- The member's phone is told (notification outbox, same transaction) of a loss report, an
  un-report, a replacement and a deregistration.
"""

from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from onecard.accounts.choices import Role
from onecard.core.errors import (
    DomainError,
    InvalidInput,
    NotAllowed,
    NotFound,
    TransitionRefused,
)
from onecard.core.locks import lock_many, lock_one
from onecard.core.transitions import require_transition
from onecard.notifications.actions import queue_notification
from onecard.organizations.choices import GroupCustomerStatus
from onecard.people.choices import MemberStatus
from onecard.people.models import Member

from .. import carrier, credentials
from ..choices import (
    APPLICATION_TRANSITIONS,
    CARD_TRANSITIONS,
    LIVE_STATUSES,
    PROVISIONING_TRANSITIONS,
    ApplicationKind,
    ApplicationStatus,
    BindingStatus,
    CardEventKind,
    CardMedium,
    CardStatus,
    ChipType,
    OpeningChannel,
    ProvisioningStatus,
    SuspensionScope,
)
from ..errors import (
    AlreadyRecovered,
    CardBoundElsewhere,
    CardElsewhere,
    IdentityNotChecked,
    MemberHasCard,
    MemberNotActive,
    NumberBoundElsewhere,
    NumberNotInRoster,
    PurseNotEmpty,
    SuspendedWithCustomer,
)
from ..models import Card, CardApplication, CarrierBinding, ProvisioningJob
from ..querysets import customers_changeable_by
from ._shared import check_plan, lock_card, record, transition

__all__ = [
    "CUSTOMER_SUSPENSION_ROLES",
    "deregister_card",
    "delete_application",
    "issue_card",
    "recover_card",
    "record_old_sim_recovered",
    "replace_card",
    "report_card_lost",
    "resume_card",
    "resume_group_customer_cards",
    "suspend_card",
    "suspend_group_customer_cards",
    "unreport_card",
]

MAX_REASON = 2000
# Who may suspend or resume every card of a group customer at once.
CUSTOMER_SUSPENSION_ROLES = {Role.OPERATOR_ADMIN, Role.CUSTOMER_MANAGER, Role.ENTERPRISE_ADMIN}
# The language of messages to members' phones (members have no language of their own yet).
MEMBER_LANGUAGE = "zh-hans"


# --- Helpers ----------------------------------------------------------------------------------


def _person(actor):
    return actor if getattr(actor, "pk", None) else None


def _clean_reason(reason, *, required=False):
    if reason is None:
        reason = ""
    if not isinstance(reason, str):
        raise InvalidInput({"reason": [_("Enter the reason as text.")]})
    reason = reason.strip()
    if len(reason) > MAX_REASON:
        raise InvalidInput({"reason": [_("A reason has at most %(max)s characters.")
                                       % {"max": MAX_REASON}]})
    if required and not reason:
        raise InvalidInput({"reason": [_("Give a reason.")]})
    return reason


def _refuse_members(actor):
    if getattr(actor, "role", None) == Role.MEMBER:
        raise NotAllowed(_("Only an administrator may do this; a member may only report their "
                           "own card lost."))


def _require_changer(actor, card):
    """The gatekeeper again, inside the action: a card out of the actor's reach is 'not found'."""
    if actor is None:
        return
    if not Card.objects.changeable_by(actor).filter(pk=card.pk).exists():
        raise NotFound(f"Card {card.pk}")


def _require_member_in_reach(actor, member):
    if actor is None:
        return
    if not customers_changeable_by(actor).filter(pk=member.group_customer_id).exists():
        raise NotFound(f"Member {member.pk}")


def _clean_kinds(applications, card):
    """The application kinds to open, deduplicated, in the order given."""
    if applications is None:
        return []
    if isinstance(applications, str | bytes) or not hasattr(applications, "__iter__"):
        raise InvalidInput({"applications": [_("Give a list of applications.")]})
    kinds = []
    for kind in applications:
        if not isinstance(kind, str) or kind not in ApplicationKind.values:
            raise InvalidInput({"applications": [
                _("Unknown application; choose from: %(kinds)s.")
                % {"kinds": ", ".join(ApplicationKind.values)}]})
        if kind not in kinds:
            kinds.append(kind)
    if ApplicationKind.PURSE in kinds and card.chip_type == ChipType.M1:
        raise InvalidInput({"applications": [_("An M1 card carries no purse (it is not secure "
                                                "enough for money).")]})
    return kinds


def _require_in_reach_of(card, customer, field):
    """A card is issued to a member of ``customer`` only from that customer's assigned cards or
    from the stock of its branch or a branch above it."""
    if card.group_customer_id is not None:
        if card.group_customer_id != customer.pk:
            raise CardElsewhere(field)
    elif not customer.branch.path.startswith(card.branch.path):
        raise CardElsewhere(field)


def _require_unbound(card, msisdn, field, *, replacing=None):
    """Refuse an RFID-SIM whose IMSI or the number is bound to another card already (other
    than the card it replaces)."""
    mine = [card.pk] + ([replacing.pk] if replacing is not None else [])
    bound = CarrierBinding.objects.filter(status=BindingStatus.BOUND).exclude(card__in=mine)
    if bound.filter(imsi=card.imsi).exists():
        raise CardBoundElsewhere(field)
    if bound.filter(msisdn=msisdn).exists():
        raise NumberBoundElsewhere()


def _resolve_member(card, member, msisdn):
    """The member a card goes to, given the member, their phone number, or both."""
    if msisdn is None or msisdn == "":
        if member is None:
            raise InvalidInput({"member": [_("Choose the member (or give their phone number).")]})
        return member
    if not isinstance(msisdn, str) or not (len(msisdn.strip()) == 11
                                           and msisdn.strip().isdigit()):
        raise InvalidInput({"msisdn": [_("Enter an 11-digit mobile number.")]})
    msisdn = msisdn.strip()
    if member is not None:
        if member.phone != msisdn:
            raise NumberNotInRoster()
        return member
    customer_id = Card.objects.filter(pk=card.pk).values_list("group_customer_id",
                                                              flat=True).first()
    if customer_id is None:
        raise InvalidInput({"member": [_("Choose the member: this card is not assigned to a "
                                         "group customer yet.")]})
    found = (Member.objects.filter(group_customer_id=customer_id, phone=msisdn)
             .exclude(status=MemberStatus.DEPARTED).first())
    if found is None:
        raise NumberNotInRoster()
    return found


def _open_locally(card, kinds, *, actor, check=True):
    """Open ``kinds`` on ``card`` at the counter (channel local, active at once)."""
    opened = []
    now = timezone.now()
    for kind in kinds:
        if check:
            check_plan(card.group_customer, kind)
        application = CardApplication.objects.create(
            card=card, group_customer_id=card.group_customer_id, kind=kind,
            status=ApplicationStatus.ACTIVE, channel=OpeningChannel.LOCAL,
            requested_by=_person(actor), opened_at=now,
        )
        record(card, CardEventKind.APPLICATION_OPENED, actor=actor, application=application,
               detail={"channel": OpeningChannel.LOCAL})
        opened.append(application)
    return opened


def _cancel_jobs(application):
    for job in ProvisioningJob.objects.select_for_update().filter(application=application).exclude(
            status__in=[s for s, targets in PROVISIONING_TRANSITIONS.items() if not targets]):
        require_transition(PROVISIONING_TRANSITIONS, ProvisioningStatus, job.status,
                           ProvisioningStatus.CANCELLED)
        job.status = ProvisioningStatus.CANCELLED
        job.save(update_fields=["status", "updated_at"])


def _delete_application(card, application, *, actor, reason=""):
    require_transition(APPLICATION_TRANSITIONS, ApplicationStatus, application.status,
                       ApplicationStatus.DELETED)
    _cancel_jobs(application)
    before = application.status
    application.status = ApplicationStatus.DELETED
    application.deleted_at = timezone.now()
    application.save(update_fields=["status", "deleted_at", "updated_at"])
    record(card, CardEventKind.APPLICATION_DELETED, actor=actor, reason=reason,
           application=application, detail={"from_status": before})


def _delete_all_applications(card, *, actor, reason=""):
    kinds = []
    applications = (CardApplication.objects.select_for_update().filter(card=card)
                    .exclude(status=ApplicationStatus.DELETED).order_by("pk"))
    for application in applications:
        if application.status == ApplicationStatus.ACTIVE:
            kinds.append(application.kind)
        _delete_application(card, application, actor=actor, reason=reason)
    return kinds


def _unbind_rows(card, *, actor, reason=""):
    """Mark the card's bound carrier bindings unbound (the carrier is told by the caller)."""
    now = timezone.now()
    for binding in CarrierBinding.objects.select_for_update().filter(
            card=card, status=BindingStatus.BOUND):
        binding.status = BindingStatus.UNBOUND
        binding.unbound_at = now
        binding.save(update_fields=["status", "unbound_at"])
        record(card, CardEventKind.UNBOUND, actor=actor, reason=reason,
               detail={"msisdn": binding.msisdn, "imsi": binding.imsi})


def _bind_row(card, msisdn, *, actor, old_imsi=""):
    binding = CarrierBinding.objects.create(card=card, msisdn=msisdn, imsi=card.imsi,
                                            old_imsi=old_imsi or "", actor=_person(actor))
    record(card, CardEventKind.BOUND, actor=actor,
           detail={"msisdn": msisdn, "imsi": card.imsi, "old_imsi": old_imsi or ""})
    return binding


def _finish_binding(binding, result):
    binding.carrier_reference = result.reference
    if result.old_imsi and not binding.old_imsi:
        binding.old_imsi = result.old_imsi
    binding.save(update_fields=["carrier_reference", "old_imsi"])


def _tail(card):
    return card.number[-4:]


def _notify(member, topic, message, values):
    """Queue ``message`` (English source, gettext) to ``member``'s phone in their language."""
    if member is None:
        return None
    with translation.override(MEMBER_LANGUAGE):
        body = _(message) % values
    return queue_notification(member=member, topic=topic, body=body)


# Message sources (marked for translation where they are defined, rendered in _notify).
LOST_MESSAGE = ("Your OneCard card ending %(tail)s was reported lost; every terminal now "
                "refuses it. If you did not ask for this, call your administrator.")
UNREPORTED_MESSAGE = ("Your OneCard card ending %(tail)s works again: the loss report was "
                      "withdrawn.")
REPLACED_MESSAGE = ("Your OneCard card ending %(old)s was replaced by the card ending %(new)s; "
                    "the old card no longer works. Your purse balance stays with you.")
DEREGISTERED_MESSAGE = ("Your OneCard card ending %(tail)s was deregistered and no longer "
                        "works. Any purse balance will be refunded to you.")


def _mark_messages():  # pragma: no cover - only for makemessages to see the sources
    _("Your OneCard card ending %(tail)s was reported lost; every terminal now "
      "refuses it. If you did not ask for this, call your administrator.")
    _("Your OneCard card ending %(tail)s works again: the loss report was withdrawn.")
    _("Your OneCard card ending %(old)s was replaced by the card ending %(new)s; "
      "the old card no longer works. Your purse balance stays with you.")
    _("Your OneCard card ending %(tail)s was deregistered and no longer "
      "works. Any purse balance will be refunded to you.")


# --- Issue ------------------------------------------------------------------------------------


@transaction.atomic
def issue_card(*, actor, card, member=None, msisdn=None, applications=(), phone_model=None):
    """Issue a card from stock (or assigned to the member's customer) to ``member`` (or the
    member whose roster number is ``msisdn``): in stock/assigned → active, bound to the member
    and the customer; an RFID-SIM gets the member's number and is bound to it in the carrier
    register (the number's previous SIM unbound). ``applications`` are opened locally.

    Refused: a member (role), a card not in the member's reach, a member who is not active or
    already has a live card, an unverified customer, an application not in the plan."""
    _refuse_members(actor)
    member = _resolve_member(card, member, msisdn)
    _require_member_in_reach(actor, member)
    member = lock_one(Member.objects.select_related("group_customer__branch"), member.pk)
    card = lock_card(card)
    _require_changer(actor, card)
    require_transition(CARD_TRANSITIONS, CardStatus, card.status, CardStatus.ACTIVE)
    kinds = _clean_kinds(applications, card)
    if member.status != MemberStatus.ACTIVE:
        raise MemberNotActive(MemberStatus(member.status).label)
    customer = member.group_customer
    if customer.status != GroupCustomerStatus.VERIFIED:
        raise DomainError(_("The group customer is not verified."), field="group_customer",
                          code="customer_not_verified")
    _require_in_reach_of(card, customer, "card")
    if Card.objects.filter(member=member, status__in=LIVE_STATUSES).exists():
        raise MemberHasCard()
    is_sim = card.medium == CardMedium.RFID_SIM
    if is_sim:
        _require_unbound(card, member.phone, "card")
    transition(card, CardStatus.ACTIVE, CardEventKind.ISSUED, actor=actor, publish=False,
               detail={"member": member.pk}, member=member, group_customer=customer,
               msisdn=member.phone if is_sim else "", issued_at=timezone.now(),
               suspension_scope=SuspensionScope.NONE,
               **({"phone_model": phone_model} if phone_model is not None else {}))
    _open_locally(card, kinds, actor=actor)
    binding = _bind_row(card, member.phone, actor=actor) if is_sim else None
    credentials.publish(card)
    if is_sim:  # last: the carrier cannot roll back with us
        result = carrier.swap(carrier.get_adapter(), msisdn=member.phone, new_imsi=card.imsi,
                              new_iccid=card.iccid)
        _finish_binding(binding, result)
    return card


# --- Loss report, suspension ------------------------------------------------------------------


@transaction.atomic
def report_card_lost(*, actor, card, reason=""):
    """active/suspended → lost (挂失). By an administrator, or by the member themself
    (self-service) for their own card. Tells the member's phone."""
    reason = _clean_reason(reason)
    card = lock_card(card)
    if getattr(actor, "role", None) == Role.MEMBER:
        if not actor.member_id or card.member_id != actor.member_id:
            raise NotFound(f"Card {card.pk}")
    else:
        _require_changer(actor, card)
    transition(card, CardStatus.LOST, CardEventKind.REPORTED_LOST, actor=actor, reason=reason,
               detail={"self_service": getattr(actor, "role", None) == Role.MEMBER},
               suspension_scope=SuspensionScope.NONE)
    _notify(card.member, "card.reported_lost", LOST_MESSAGE, {"tail": _tail(card)})
    return card


@transaction.atomic
def unreport_card(*, actor, card, identity_checked, reason=""):
    """lost → active (解挂), by an administrator who has checked the cardholder's identity."""
    _refuse_members(actor)
    reason = _clean_reason(reason)
    card = lock_card(card)
    _require_changer(actor, card)
    if card.status != CardStatus.LOST:  # the table allows suspended → active: that is resume
        raise TransitionRefused(_("Only a card reported lost can be un-reported; this card is "
                                  "“%(status)s”.") % {"status": CardStatus(card.status).label})
    if identity_checked is not True:
        raise IdentityNotChecked()
    transition(card, CardStatus.ACTIVE, CardEventKind.UNREPORTED, actor=actor, reason=reason,
               detail={"identity_checked": True})
    _notify(card.member, "card.unreported", UNREPORTED_MESSAGE, {"tail": _tail(card)})
    return card


@transaction.atomic
def suspend_card(*, actor, card, reason=""):
    """active → suspended (暂停), this member only."""
    _refuse_members(actor)
    reason = _clean_reason(reason)
    card = lock_card(card)
    _require_changer(actor, card)
    transition(card, CardStatus.SUSPENDED, CardEventKind.SUSPENDED, actor=actor, reason=reason,
               detail={"scope": SuspensionScope.MEMBER},
               suspension_scope=SuspensionScope.MEMBER)
    return card


@transaction.atomic
def resume_card(*, actor, card, reason=""):
    """suspended (this member) → active (恢复). A card suspended with its whole group customer
    is resumed with the customer."""
    _refuse_members(actor)
    reason = _clean_reason(reason)
    card = lock_card(card)
    _require_changer(actor, card)
    if card.status != CardStatus.SUSPENDED:  # lost → active is un-reporting, not resuming
        raise TransitionRefused(_("Only a suspended card can be resumed; this card is "
                                  "“%(status)s”.") % {"status": CardStatus(card.status).label})
    if card.suspension_scope == SuspensionScope.CUSTOMER:
        raise SuspendedWithCustomer()
    transition(card, CardStatus.ACTIVE, CardEventKind.RESUMED, actor=actor, reason=reason,
               detail={"scope": SuspensionScope.MEMBER},
               suspension_scope=SuspensionScope.NONE)
    return card


def _customer_cards(actor, group_customer, status, scope=None):
    if actor is not None and getattr(actor, "role", None) not in CUSTOMER_SUSPENSION_ROLES:
        raise NotAllowed(_("Only an operator admin, a customer manager or the enterprise admin "
                           "may suspend or resume a whole group customer's cards."))
    if actor is not None and not customers_changeable_by(actor).filter(
            pk=group_customer.pk).exists():
        raise NotFound(f"GroupCustomer {group_customer.pk}")
    cards = Card.objects.filter(group_customer=group_customer, status=status)
    if scope is not None:
        cards = cards.filter(suspension_scope=scope)
    pks = list(cards.values_list("pk", flat=True))
    return [card for card in lock_many(Card.objects.all(), pks).values()
            if card.status == status and (scope is None or card.suspension_scope == scope)]


@transaction.atomic
def suspend_group_customer_cards(*, actor, group_customer, reason):
    """Every active card of the customer → suspended, scope customer (集团整体暂停). One event,
    one audit record and one credential change per card. Returns the cards suspended."""
    reason = _clean_reason(reason, required=True)
    cards = _customer_cards(actor, group_customer, CardStatus.ACTIVE)
    for card in cards:
        transition(card, CardStatus.SUSPENDED, CardEventKind.SUSPENDED, actor=actor,
                   reason=reason, detail={"scope": SuspensionScope.CUSTOMER},
                   suspension_scope=SuspensionScope.CUSTOMER)
    return cards


@transaction.atomic
def resume_group_customer_cards(*, actor, group_customer, reason=""):
    """The cards suspended with the customer → active; cards suspended one by one (or lost
    since) stay as they are. Returns the cards resumed."""
    reason = _clean_reason(reason)
    cards = _customer_cards(actor, group_customer, CardStatus.SUSPENDED, SuspensionScope.CUSTOMER)
    for card in cards:
        transition(card, CardStatus.ACTIVE, CardEventKind.RESUMED, actor=actor, reason=reason,
                   detail={"scope": SuspensionScope.CUSTOMER},
                   suspension_scope=SuspensionScope.NONE)
    return cards


# --- Replace, delete application, deregister, recover ------------------------------------------


@transaction.atomic
def replace_card(*, actor, old_card, new_card, reason="", identity_checked=True):
    """Replace (补换卡) a live card by a new one from stock, for the same member.

    The old card → replaced (permanently revoked, ``replaced_by`` the new one), its applications
    deleted; the new card → active with the old card's active applications re-opened locally
    (no plan check: the member keeps what they had). No money moves: purses belong to the member,
    not the card. For an RFID-SIM, the member's number is bound to the new SIM and the old SIM
    unbound in the carrier register. Tells the member's phone."""
    _refuse_members(actor)
    reason = _clean_reason(reason)
    if identity_checked is not True:
        raise IdentityNotChecked()
    if old_card.pk == new_card.pk:
        raise InvalidInput({"new_card": [_("The new card must be another card.")]})
    member = None
    if old_card.member_id is not None:
        member = lock_one(Member.objects.select_related("group_customer__branch"),
                          old_card.member_id)
    locked = lock_many(Card.objects.all(), [old_card.pk, new_card.pk])
    if old_card.pk not in locked or new_card.pk not in locked:
        raise NotFound("Card")
    old, new = locked[old_card.pk], locked[new_card.pk]
    _require_changer(actor, old)
    _require_changer(actor, new)
    require_transition(CARD_TRANSITIONS, CardStatus, old.status, CardStatus.REPLACED)
    try:
        require_transition(CARD_TRANSITIONS, CardStatus, new.status, CardStatus.ACTIVE)
    except DomainError as refusal:
        raise InvalidInput({"new_card": [refusal.message]}, code="transition_refused")
    if member is None or old.member_id != member.pk:  # changed hands before the lock
        raise NotFound(f"Card {old.pk}")
    if member.status == MemberStatus.DEPARTED:
        raise MemberNotActive(MemberStatus(member.status).label)
    _require_in_reach_of(new, member.group_customer, "new_card")
    new_is_sim = new.medium == CardMedium.RFID_SIM
    if new_is_sim:
        _require_unbound(new, member.phone, "new_card", replacing=old)
    kinds = _delete_all_applications(old, actor=actor, reason=reason)
    if ApplicationKind.PURSE in kinds and new.chip_type == ChipType.M1:
        raise InvalidInput({"new_card": [_("An M1 card carries no purse; choose a CPU card or "
                                           "an RFID-SIM card.")]})
    transition(old, CardStatus.REPLACED, CardEventKind.REPLACED, actor=actor, reason=reason,
               publish=False, detail={"new_card": new.pk, "identity_checked": True},
               replaced_by=new, suspension_scope=SuspensionScope.NONE)
    _unbind_rows(old, actor=actor, reason=reason)
    transition(new, CardStatus.ACTIVE, CardEventKind.ISSUED, actor=actor, reason=reason,
               publish=False, detail={"member": member.pk, "replaces": old.pk},
               member=member, group_customer=member.group_customer,
               msisdn=member.phone if new_is_sim else "", issued_at=timezone.now(),
               suspension_scope=SuspensionScope.NONE, phone_model=old.phone_model)
    _open_locally(new, kinds, actor=actor, check=False)
    old_imsi = old.imsi if old.medium == CardMedium.RFID_SIM else ""
    binding = _bind_row(new, member.phone, actor=actor, old_imsi=old_imsi) if new_is_sim else None
    credentials.publish(old)
    credentials.publish(new)
    _notify(member, "card.replaced", REPLACED_MESSAGE, {"old": _tail(old), "new": _tail(new)})
    if new_is_sim or old_imsi:  # last: the carrier cannot roll back with us
        result = carrier.swap(carrier.get_adapter(), msisdn=member.phone,
                              new_imsi=new.imsi if new_is_sim else "",
                              new_iccid=new.iccid if new_is_sim else "", old_imsi=old_imsi)
        if binding is not None:
            _finish_binding(binding, result)
    return new


def _purse_accounts(member_id, *, lock=False):
    from onecard.wallet.choices import PURSE_KINDS
    from onecard.wallet.models import Account

    accounts = Account.objects.filter(member_id=member_id, kind__in=PURSE_KINDS)
    if lock:
        accounts = accounts.select_for_update()
    return list(accounts.order_by("pk"))


@transaction.atomic
def delete_application(*, actor, application, reason=""):
    """One application of a card → deleted (应用删除). The purse application is refused while
    the member's purses hold money (or have money on hold): refund or deregister first."""
    _refuse_members(actor)
    reason = _clean_reason(reason)
    card = lock_card(application.card)
    _require_changer(actor, card)
    application = lock_one(CardApplication.objects.all(), application.pk)
    require_transition(APPLICATION_TRANSITIONS, ApplicationStatus, application.status,
                       ApplicationStatus.DELETED)
    if application.kind == ApplicationKind.PURSE and card.member_id:
        accounts = _purse_accounts(card.member_id, lock=True)
        held = sum(a.balance for a in accounts)
        if held != 0 or any(a.debits_pending or a.credits_pending for a in accounts):
            raise PurseNotEmpty(held)
    _delete_application(card, application, actor=actor, reason=reason)
    if card.member_id and card.status in LIVE_STATUSES:
        credentials.publish(card)
    return application


def _clean_client_id(client_id):
    if not isinstance(client_id, str) or not 1 <= len(client_id) <= 64 or \
            not client_id.isprintable():
        raise InvalidInput({"client_id": [_("A client id is 1 to 64 printable characters.")]})
    return client_id


@transaction.atomic
def deregister_card(*, actor, card, client_id, reason="", recovered=False):
    """A live card → deregistered (注销): every application deleted; the member's purses
    emptied (purse to refunds payable, subsidy back to the customer) through ONE linked ledger
    request with ``client_id``; the SIM unbound from the number; ``recovered`` records that the
    card was handed back. Tells the member's phone. Money moves only if the member has purses,
    and only an operator admin, a customer manager or the enterprise admin may move it."""
    _refuse_members(actor)
    reason = _clean_reason(reason)
    client_id = _clean_client_id(client_id)
    if not isinstance(recovered, bool):
        raise InvalidInput({"recovered": [_("Answer yes or no.")]})
    member = None
    if card.member_id is not None:
        member = lock_one(Member.objects.all(), card.member_id)
    card = lock_card(card)
    _require_changer(actor, card)
    require_transition(CARD_TRANSITIONS, CardStatus, card.status, CardStatus.DEREGISTERED)
    _delete_all_applications(card, actor=actor, reason=reason)
    if member is None or card.member_id != member.pk:
        raise NotFound(f"Card {card.pk}")
    detail = {"client_id": client_id}
    if _purse_accounts(member.pk):
        from onecard.wallet.actions import deregister_purses

        result = deregister_purses(actor=actor, member=member, client_id=client_id)
        detail["refunded"] = sum(t.amount for t in result.transfers if t.leg == 0)
    now = timezone.now()
    transition(card, CardStatus.DEREGISTERED, CardEventKind.DEREGISTERED, actor=actor,
               reason=reason, publish=False, detail=detail,
               suspension_scope=SuspensionScope.NONE,
               **({"recovered_at": now} if recovered else {}))
    if recovered:
        record(card, CardEventKind.RECOVERED, actor=actor, reason=reason)
    _unbind_rows(card, actor=actor, reason=reason)
    credentials.publish(card)
    _notify(member, "card.deregistered", DEREGISTERED_MESSAGE, {"tail": _tail(card)})
    if card.medium == CardMedium.RFID_SIM and card.imsi:  # last: the carrier is remote
        carrier.swap(carrier.get_adapter(), msisdn=card.msisdn or member.phone,
                     old_imsi=card.imsi)
    return card


@transaction.atomic
def recover_card(*, actor, card, reason=""):
    """Record that a replaced or deregistered card was handed back (回收)."""
    _refuse_members(actor)
    reason = _clean_reason(reason)
    card = lock_card(card)
    _require_changer(actor, card)
    if card.status not in (CardStatus.REPLACED, CardStatus.DEREGISTERED):
        raise DomainError(
            _("Only a replaced or deregistered card is recovered; this card is “%(status)s”.")
            % {"status": CardStatus(card.status).label}, field="status",
            code="transition_refused")
    if card.recovered_at is not None:
        raise AlreadyRecovered()
    card.recovered_at = timezone.now()
    card.save(update_fields=["recovered_at", "updated_at"])
    record(card, CardEventKind.RECOVERED, actor=actor, reason=reason,
           before={"recovered_at": None})
    return card


@transaction.atomic
def record_old_sim_recovered(*, actor, binding, reason=""):
    """Record that the SIM a binding replaced (``old_imsi``) was handed back on the swap."""
    _refuse_members(actor)
    reason = _clean_reason(reason)
    card = lock_card(binding.card)
    _require_changer(actor, card)
    binding = lock_one(CarrierBinding.objects.all(), binding.pk)
    if not binding.old_imsi:
        raise DomainError(_("This binding replaced no SIM."), field="binding",
                          code="no_old_sim")
    if binding.old_sim_recovered_at is not None:
        raise AlreadyRecovered()
    binding.old_sim_recovered_at = timezone.now()
    binding.save(update_fields=["old_sim_recovered_at"])
    record(card, CardEventKind.RECOVERED, actor=actor, reason=reason,
           detail={"old_imsi": binding.old_imsi}, before={"old_sim_recovered_at": None})
    return binding
