"""Record SLA breaches in ticket histories (run it every few minutes from cron or a scheduler).

Breach flags are computed on every read anyway; this writes one ``sla_breached`` history row and
audit record per ticket and SLA kind the first time it is seen, so the history shows when.
"""

from django.core.management.base import BaseCommand

from onecard.service.actions import record_sla_breaches


class Command(BaseCommand):
    help = "Record newly breached SLA deadlines in the tickets' history (idempotent)."

    def handle(self, *args, **options):
        recorded = record_sla_breaches(actor=None)
        self.stdout.write(f"recorded {recorded} SLA breach(es)")
