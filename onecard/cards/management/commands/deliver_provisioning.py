"""``manage.py deliver_provisioning``: one delivery pass of over-the-air openings (for cron,
e.g. every minute). Expires overdue jobs, sends due ones through the configured channel
(``settings.ONECARD_OTA_CHANNEL``) and prints what happened."""

from django.core.management.base import BaseCommand

from onecard.cards.actions.provisioning import deliver_provisioning_jobs


class Command(BaseCommand):
    help = "Deliver due over-the-air application openings once (run it from cron)."

    def add_arguments(self, parser):
        parser.add_argument("--limit", type=int, default=500,
                            help="At most this many due jobs in this pass.")

    def handle(self, *args, **options):
        counts = deliver_provisioning_jobs(limit=max(1, options["limit"]))
        self.stdout.write(", ".join(f"{name} {count}" for name, count in counts.items()))
