"""The notification outbox: queued with the change, delivered later with retries, scoped API."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import transaction
from django.utils import timezone

from onecard.audit.models import AuditRecord
from onecard.notifications import actions
from onecard.notifications.adapters import DeliveryAdapter, DeliveryError, LocalAdapter
from onecard.notifications.models import Notification


class FlakyAdapter(DeliveryAdapter):
    def __init__(self, failures):
        self.failures = failures
        self.sent = []

    def send(self, phone, body):
        if self.failures:
            self.failures -= 1
            raise DeliveryError("gateway busy")
        self.sent.append((phone, body))
        return f"gw-{len(self.sent)}"


def queue(world, member=None, body="hello"):
    with transaction.atomic():
        return actions.queue_notification(member=member or world.members_a[0], topic="test",
                                          body=body)


def test_a_rolled_back_change_sends_nothing(world):
    with pytest.raises(RuntimeError):
        with transaction.atomic():
            actions.queue_notification(member=world.members_a[0], topic="t", body="x")
            raise RuntimeError("the change failed")
    assert Notification.objects.count() == 0


def test_delivery_sends_through_the_adapter(world):
    note = queue(world)
    assert (note.phone, note.group_customer_id, note.status) == (
        world.members_a[0].phone, world.customer_a.pk, "queued")
    adapter = FlakyAdapter(0)
    handled = actions.deliver_pending(adapter=adapter)
    assert [n.pk for n in handled] == [note.pk]
    note.refresh_from_db()
    assert (note.status, note.attempts, note.adapter_reference) == ("sent", 1, "gw-1")
    assert adapter.sent == [(world.members_a[0].phone, "hello")]
    assert AuditRecord.objects.filter(action="notification.sent").count() == 1
    assert actions.deliver_pending(adapter=adapter) == []  # nothing sent twice


def test_failures_are_retried_with_backoff_then_given_up(world):
    note = queue(world)
    now = timezone.now()
    adapter = FlakyAdapter(100)
    actions.deliver_pending(now=now, adapter=adapter)
    note.refresh_from_db()
    assert (note.status, note.attempts, note.last_error) == ("retrying", 1, "gateway busy")
    assert note.next_attempt_at == now + timedelta(minutes=1)
    assert actions.deliver_pending(now=now, adapter=adapter) == []  # not due yet
    for _attempt in range(2, actions.MAX_ATTEMPTS + 1):
        now += timedelta(hours=1)
        actions.deliver_pending(now=now, adapter=adapter)
    note.refresh_from_db()
    assert (note.status, note.attempts) == ("failed", actions.MAX_ATTEMPTS)
    assert actions.deliver_pending(now=now + timedelta(days=1), adapter=adapter) == []


def test_retry_succeeds(world):
    note = queue(world)
    adapter = FlakyAdapter(1)
    now = timezone.now()
    actions.deliver_pending(now=now, adapter=adapter)
    actions.deliver_pending(now=now + timedelta(minutes=2), adapter=adapter)
    note.refresh_from_db()
    assert (note.status, note.attempts) == ("sent", 2)


def test_local_adapter_and_command(world, caplog):
    queue(world, body="你的卡已挂失")
    assert LocalAdapter().send("13900000000", "x").startswith("local-")
    out = StringIO()
    with caplog.at_level("INFO", logger="onecard.notifications"):
        call_command("deliver_notifications", stdout=out)
    assert out.getvalue().strip() == "1 handled, 1 sent, 0 to retry or failed."
    assert "你的卡已挂失" in caplog.text
    assert Notification.objects.get().status == "sent"


def test_api_is_scoped(world, api_as):
    a = queue(world)
    b = queue(world, member=world.members_b[0])
    ids = lambda user: [n["id"] for n in api_as(user).get(  # noqa: E731
        "/api/v1/notifications/").json()["results"]]
    assert ids(world.ent_admin_a) == [a.pk]
    assert ids(world.ent_admin_b) == [b.pk]
    assert ids(world.admin) == [b.pk, a.pk]
    assert ids(world.member_user_a) == []
    assert api_as(world.ent_admin_a).get(f"/api/v1/notifications/{b.pk}/").status_code == 404
    assert api_as(world.ent_admin_a).get(
        "/api/v1/notifications/?status=nonsense").status_code == 400
