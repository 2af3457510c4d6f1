"""Credential-list versioning: every relevant change bumps the version; a delta query returns
exactly the changes after a version; concurrent publishers get gap-free unique versions."""

import threading

import pytest
from django.db import close_old_connections, connection, transaction

from onecard.cards import credentials
from onecard.cards.actions import lifecycle
from onecard.cards.models import Card, CredentialChange
from onecard.core.errors import TransitionRefused


def test_each_change_bumps_the_version_and_deltas_are_exact(world, cards):
    customer = world.customer_a.pk
    start = credentials.current_version(customer)
    assert start == 2  # two cards issued to customer A
    lifecycle.report_card_lost(actor=world.manager, card=cards.a0)
    lifecycle.suspend_card(actor=world.manager, card=cards.a1)
    lifecycle.unreport_card(actor=world.manager, card=cards.a0, identity_checked=True)
    assert credentials.current_version(customer) == start + 3
    delta = credentials.changes_since(customer, start + 1)
    assert [(c.version, c.card_id, c.state, c.card_status) for c in delta] == [
        (start + 2, cards.a1.pk, "deny", "suspended"),
        (start + 3, cards.a0.pk, "allow", "active")]
    assert credentials.changes_since(customer, start + 3) == []
    assert [c.version for c in credentials.changes_since(customer, 0, limit=2)] == [1, 2]
    # Customer B's list is its own.
    assert [c.version for c in credentials.changes_since(world.customer_b.pk, 0)] == [1]


def test_a_refused_change_does_not_bump_the_version(world, cards):
    version = credentials.current_version(world.customer_a.pk)
    with pytest.raises(TransitionRefused):
        lifecycle.resume_card(actor=world.manager, card=cards.a0)
    assert credentials.current_version(world.customer_a.pk) == version


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_publishers_get_gap_free_unique_versions(world, cards):
    card_ids = [cards.a0.pk, cards.a1.pk]
    errors = []
    per_thread = 10

    def publish_many(card_id):
        try:
            for _ in range(per_thread):
                with transaction.atomic():
                    credentials.publish(Card.objects.get(pk=card_id))
        except Exception as error:  # pragma: no cover - reported below
            errors.append(error)
        finally:
            close_old_connections()
            connection.close()

    threads = [threading.Thread(target=publish_many, args=(card_ids[i % 2],))
               for i in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    versions = list(CredentialChange.objects.filter(group_customer=world.customer_a)
                    .order_by("version").values_list("version", flat=True))
    assert versions == list(range(1, 2 + 6 * per_thread + 1))
