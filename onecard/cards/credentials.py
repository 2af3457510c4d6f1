"""The credential list: what every terminal of a group customer must accept or refuse.

Every action that changes what a terminal must do with a card calls ``publish(card)`` inside its
transaction. It locks the customer's ``CredentialList`` row, takes the next version and appends
one ``CredentialChange`` with the card's state now. Because the lock serialises publishers, the
versions of one customer are gap-free and become visible in version order, so
``changes_since(customer, n)`` returns exactly what changed after version ``n``.

Terminals sync by cursor (the terminal gateway serves this): deltas after their version, or a
full ``snapshot`` when their version is older than what the deltas still explain (never, today:
deltas are kept for ever; ``oldest_delta_version`` is where compaction would move the floor).
"""

from django.db import transaction

from .choices import ApplicationStatus, CardStatus, CredentialState
from .models import Card, CardApplication, CredentialChange, CredentialList


def state_of(card):
    """``allow`` for an active card, ``deny`` for everything a terminal must refuse."""
    return CredentialState.ALLOW if card.status == CardStatus.ACTIVE else CredentialState.DENY


def active_applications(card):
    return sorted(CardApplication.objects.filter(card=card, status=ApplicationStatus.ACTIVE)
                  .values_list("kind", flat=True))


def publish(card):
    """Append the card's current state to its group customer's list; return the new change.

    Must run inside the caller's transaction (the change commits with the action)."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("credentials.publish must run inside the action's transaction.")
    customer_id = card.group_customer_id
    CredentialList.objects.get_or_create(group_customer_id=customer_id)
    head = CredentialList.objects.select_for_update().get(group_customer_id=customer_id)
    head.version += 1
    head.save(update_fields=["version", "updated_at"])
    return CredentialChange.objects.create(
        group_customer_id=customer_id, version=head.version, card=card,
        card_number=card.number, state=state_of(card), card_status=card.status,
        applications=active_applications(card),
    )


def current_version(group_customer_id):
    head = CredentialList.objects.filter(group_customer_id=group_customer_id).first()
    return head.version if head else 0


def oldest_delta_version(group_customer_id):
    """The oldest version a delta sync can start from (older cursors need a snapshot)."""
    return 0


def changes_since(group_customer_id, version, *, limit=None):
    """The changes after ``version``, oldest first (at most ``limit``)."""
    changes = CredentialChange.objects.filter(group_customer_id=group_customer_id,
                                              version__gt=version).order_by("version")
    return list(changes[:limit] if limit else changes)


def snapshot(group_customer_id):
    """``(version, cards)``: every card of the customer that a terminal must know about (live
    cards and revoked ones that have not been scrapped), with its state, as of ``version``."""
    with transaction.atomic():
        version = current_version(group_customer_id)
        cards = list(
            Card.objects.filter(group_customer_id=group_customer_id, member__isnull=False)
            .exclude(status=CardStatus.SCRAPPED).order_by("id")
        )
    return version, cards
