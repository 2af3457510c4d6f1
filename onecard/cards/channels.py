"""The over-the-air delivery channel: how a provisioning job reaches the card.

The interface (what ``actions.provisioning.deliver_provisioning_jobs`` needs):

- ``channel.send(job) -> str``: hand the job's application to the operator's channel and answer
  the channel's reference for it (at most 64 characters). Raise ``ChannelError`` (with a short
  message) when the channel refuses or cannot be reached; the job is then retried with backoff.
  ``send`` runs outside any database transaction and may be slow. It must be idempotent on
  ``job.pk``: a worker that crashes after sending and before recording sends again later.
- ``channel.confirms_on_send`` (bool): True when a successful ``send`` is itself the proof of
  receipt (the local channel). Otherwise the channel reports later, by calling
  ``actions.confirm_delivery(job=..., success=..., detail=...)`` (through the API's confirm
  endpoint or its own receiver), when the card's proof of receipt (PoR) arrives.

A real adapter speaks GlobalPlatform card content management (INSTALL / STORE DATA) wrapped in
SCP80 secured packets carried by SMS-PP (ETSI TS 102 225, 3GPP TS 31.115), with the PoR as the
receipt (``/work/shared/reference/card-and-terminal-standards.md`` §3). None is built here.

``LocalChannel`` stands in for development, the demo and the simulator: it answers a local
reference and confirms at once, or fails at ``failure_rate`` (0.0–1.0, seeded for tests).

``get_channel()`` builds the channel named by ``settings.ONECARD_OTA_CHANNEL`` (a dotted path
to a class taking no arguments; default the local channel).
"""

import random

from django.conf import settings
from django.utils.module_loading import import_string


class ChannelError(Exception):
    """The channel could not take the job this time; the message is kept as ``last_error``."""


class LocalChannel:
    """A channel that delivers nowhere: every send succeeds (and counts as delivered), except a
    ``failure_rate`` share that raises ``ChannelError``."""

    confirms_on_send = True

    def __init__(self, failure_rate=0.0, seed=None):
        if not 0.0 <= failure_rate <= 1.0:
            raise ValueError("failure_rate is between 0 and 1")
        self.failure_rate = failure_rate
        self._random = random.Random(seed)
        self.sent = []

    def send(self, job):
        if self.failure_rate and self._random.random() < self.failure_rate:
            raise ChannelError("local channel: simulated delivery failure")
        self.sent.append(job.pk)
        return f"local-{job.pk}-{job.attempts}"


DEFAULT_CHANNEL = "onecard.cards.channels.LocalChannel"


def get_channel():
    """The configured channel (``settings.ONECARD_OTA_CHANNEL``)."""
    return import_string(getattr(settings, "ONECARD_OTA_CHANNEL", DEFAULT_CHANNEL))()
