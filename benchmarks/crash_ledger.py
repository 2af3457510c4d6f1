"""Crash test of the wallet ledger: kill -9 the workers under load, again and again, then check
that every acknowledged transfer exists exactly once and ``ledger verify`` passes.

    .venv/bin/python benchmarks/crash_ledger.py --rounds 10          # fresh SQLite (WAL, FULL)
    .venv/bin/python benchmarks/crash_ledger.py --rounds 10 \\
        --database-url postgres://postgres@127.0.0.1:5432/onecard_h_crash
    .venv/bin/python benchmarks/crash_ledger.py --rounds 3 --workers 2 --round-seconds 1.5

What it does:

1. Builds a fresh database: a temporary SQLite file, or, with ``--database-url``, the named
   PostgreSQL database **dropped and re-created** (never point it at data you want to keep).
   Migrates it and creates one group customer with members, purses, a merchant with terminals
   and a cash drawer, through the actions.
2. Each round starts ``--workers`` worker processes. A worker loops: a purchase (random member,
   terminal and amount; refusals for funds are expected), a top-up, or now and then a retry of a
   request it was already told about (which must answer ``exists``). After an action *returned*
   ``ok``/``exists`` the worker appends ``client_id, legs, amount`` to its own log and fsyncs it:
   that line is the acknowledgement a terminal would have received.
3. The driver SIGKILLs every worker at its own random moment within the round (mid-transaction,
   mid-commit, mid-log-write: wherever it happens to be), waits, and starts the next round.
4. At the end it checks, from a fresh connection: every acknowledged client id is stored
   exactly once (as many legs and the same amount as acknowledged), nothing was stored twice,
   ``verify_ledger()`` is ok (and SQLite's ``PRAGMA integrity_check`` passes). Transfers that
   committed but whose worker died before logging are allowed (the client never heard back and
   would retry). Exit status 0 when all holds, 1 otherwise (2: a worker failed by itself).

Options: ``--rounds`` (10), ``--workers`` (4), ``--round-seconds`` (3.0: each round lasts up to
this long; workers are killed at random moments after ``--min-seconds``, 1.0), ``--seed``,
``--keep`` (keep the temporary directory with the logs and the SQLite file), ``--json FILE``.
"""

import argparse
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

MEMBERS = 20
TERMINALS = 4
OPENING_BALANCE = 20_000  # fen per purse: enough for a while, so both refusals and approvals


def _django(database_url, var_dir):
    os.environ["DJANGO_SETTINGS_MODULE"] = "onecard.settings"
    os.environ["DATABASE_URL"] = database_url
    os.environ.setdefault("ONECARD_VAR_DIR", str(var_dir))
    os.environ.setdefault("ONECARD_SECRET_KEY", "crash-test-" + uuid.uuid4().hex)
    import django

    django.setup()


def _recreate_postgres(database_url):
    import psycopg

    name = database_url.rsplit("/", 1)[1]
    admin_url = database_url.rsplit("/", 1)[0] + "/postgres"
    admin_url = admin_url.replace("postgres://", "postgresql://", 1)
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def build(database_url, var_dir):
    """Migrate; one customer, members with funded purses, a merchant's terminals, a drawer."""
    _django(database_url, var_dir)
    from django.core.management import call_command
    from django.db import connection

    from onecard.accounts.actions import create_account
    from onecard.organizations import actions as org
    from onecard.people.actions import create_member
    from onecard.wallet import actions

    call_command("migrate", verbosity=0)
    admin = create_account(actor=None, username="crash_admin", password="Crash-Pass-2026x",
                           role="operator_admin")
    operator = org.create_operator(actor=None, name="Crash", code="crash")
    province = org.create_branch(actor=admin, operator=operator, level="province", name="P",
                                 code="P")
    city = org.create_branch(actor=admin, operator=operator, level="city", name="C", code="C",
                             parent=province)
    county = org.create_branch(actor=admin, operator=operator, level="county", name="K",
                               code="K", parent=city)
    customer = org.create_group_customer(actor=admin, branch=county, name="Crash Co",
                                         code="CRASH")
    actions.open_ledger(actor=admin, group_customer=customer)
    merchant = actions.create_merchant(actor=admin, group_customer=customer, name="Canteen",
                                       code="canteen")
    for t in range(TERMINALS):
        actions.open_merchant_terminal_account(actor=None, merchant=merchant, code=f"POS-{t}")
    drawer = actions.open_cash_drawer(actor=None, group_customer=customer, code="CRASH")
    for i in range(MEMBERS):
        member = create_member(actor=admin, group_customer=customer, name=f"M{i}",
                               phone=f"1380000{i:04d}")
        actions.open_purses(actor=None, member=member)
        actions.top_up(actor=None, member=member, amount=OPENING_BALANCE,
                       client_id=f"open-{member.pk}", source=drawer)
    connection.close()


