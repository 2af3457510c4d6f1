"""Send the due notifications of the outbox through the configured delivery adapter."""

from django.core.management.base import BaseCommand

from onecard.notifications.actions import deliver_pending
from onecard.notifications.choices import NotificationStatus


class Command(BaseCommand):
    help = "Send queued notifications (SMS) through ONECARD_SMS_ADAPTER, with retries."

    def add_arguments(self, parser):
        parser.add_argument("--limit", type=int, default=500,
                            help="At most this many notifications in one run.")

    def handle(self, *args, limit, **options):
        handled = deliver_pending(limit=max(1, limit))
        sent = sum(1 for n in handled if n.status == NotificationStatus.SENT)
        self.stdout.write(f"{len(handled)} handled, {sent} sent, "
                          f"{len(handled) - sent} to retry or failed.")
