"""The cards demo: cards issued and one example of each lifecycle operation, idempotent, and the
ledger still verifies."""

import pytest

from onecard.cards.models import Card, CardEvent, CredentialChange
from onecard.demo import load_demo
from onecard.wallet.verify import verify_ledger

pytestmark = pytest.mark.django_db


def test_demo_issues_cards_with_examples_and_a_rerun_changes_nothing():
    load_demo(members_per_customer=12)
    statuses = set(Card.objects.filter(member__isnull=False).values_list("status", flat=True))
    assert statuses == {"active", "lost", "suspended", "replaced", "deregistered"}
    assert Card.objects.filter(member__isnull=False, medium="ic_card").exists()
    assert verify_ledger().ok
    counts = (Card.objects.filter(member__isnull=False).count(), CardEvent.objects.count(),
              CredentialChange.objects.count())
    load_demo(members_per_customer=12)
    assert (Card.objects.filter(member__isnull=False).count(), CardEvent.objects.count(),
            CredentialChange.objects.count()) == counts