# --- Worker -----------------------------------------------------------------------------------


def worker(database_url, var_dir, log_path, seed):
    """Post purchases and top-ups until killed; log (and fsync) every acknowledged client id."""
    _django(database_url, var_dir)
    from onecard.people.models import Member
    from onecard.wallet import actions
    from onecard.wallet.choices import AccountKind
    from onecard.wallet.errors import LedgerRefused
    from onecard.wallet.models import Account

    members = list(Member.objects.all())
    terminals = list(Account.objects.filter(kind=AccountKind.MERCHANT_TERMINAL))
    drawer = Account.objects.get(kind=AccountKind.CASH_DRAWER)
    rng = random.Random(seed)
    boot = uuid.uuid4().hex[:8]  # ids are new on every start of a worker
    log = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    told = []  # (call, amount, client id, legs) of requests acknowledged in this life
    n = 0
    while True:
        n += 1
        roll = rng.random()
        if roll < 0.1 and told:
            call, amount, client_id, legs = rng.choice(told)
            result = call(amount, client_id)
            if result.status != "exists" or [t.pk for t in result.transfers] != legs:
                sys.stderr.write(f"retry of {client_id} answered {result.status}\n")
                sys.exit(3)
            continue
        member = rng.choice(members)
        client_id = f"{boot}-{n}"
        if roll < 0.75:
            terminal = rng.choice(terminals)

            def call(amount, client_id, member=member, terminal=terminal):
                return actions.purchase(member=member, merchant_account=terminal,
                                        amount=amount, client_id=client_id)
            amount = rng.randint(1, 900)
        else:
            def call(amount, client_id, member=member):
                return actions.top_up(actor=None, member=member, amount=amount,
                                      client_id=client_id, source=drawer)
            amount = rng.randint(100, 3000)
        try:
            result = call(amount, client_id)
        except LedgerRefused:
            continue
        # Acknowledged: from here on the client was told "done".
        line = f"{client_id}\t{len(result.transfers)}\t{sum(t.amount for t in result.transfers)}"
        os.write(log, (line + "\n").encode())
        os.fsync(log)
        told.append((call, amount, client_id, [t.pk for t in result.transfers]))


# --- Driver -----------------------------------------------------------------------------------


def read_acknowledged(log_dir):
    """{client id: (legs, amount)} from every worker log; a torn last line is not an ack."""
    acked, duplicates = {}, []
    for path in sorted(Path(log_dir).glob("worker-*.log")):
        data = path.read_bytes().decode()
        for line in data.split("\n")[:-1]:  # the part after the last newline is incomplete
            client_id, legs, amount = line.split("\t")
            if client_id in acked:
                duplicates.append(client_id)
            acked[client_id] = (int(legs), int(amount))
    return acked, duplicates


def check(database_url, var_dir, log_dir):
    """Every acknowledged id stored once, as acknowledged; the books verify."""
    _django(database_url, var_dir)
    from django.db import connection
    from django.db.models import Count, Sum

    from onecard.wallet.models import Transfer
    from onecard.wallet.verify import verify_ledger

    acked, duplicate_acks = read_acknowledged(log_dir)
    stored = {row["client_id"]: (row["legs"], row["amount"]) for row in
              Transfer.objects.values("client_id").annotate(legs=Count("id"),
                                                            amount=Sum("amount"))}
    problems = [f"client id acknowledged twice in the logs: {c}" for c in duplicate_acks]
    missing = sorted(c for c in acked if c not in stored)
    problems += [f"acknowledged but not stored: {c}" for c in missing[:20]]
    wrong = sorted(c for c in acked if c in stored and stored[c] != acked[c])
    problems += [f"stored differently than acknowledged: {c} {stored[c]} != {acked[c]}"
                 for c in wrong[:20]]
    report = verify_ledger()
    if not report.ok:
        problems.append(f"ledger verify failed: drift={report.drift[:10]} "
                        f"below_floor={report.below_floor[:10]} "
                        f"debits={report.total_debits} credits={report.total_credits}")
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA integrity_check")
            verdict = cursor.fetchone()[0]
        if verdict != "ok":
            problems.append(f"sqlite integrity_check: {verdict}")
    worker_ids = [c for c in stored if not c.startswith("open-")]
    return {
        "acknowledged": len(acked),
        "stored_client_ids": len(worker_ids),
        "stored_not_acknowledged": len(set(worker_ids) - set(acked)),
        "transfers": report.transfers,
        "ledger_verify_ok": report.ok,
        "problems": problems,
    }


