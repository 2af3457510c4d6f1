"""``onecard ledger verify [--group-customer ID]``: recompute the books; non-zero exit on drift."""

from django.core.management.base import BaseCommand, CommandError

from onecard.wallet.verify import verify_ledger


class Command(BaseCommand):
    help = "Wallet ledger tools. `ledger verify` recomputes every balance from the transfers."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="subcommand", required=True)
        verify = sub.add_parser("verify", help="Recompute balances; exit 1 if any account drifts.")
        verify.add_argument("--group-customer", type=int, default=None)

    def handle(self, *args, **options):
        report = verify_ledger(options.get("group_customer"))
        self.stdout.write(f"Checked {report.accounts} accounts and {report.transfers} transfers.")
        self.stdout.write(f"Σ debits = {report.total_debits} fen, Σ credits = "
                          f"{report.total_credits} fen.")
        for pk, label, name, stored, computed in report.drift:
            self.stdout.write(f"DRIFT account {pk} ({label}): {name} stored {stored}, "
                              f"transfers give {computed}")
        for pk, label, available, floor in report.below_floor:
            self.stdout.write(f"BELOW FLOOR account {pk} ({label}): {available} < {floor}")
        if not report.ok:
            raise CommandError(f"Ledger does not verify: {len(report.drift)} drifting totals, "
                               f"{len(report.below_floor)} accounts below their floor.")
        self.stdout.write(self.style.SUCCESS("Ledger verifies: books balance, no drift."))
