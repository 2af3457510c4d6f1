"""Delivery adapters: how a queued notification reaches the member's phone.

An adapter has one call, ``send(phone, body) -> reference``, and raises ``DeliveryError`` when
the gateway refuses or cannot be reached (the outbox retries later). ``LocalAdapter`` is used
where no SMS gateway is connected: it writes the message to the log (logger
``onecard.notifications``) and the outbox row itself keeps it, marked sent, with a local
reference. ``settings.ONECARD_SMS_ADAPTER`` is the dotted path of the adapter class.
"""

import logging
import uuid

from django.conf import settings
from django.utils.module_loading import import_string

logger = logging.getLogger("onecard.notifications")


class DeliveryError(Exception):
    """The gateway refused the message or could not be reached; try again later."""


class DeliveryAdapter:
    """The interface an SMS gateway is reached through."""

    def send(self, phone, body):
        """Hand ``body`` to the gateway for ``phone``; return the gateway's reference."""
        raise NotImplementedError


class LocalAdapter(DeliveryAdapter):
    """Records the message in the log instead of sending it."""

    def send(self, phone, body):
        reference = f"local-{uuid.uuid4().hex[:16]}"
        logger.info("SMS to %s (%s): %s", phone, reference, body)
        return reference


def get_adapter():
    path = getattr(settings, "ONECARD_SMS_ADAPTER",
                   "onecard.notifications.adapters.LocalAdapter")
    return import_string(path)()
