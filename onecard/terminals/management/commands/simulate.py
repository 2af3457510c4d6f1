"""``onecard simulate``: a fleet of simulated terminals against a running server.

    onecard simulate --url http://127.0.0.1:8000 --pos 20 --doors 50 --clocks 10 --minutes 1

Runs after ``python3 bootstrap.py serve`` (or ``onecard up``) in the same project: it registers
the fleet and issues its one-time enrolment codes in this database (``DATABASE_URL``), then every
simulated terminal enrols over HTTP and runs a simulated day (``onecard.terminals.simulator``).
Then it retires the simulated terminals (``--keep-terminals`` keeps them), and recomputes the
ledger (``ledger verify``) and the audit chains in-process. The exit code is non-zero if any
answer was unexpected or a check failed.
"""

import json

from django.core.management.base import BaseCommand, CommandError

from onecard.organizations.models import GroupCustomer


class Command(BaseCommand):
    help = "Simulate a fleet of terminals (POS, doors, clocks, top-up machines) for a while."

    def add_arguments(self, parser):
        parser.add_argument("--url", default="http://127.0.0.1:8000",
                            help="the running server (default http://127.0.0.1:8000)")
        parser.add_argument("--customer", default=None,
                            help="group customer code (default: the one with the most purses)")
        parser.add_argument("--pos", type=int, default=20)
        parser.add_argument("--doors", type=int, default=50)
        parser.add_argument("--clocks", type=int, default=10)
        parser.add_argument("--topups", type=int, default=2)
        parser.add_argument("--minutes", type=float, default=1.0, help="real minutes to run")
        parser.add_argument("--speed", type=float, default=None,
                            help="simulated seconds per real second (default: one simulated "
                                 "day in the run)")
        parser.add_argument("--load", type=float, default=1.0,
                            help="multiplies every terminal's event rate")
        parser.add_argument("--drop-rate", type=float, default=0.02)
        parser.add_argument("--batch", type=int, default=100,
                            help="offline records per upload (at most 500)")
        parser.add_argument("--no-faults", action="store_true",
                            help="no drops, no offline terminal, no clock skew")
        parser.add_argument("--seed", type=int, default=2026)
        parser.add_argument("--max-in-flight", type=int, default=None,
                            help="bound the fleet's requests in flight (1 for a test server "
                                 "that shares one database connection between threads)")
        parser.add_argument("--json", default=None, help="also write the summary to this file")
        parser.add_argument("--skip-audit", action="store_true",
                            help="skip the audit chain check at the end")
        parser.add_argument("--keep-terminals", action="store_true",
                            help="leave the simulated terminals enrolled (default: retire them)")

    def handle(self, *args, **options):
        from onecard.terminals.fleet import busiest_customer, prepare_fleet, retire_fleet
        from onecard.terminals.simulator import SimulationConfig, run_simulation

        if not 1 <= options["batch"] <= 500:
            raise CommandError("--batch must be from 1 to 500 (the protocol's upload limit)")
        if options["minutes"] <= 0 or min(options["pos"], options["doors"], options["clocks"],
                                          options["topups"]) < 0:
            raise CommandError("--minutes must be positive and terminal counts not negative")
        if options["customer"]:
            customer = GroupCustomer.objects.filter(code=options["customer"]).first()
            if customer is None:
                raise CommandError(f"no group customer with code {options['customer']!r}")
        else:
            customer = busiest_customer()
            if customer is None:
                raise CommandError("no verified group customer has active purse cards: load "
                                   "the demo data first (onecard demo)")
        seconds = max(1.0, options["minutes"] * 60)
        faults = not options["no_faults"]
        config = SimulationConfig(
            base_url=options["url"], seconds=seconds,
            speed=options["speed"] or 86400.0 / seconds, load=options["load"],
            drop_rate=options["drop_rate"] if faults else 0.0, batch=options["batch"],
            skewed=3 if faults else 0, far_skewed=1 if faults else 0, offline=faults,
            # The outage leaves a backlog of two and a half batches to catch up on.
            offline_min_records=max(5, options["batch"] * 5 // 2) if faults else 0,
            seed=options["seed"],
            heartbeat_every=min(5.0, seconds / 4), sync_every=min(10.0, seconds / 3),
            max_in_flight=options["max_in_flight"],
            abandon_settle=0.15 if options["max_in_flight"] else 0.0,
        )
        plan = prepare_fleet(customer, pos=options["pos"], doors=options["doors"],
                             clocks=options["clocks"], topups=options["topups"])
        self.stdout.write(
            f"Fleet for {customer.name} ({customer.code}): {len(plan.enrolments)} terminals, "
            f"{len(plan.purse_cards)} purse / {len(plan.access_cards)} access / "
            f"{len(plan.attendance_cards)} attendance cards, {len(plan.denied_cards)} denied; "
            f"{seconds:.0f} s at {config.speed:.0f}× against {config.base_url}")
        summary = run_simulation(plan, config, progress=self.stdout.write)
        for line in summary.lines():
            self.stdout.write(line)
        if not options["keep_terminals"]:
            retired = retire_fleet(plan)
            self.stdout.write(f"{retired} simulated terminals retired")
        checks = self.checks(skip_audit=options["skip_audit"])
        result = summary.as_dict() | {"checks": checks}
        if options["json"]:
            with open(options["json"], "w", encoding="utf-8") as out:
                json.dump(result, out, indent=2, ensure_ascii=False, default=str)
        failed = [name for name, check in checks.items() if not check["ok"]]
        if not summary.ok or failed:
            raise CommandError(
                f"simulation FAILED: {sum(summary.unexpected.values())} unexpected answer(s)"
                + (f"; failed checks: {', '.join(failed)}" if failed else ""))
        self.stdout.write(self.style.SUCCESS("simulation OK"))

    def checks(self, *, skip_audit):
        """Ledger verify (always) and the audit chains (unless skipped), in-process."""
        from onecard.wallet.verify import verify_ledger

        report = verify_ledger()
        checks = {"ledger": {"ok": report.ok, "accounts": report.accounts,
                             "transfers": report.transfers, "drift": len(report.drift),
                             "below_floor": len(report.below_floor)}}
        self.stdout.write(f"ledger verify: {'ok' if report.ok else 'FAILED'} "
                          f"({report.accounts} accounts, {report.transfers} transfers)")
        if not skip_audit:
            from onecard.audit.actions import verify_audit_log

            audit = verify_audit_log()
            checks["audit"] = {"ok": audit.ok, "records": audit.checked, "chains": audit.chains}
            self.stdout.write(f"audit verify: {'ok' if audit.ok else 'FAILED'} "
                              f"({audit.checked} records in {audit.chains} chains)")
        return checks
