"""The one access decision every door controller request goes through.

Today the rule is the card's state only: an active card with an active door-access application
of the door's group customer is let in; anything else is refused with the reason. The
access-control issue extends ``decide_access`` (schedules, zones, anti-passback) here, so the
protocol view and the offline sync keep calling this one function.
"""

from dataclasses import dataclass

from onecard.cards.choices import ApplicationKind, ApplicationStatus, CardStatus


@dataclass(frozen=True)
class Decision:
    decision: str  # "allow" | "deny"
    reason: str

    @property
    def allowed(self):
        return self.decision == "allow"


CARD_STATE_REASONS = {
    CardStatus.LOST: "card_lost",
    CardStatus.SUSPENDED: "card_suspended",
    CardStatus.REPLACED: "card_revoked",
    CardStatus.DEREGISTERED: "card_revoked",
    CardStatus.SCRAPPED: "card_revoked",
}


def card_refusal(card, group_customer_id):
    """Why a terminal of ``group_customer_id`` must refuse ``card`` whatever it is for, or
    None: unknown (or not issued, or another customer's), lost, suspended, revoked."""
    if card is None or card.member_id is None or card.group_customer_id != group_customer_id:
        return "unknown_card"
    if card.status == CardStatus.ACTIVE:
        return None
    return CARD_STATE_REASONS.get(card.status, "unknown_card")


def decide_access(terminal, card, direction, at):
    """Whether ``card`` may pass ``terminal`` (a door) in ``direction`` ("in"/"out") at ``at``."""
    refusal = card_refusal(card, terminal.group_customer_id)
    if refusal:
        return Decision("deny", refusal)
    if getattr(card, "checked_application", None) == ApplicationKind.ACCESS:
        has_access = card.has_application  # read with the card by the gateway
    else:
        has_access = card.applications.filter(kind=ApplicationKind.ACCESS,
                                              status=ApplicationStatus.ACTIVE).exists()
    if not has_access:
        return Decision("deny", "no_access_application")
    return Decision("allow", "card_active")