def run(args):
    rng = random.Random(args.seed)
    tmp = Path(tempfile.mkdtemp(prefix="onecard-crash-"))
    database_url = args.database_url or f"sqlite:///{tmp / 'crash.sqlite3'}"
    if database_url.startswith("postgres"):
        _recreate_postgres(database_url)
    started = time.monotonic()
    env = {**os.environ, "DATABASE_URL": database_url, "ONECARD_VAR_DIR": str(tmp),
           "ONECARD_SECRET_KEY": "crash-test-" + uuid.uuid4().hex,
           "DJANGO_SETTINGS_MODULE": "onecard.settings"}
    build_cmd = [sys.executable, __file__, "--build", "--database-url", database_url,
                 "--var-dir", str(tmp)]
    subprocess.run(build_cmd, env=env, check=True, cwd=ROOT)
    kills = exited = 0
    failures = []
    for round_no in range(args.rounds):
        procs = []
        for w in range(args.workers):
            log_path = tmp / f"worker-{w}.log"
            err = open(tmp / f"worker-{w}.err", "ab")  # closed when the worker is gone
            cmd = [sys.executable, __file__, "--worker", "--database-url", database_url,
                   "--var-dir", str(tmp), "--log", str(log_path),
                   "--seed", str(rng.randrange(2**32))]
            procs.append((subprocess.Popen(cmd, env=env, cwd=ROOT, stderr=err), err,
                          rng.uniform(args.min_seconds, args.round_seconds)))
        round_start = time.monotonic()
        for proc, err, kill_at in sorted(procs, key=lambda p: p[2]):
            time.sleep(max(0.0, kill_at - (time.monotonic() - round_start)))
            if proc.poll() is None:
                proc.send_signal(signal.SIGKILL)
                kills += 1
            else:
                exited += 1
                failures.append(f"round {round_no}: worker exited by itself ({proc.returncode})")
            proc.wait()
            err.close()
        acked_so_far = len(read_acknowledged(tmp)[0])
        print(f"round {round_no + 1}/{args.rounds}: killed {len(procs)} workers, "
              f"{acked_so_far} acknowledged so far", flush=True)
    checked = subprocess.run([sys.executable, __file__, "--check", "--database-url",
                              database_url, "--var-dir", str(tmp), "--log", str(tmp)],
                             env=env, cwd=ROOT, capture_output=True, text=True)
    if checked.returncode != 0:
        print(checked.stdout, checked.stderr, file=sys.stderr)
        return 1
    result = json.loads(checked.stdout.strip().splitlines()[-1])
    result.update(rounds=args.rounds, workers=args.workers, kills=kills,
                  database="postgresql" if database_url.startswith("postgres") else "sqlite",
                  seconds=round(time.monotonic() - started, 1), worker_failures=failures)
    print(json.dumps(result, indent=2))
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2))
    if failures:
        for path in sorted(tmp.glob("worker-*.err")):
            text = path.read_text(errors="replace").strip()
            if text:
                print(f"--- {path.name}\n{text[-3000:]}", file=sys.stderr)
    if args.keep:
        print(f"kept {tmp}")
    else:
        shutil.rmtree(tmp, ignore_errors=True)
    if result["problems"]:
        print("FAILED:\n  " + "\n  ".join(result["problems"]), file=sys.stderr)
        return 1
    if failures:
        return 2
    if result["acknowledged"] == 0:
        print("FAILED: no request was acknowledged; nothing was tested", file=sys.stderr)
        return 1
    print(f"OK: {result['acknowledged']} acknowledged transfers over {args.rounds} rounds and "
          f"{kills} kills, each stored exactly once; ledger verify passes.")
    return 0


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--round-seconds", type=float, default=3.0)
    parser.add_argument("--min-seconds", type=float, default=1.0)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--keep", action="store_true")
    parser.add_argument("--json", default=None)
    # Internal: the roles of the child processes.
    parser.add_argument("--build", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--check", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--var-dir", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--log", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.build:
        build(args.database_url, args.var_dir)
        return 0
    if args.worker:
        worker(args.database_url, args.var_dir, args.log, args.seed)
        return 0
    if args.check:
        result = check(args.database_url, args.var_dir, args.log)
        print(json.dumps(result))
        return 0
    if args.min_seconds > args.round_seconds:
        parser.error("--min-seconds must not exceed --round-seconds")
    return run(args)


if __name__ == "__main__":
    sys.exit(main())
