"""Notifications: an outbox of messages to members' phones, delivered through an adapter.

Invariants: a notification is written in the same transaction as the change it reports (so a
rolled-back change sends nothing); delivery happens later, outside that transaction, through the
configured adapter (a local one records messages where no SMS gateway is connected); status
changes only through actions following ``NOTIFICATION_TRANSITIONS``.
"""

from django.db import models

from .choices import NotificationStatus
from .querysets import NotificationQuerySet


class Notification(models.Model):
    """One message to one phone number."""

    group_customer = models.ForeignKey("organizations.GroupCustomer", null=True, blank=True,
                                       on_delete=models.PROTECT, related_name="+")
    member = models.ForeignKey("people.Member", null=True, blank=True, on_delete=models.PROTECT,
                               related_name="notifications")
    phone = models.CharField(max_length=11)
    topic = models.CharField(max_length=64)
    body = models.TextField()
    status = models.CharField(max_length=16, choices=NotificationStatus.choices,
                              default=NotificationStatus.QUEUED)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    adapter_reference = models.CharField(max_length=64, blank=True, default="")
    last_error = models.CharField(max_length=255, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    objects = NotificationQuerySet.as_manager()

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["status", "next_attempt_at"])]

    def __str__(self):
        return f"{self.topic} -> {self.phone} ({self.status})"
