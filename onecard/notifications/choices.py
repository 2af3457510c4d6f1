"""Choice sets and lifecycle table of the notifications app."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class NotificationStatus(models.TextChoices):
    # Written in the same transaction as the change it tells about; not yet handed over.
    QUEUED = "queued", _("Queued")  # 待发送
    SENT = "sent", _("Sent")  # 已发送
    # The delivery adapter refused it this time; retried while attempts remain.
    RETRYING = "retrying", _("Retrying")  # 重试中
    FAILED = "failed", _("Failed")  # 发送失败


NOTIFICATION_TRANSITIONS = {
    NotificationStatus.QUEUED: {NotificationStatus.SENT, NotificationStatus.RETRYING,
                                NotificationStatus.FAILED},
    NotificationStatus.RETRYING: {NotificationStatus.SENT, NotificationStatus.RETRYING,
                                  NotificationStatus.FAILED},
    NotificationStatus.SENT: set(),
    NotificationStatus.FAILED: set(),
}
