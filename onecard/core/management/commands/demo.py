"""``onecard demo``: load idempotent demo data and print the demo log-ins."""

import time
import unicodedata

from django.core.management.base import BaseCommand

from onecard.demo import MEMBERS_PER_CUSTOMER, load_demo


def _width(text):
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _pad(text, width):
    return text + " " * max(width - _width(text), 0)


class Command(BaseCommand):
    help = ("Load demo data (an operator, branches, partners, two group customers with members "
            "and a log-in per role). Safe to run again: nothing is duplicated.")

    def add_arguments(self, parser):
        parser.add_argument("--members", type=int, default=MEMBERS_PER_CUSTOMER,
                            help="Members per group customer (default %(default)s).")

    def handle(self, *args, **options):
        started = time.monotonic()
        summary = load_demo(members_per_customer=max(1, options["members"]))
        elapsed = time.monotonic() - started
        if summary.created:
            made = ", ".join(f"{count} {kind}" for kind, count in sorted(summary.created.items()))
            self.stdout.write(f"Demo data loaded in {elapsed:.1f} s: created {made}.")
        else:
            self.stdout.write(f"Demo data already present; nothing to create ({elapsed:.1f} s).")
        from onecard.wallet.verify import verify_ledger

        ledger = verify_ledger()
        self.stdout.write(
            f"Ledger verify: {'ok' if ledger.ok else 'FAILED'} ({ledger.accounts} accounts, "
            f"{ledger.transfers} transfers)."
        )
        rows = [("username", "role", "scope")]
        rows += [(login.username, login.role, login.scope) for login in summary.logins]
        widths = [max(_width(row[i]) for row in rows) for i in range(2)]
        self.stdout.write("")
        for index, (username, role, scope) in enumerate(rows):
            line = f"  {_pad(username, widths[0])}  {_pad(role, widths[1])}  {scope}"
            self.stdout.write(self.style.MIGRATE_HEADING(line) if index == 0 else line)
        self.stdout.write("")
        self.stdout.write(self.style.SUCCESS(
            f"Password for every demo account: {summary.password}"
        ))
        self.stdout.write("Demo data is for trying OneCard out; do not load it in production.")
