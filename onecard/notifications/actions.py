"""Actions on the notification outbox.

``queue_notification`` is a building block: it runs inside the transaction of the action whose
change it reports (a rolled-back change sends nothing). ``deliver_pending`` runs later (the
``deliver_notifications`` command, a scheduler): it hands each due notification to the delivery
adapter, one transaction per notification, and retries with a growing delay up to
``MAX_ATTEMPTS`` before giving up (``failed``). Each status change writes an audit record.
"""

import logging
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from onecard.audit.actions import write_audit
from onecard.core.errors import InvalidInput
from onecard.core.transitions import require_transition

from . import adapters
from .choices import NOTIFICATION_TRANSITIONS, NotificationStatus
from .models import Notification

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 5
# Delay before attempt n+1 after n failures: 1, 2, 4, 8 minutes...
FIRST_RETRY_DELAY = timedelta(minutes=1)
MAX_BODY = 500


def queue_notification(*, member, topic, body, phone=None, group_customer=None):
    """Put one message to ``member``'s phone (or ``phone``) in the outbox; return it.

    Must run inside the caller's transaction, like the audit record."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("queue_notification must run inside the action's transaction.")
    phone = phone or (member.phone if member is not None else "")
    if not phone:
        raise InvalidInput({"phone": ["A notification needs a phone number."]})
    customer_id = (group_customer.pk if group_customer is not None
                   else getattr(member, "group_customer_id", None))
    return Notification.objects.create(
        group_customer_id=customer_id, member=member, phone=phone, topic=topic[:64],
        body=str(body)[:MAX_BODY],
    )


def _move(notification, target, **fields):
    require_transition(NOTIFICATION_TRANSITIONS, NotificationStatus, notification.status, target)
    before = notification.status
    notification.status = target
    for name, value in fields.items():
        setattr(notification, name, value)
    notification.save(update_fields=["status", *fields])
    write_audit(actor=None, action=f"notification.{target}", obj=notification,
                group_customer_id=notification.group_customer_id,
                before={"status": before},
                after={"status": target, "attempts": notification.attempts,
                       **({"error": notification.last_error} if target != "sent" else {})})


def _is_due(notification, now):
    return (notification.status in (NotificationStatus.QUEUED, NotificationStatus.RETRYING)
            and (notification.next_attempt_at is None or notification.next_attempt_at <= now))


def _deliver_one(pk, adapter, now):
    with transaction.atomic():
        notification = (Notification.objects.select_for_update()
                        .filter(pk=pk).first())
        if notification is None or not _is_due(notification, now):
            return None  # another worker took it
        attempts = notification.attempts + 1
        try:
            reference = adapter.send(notification.phone, notification.body)
        except Exception as error:  # any gateway failure is retried, never lost
            logger.warning("notification %s not delivered (attempt %s): %s", pk, attempts,
                           error)
            message = str(error)[:255] or error.__class__.__name__
            if attempts >= MAX_ATTEMPTS:
                _move(notification, NotificationStatus.FAILED, attempts=attempts,
                      last_error=message, next_attempt_at=None)
            else:
                _move(notification, NotificationStatus.RETRYING, attempts=attempts,
                      last_error=message,
                      next_attempt_at=now + FIRST_RETRY_DELAY * 2 ** (attempts - 1))
            return notification
        _move(notification, NotificationStatus.SENT, attempts=attempts,
              adapter_reference=str(reference or "")[:64], sent_at=now, next_attempt_at=None)
        return notification


def deliver_pending(now=None, adapter=None, *, limit=500):
    """Send every due notification (oldest first, at most ``limit``) through ``adapter`` (the
    configured one by default). Returns the notifications handled, in their new state."""
    now = now or timezone.now()
    adapter = adapter or adapters.get_adapter()
    pks = list(Notification.objects.due(now).order_by("id").values_list("pk", flat=True)[:limit])
    handled = []
    for pk in pks:
        notification = _deliver_one(pk, adapter, now)
        if notification is not None:
            handled.append(notification)
    return handled
