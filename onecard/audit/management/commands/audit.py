"""``onecard audit verify``: recompute every audit chain and report tampering."""

from django.core.management.base import BaseCommand, CommandError

from onecard.audit.actions import verify_audit_log


class Command(BaseCommand):
    help = "Audit log tools. 'verify' recomputes every hash chain."

    def add_arguments(self, parser):
        parser.add_argument("operation", choices=["verify"])

    def handle(self, *args, **options):
        report = verify_audit_log()
        for problem in report.problems:
            self.stderr.write(problem)
        summary = f"{report.checked} record(s) in {report.chains} chain(s)"
        if not report.ok:
            raise CommandError(f"audit log FAILED verification: {len(report.problems)} "
                               f"problem(s) in {summary}")
        self.stdout.write(self.style.SUCCESS(f"audit log OK: {summary}"))
