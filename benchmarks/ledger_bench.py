"""Wallet ledger benchmark: purchases through the action layer vs the same transaction in raw SQL.

    .venv/bin/python benchmarks/ledger_bench.py                      # SQLite (WAL, FULL)
    .venv/bin/python benchmarks/ledger_bench.py --database-url postgres://postgres@127.0.0.1:5432/onecard_bench
    .venv/bin/python benchmarks/ledger_bench.py --seconds 10 --workers 4 --json out.json

What it measures, each in the same run on the same database (DESIGN.md §6):

1. **action**: ``onecard.wallet.actions.purchase`` (no HTTP) from ``--workers`` processes, each
   paying random merchant terminals from random members' purses for ``--seconds``.
2. **raw SQL**: the same purchase written by hand with the database driver (lock both accounts
   in id order, look the client id up, insert the transfer, update both totals, commit), with
   the same workers, members and terminals.
3. **offline batch**: ``ingest_offline_purchases`` with batches of ``--batch`` records, one
   process; reported as transfers/s.

Then ``ledger verify`` must pass. A fresh database is built for the run: a temporary SQLite file,
or, with ``--database-url``, the named PostgreSQL database is dropped and re-created (so never
point it at data you want to keep).
"""

import argparse
import json
import multiprocessing as mp
import os
import platform
import random
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

MEMBERS = 2000
TERMINALS = 20
START_BALANCE = 100_000_000  # fen per purse: nobody runs out during a run


def _django(database_url):
    os.environ["DJANGO_SETTINGS_MODULE"] = "onecard.settings"
    os.environ["DATABASE_URL"] = database_url
    import django

    django.setup()


def _recreate_postgres(database_url):
    import psycopg

    name = database_url.rsplit("/", 1)[1]
    admin_url = database_url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def build(database_url, members=MEMBERS, terminals=TERMINALS):
    """Migrate and create one customer, members with purses topped up, a merchant's terminals."""
    _django(database_url)
    from django.core.management import call_command
    from django.db import connection, transaction

    from onecard.accounts.actions import create_account
    from onecard.organizations import actions as org
    from onecard.people.models import Member
    from onecard.wallet import actions
    from onecard.wallet.choices import AccountKind
    from onecard.wallet.models import Account

    call_command("migrate", verbosity=0)
    admin = create_account(actor=None, username="bench_admin", password="Bench-Pass-2026x",
                           role="operator_admin")
    operator = org.create_operator(actor=None, name="Bench", code="bench")
    province = org.create_branch(actor=admin, operator=operator, level="province", name="P",
                                 code="P")
    city = org.create_branch(actor=admin, operator=operator, level="city", name="C", code="C",
                             parent=province)
    county = org.create_branch(actor=admin, operator=operator, level="county", name="K",
                               code="K", parent=city)
    customer = org.create_group_customer(actor=admin, branch=county, name="Bench Co",
                                         code="BENCH")
    actions.open_ledger(actor=admin, group_customer=customer)
    with transaction.atomic():
        Member.objects.bulk_create(
            Member(group_customer=customer, name=f"M{i}", phone=f"138{i:08d}")
            for i in range(members)
        )
        member_ids = list(Member.objects.filter(group_customer=customer)
                          .values_list("pk", flat=True))
        Account.objects.bulk_create(
            Account(group_customer=customer, member_id=pk, kind=kind, floor_enforced=True)
            for pk in member_ids for kind in (AccountKind.MEMBER_PURSE, AccountKind.SUBSIDY_PURSE)
        )
    merchant = actions.create_merchant(actor=admin, group_customer=customer, name="Canteen",
                                       code="canteen")
    for t in range(terminals):
        actions.open_merchant_terminal_account(actor=None, merchant=merchant, code=f"POS-{t}")
    drawer = actions.open_cash_drawer(actor=None, group_customer=customer, code="BENCH")
    # Fund every purse through the ledger, in batches of linked-free top-ups.
    members_qs = list(Member.objects.filter(group_customer=customer))
    for member in members_qs:
        actions.top_up(actor=None, member=member, amount=START_BALANCE,
                       client_id=f"fund-{member.pk}", source=drawer)
    connection.close()
    return customer.pk


def _worker_setup(database_url):
    _django(database_url)
    from onecard.people.models import Member
    from onecard.wallet.choices import AccountKind
    from onecard.wallet.models import Account

    members = list(Member.objects.all())
    terminals = list(Account.objects.filter(kind=AccountKind.MERCHANT_TERMINAL))
    return members, terminals


def action_worker(database_url, seconds, seed, out):
    members, terminals = _worker_setup(database_url)
    from onecard.wallet import actions

    rng = random.Random(seed)
    done, latencies = 0, []
    deadline = time.perf_counter() + seconds
    while True:
        started = time.perf_counter()
        if started >= deadline:
            break
        actions.purchase(member=rng.choice(members), merchant_account=rng.choice(terminals),
                         amount=rng.randint(100, 2000), client_id=uuid.uuid4().hex)
        latencies.append(time.perf_counter() - started)
        done += 1
    out.put((done, latencies))


def _raw_sqlite(database_url):
    """A plain sqlite3 connection with the application's own PRAGMAs (WAL, synchronous=FULL,
    foreign keys, busy timeout, page cache: settings.DATABASES), so raw SQL runs alike."""
    import sqlite3

    from django.conf import settings

    db = sqlite3.connect(database_url.removeprefix("sqlite:///"), isolation_level=None,
                         timeout=20)
    for pragma in settings.DATABASES["default"]["OPTIONS"]["init_command"].split(";"):
        if pragma.strip():
            db.execute(pragma)
    return db


def raw_worker(database_url, seconds, seed, out):
    """The same purchase in hand-written SQL, through the same driver and database."""
    members, terminals = _worker_setup(database_url)
    from django.db import connection

    from onecard.wallet.choices import AccountKind
    from onecard.wallet.models import Account

    purse_of = dict(Account.objects.filter(kind=AccountKind.MEMBER_PURSE)
                    .values_list("member_id", "pk"))
    customer_id = members[0].group_customer_id
    connection.close()
    rng = random.Random(seed)
    vendor = "postgresql" if database_url.startswith("postgres") else "sqlite"
    if vendor == "postgresql":
        import psycopg

        db = psycopg.connect(database_url.replace("postgres://", "postgresql://", 1))
        p = "%s"
        lock = " FOR UPDATE"
    else:
        db = _raw_sqlite(database_url)
        p = "?"
        lock = ""
    done, latencies = 0, []
    deadline = time.perf_counter() + seconds
    while True:
        started = time.perf_counter()
        if started >= deadline:
            break
        member = rng.choice(members)
        purse, terminal = purse_of[member.pk], rng.choice(terminals).pk
        amount, client_id = rng.randint(100, 2000), uuid.uuid4().hex
        cur = db.cursor()
        if vendor == "sqlite":
            cur.execute("BEGIN IMMEDIATE")
        ids = sorted((purse, terminal))
        cur.execute(f"SELECT id, credits_posted, debits_posted, debits_pending FROM wallet_account"
                    f" WHERE id IN ({p}, {p}) ORDER BY id{lock}", ids)
        rows = {r[0]: r for r in cur.fetchall()}
        cur.execute(f"SELECT id FROM wallet_transfer WHERE group_customer_id = {p} AND "
                    f"client_id = {p}", (customer_id, client_id))
        if cur.fetchone() is None and rows[purse][1] - rows[purse][2] - rows[purse][3] >= amount:
            cur.execute(
                "INSERT INTO wallet_transfer (group_customer_id, client_id, leg, debit_account_id,"
                " credit_account_id, amount, kind, phase, terminal_code, card_number, offline,"
                f" memo, created_at) VALUES ({p}, {p}, 0, {p}, {p}, {p}, 'purchase', 'posted',"
                f" '', '', {'false' if vendor == 'postgresql' else '0'}, '', CURRENT_TIMESTAMP)",
                (customer_id, client_id, purse, terminal, amount))
            cur.execute(f"UPDATE wallet_account SET debits_posted = debits_posted + {p} "
                        f"WHERE id = {p}", (amount, purse))
            cur.execute(f"UPDATE wallet_account SET credits_posted = credits_posted + {p} "
                        f"WHERE id = {p}", (amount, terminal))
        if vendor == "sqlite":
            cur.execute("COMMIT")
        else:
            db.commit()
        latencies.append(time.perf_counter() - started)
        done += 1
    db.close()
    out.put((done, latencies))


def run_parallel(target, database_url, workers, seconds):
    ctx = mp.get_context("spawn")
    out = ctx.Queue()
    procs = [ctx.Process(target=target, args=(database_url, seconds, 1000 + i, out))
             for i in range(workers)]
    started = time.perf_counter()
    for proc in procs:
        proc.start()
    results = [out.get() for _ in procs]
    for proc in procs:
        proc.join()
        if proc.exitcode != 0:
            raise SystemExit(f"{target.__name__} worker failed with exit code {proc.exitcode}")
    elapsed = time.perf_counter() - started
    done = sum(r[0] for r in results)
    latencies = sorted(x for r in results for x in r[1])
    # Workers spend their first moments importing Django: rate over the measured window.
    return {
        "count": done,
        "rate": done / seconds,
        "wall": elapsed,
        "p50_ms": 1000 * latencies[len(latencies) // 2] if latencies else None,
        "p99_ms": 1000 * latencies[int(len(latencies) * 0.99)] if latencies else None,
    }


def offline_batches(database_url, batch, rounds):
    _django(database_url)
    from onecard.people.models import Member
    from onecard.wallet import actions
    from onecard.wallet.choices import AccountKind
    from onecard.wallet.models import Account

    members = list(Member.objects.all())
    terminal = Account.objects.filter(kind=AccountKind.MERCHANT_TERMINAL).first()
    rng = random.Random(7)
    posted, elapsed = 0, 0.0
    for _ in range(rounds):
        records = [{"client_id": uuid.uuid4().hex, "member": rng.choice(members),
                    "amount": rng.randint(100, 2000), "card_number": ""} for _ in range(batch)]
        started = time.perf_counter()
        results = actions.ingest_offline_purchases(
            group_customer_id=members[0].group_customer_id, merchant_account=terminal,
            records=records, terminal_code=terminal.code)
        elapsed += time.perf_counter() - started
        posted += sum(len(r.transfers) for r in results if r.status == "ok")
        bad = [r.status for r in results if r.status != "ok"]
        if bad:
            raise SystemExit(f"offline batch refused records: {bad[:5]}")
    return {"transfers": posted, "rate": posted / elapsed, "batches": rounds, "batch": batch}


def raw_offline_batches(database_url, batch, rounds):
    """The same batch work in hand-written SQL: lock the purses and the terminal account, look
    the client ids up, insert the transfers, update the totals, commit."""
    _django(database_url)
    from django.db import connection

    from onecard.people.models import Member
    from onecard.wallet.choices import AccountKind
    from onecard.wallet.models import Account

    members = list(Member.objects.values_list("pk", flat=True))
    purse_of = dict(Account.objects.filter(kind=AccountKind.MEMBER_PURSE)
                    .values_list("member_id", "pk"))
    terminal = Account.objects.filter(kind=AccountKind.MERCHANT_TERMINAL).first().pk
    customer_id = Member.objects.first().group_customer_id
    connection.close()
    postgres = database_url.startswith("postgres")
    if postgres:
        import psycopg

        db = psycopg.connect(database_url.replace("postgres://", "postgresql://", 1))
    else:
        db = _raw_sqlite(database_url)
    rng = random.Random(8)
    posted, elapsed, committing = 0, 0.0, 0.0
    for _ in range(rounds):
        records = [(uuid.uuid4().hex, purse_of[rng.choice(members)], rng.randint(100, 2000))
                   for _ in range(batch)]
        started = time.perf_counter()
        cur = db.cursor()
        ids = sorted({r[1] for r in records} | {terminal})
        client_ids = [r[0] for r in records]
        if postgres:
            cur.execute("SELECT id, credits_posted, debits_posted FROM wallet_account "
                        "WHERE id = ANY(%s) ORDER BY id FOR UPDATE", (ids,))
            cur.fetchall()
            cur.execute("SELECT client_id FROM wallet_transfer WHERE group_customer_id = %s "
                        "AND client_id = ANY(%s)", (customer_id, client_ids))
            cur.fetchall()
            cur.execute(
                "INSERT INTO wallet_transfer (group_customer_id, client_id, leg, debit_account_id,"
                " credit_account_id, amount, kind, phase, terminal_code, card_number, offline,"
                " memo, created_at) SELECT %s, c, 0, d, %s, a, 'purchase', 'posted', '', '',"
                " true, '', now() FROM unnest(%s::varchar[], %s::bigint[], %s::bigint[])"
                " AS r(c, d, a) RETURNING id",
                (customer_id, terminal, client_ids, [r[1] for r in records],
                 [r[2] for r in records]))
            cur.fetchall()
            spent = {}
            for _c, purse, amount in records:
                spent[purse] = spent.get(purse, 0) + amount
            cur.execute("UPDATE wallet_account SET debits_posted = debits_posted + v.a FROM "
                        "unnest(%s::bigint[], %s::bigint[]) AS v(id, a) "
                        "WHERE wallet_account.id = v.id", (list(spent), list(spent.values())))
            cur.execute("UPDATE wallet_account SET credits_posted = credits_posted + %s "
                        "WHERE id = %s", (sum(spent.values()), terminal))
            before_commit = time.perf_counter()
            db.commit()
        else:
            cur.execute("BEGIN IMMEDIATE")
            marks = ", ".join("?" * len(ids))
            cur.execute(f"SELECT id, credits_posted, debits_posted FROM wallet_account "
                        f"WHERE id IN ({marks}) ORDER BY id", ids)
            cur.fetchall()
            marks = ", ".join("?" * len(client_ids))
            cur.execute(f"SELECT client_id FROM wallet_transfer WHERE group_customer_id = ? "
                        f"AND client_id IN ({marks})", [customer_id, *client_ids])
            cur.fetchall()
            cur.executemany(
                "INSERT INTO wallet_transfer (group_customer_id, client_id, leg, debit_account_id,"
                " credit_account_id, amount, kind, phase, terminal_code, card_number, offline,"
                " memo, created_at) VALUES (?, ?, 0, ?, ?, ?, 'purchase', 'posted', '', '', 1,"
                " '', CURRENT_TIMESTAMP)",
                [(customer_id, c, d, terminal, a) for c, d, a in records])
            cur.executemany("UPDATE wallet_account SET debits_posted = debits_posted + ? "
                            "WHERE id = ?", [(a, d) for _c, d, a in records])
            cur.execute("UPDATE wallet_account SET credits_posted = credits_posted + ? "
                        "WHERE id = ?", (sum(r[2] for r in records), terminal))
            before_commit = time.perf_counter()
            cur.execute("COMMIT")
        finished = time.perf_counter()
        elapsed += finished - started
        committing += finished - before_commit
        posted += batch
    db.close()
    # The COMMIT's share: on SQLite (synchronous=FULL) mostly the disk's fsync, which the action
    # layer's batch pays as well and no code can make cheaper.
    return {"transfers": posted, "rate": posted / elapsed, "batches": rounds, "batch": batch,
            "commit_ms": 1000 * committing / rounds}


def verify(database_url):
    _django(database_url)
    from onecard.wallet.verify import verify_ledger

    report = verify_ledger()
    return {"ok": report.ok, "accounts": report.accounts, "transfers": report.transfers}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=None,
                        help="PostgreSQL URL of a scratch database (dropped and re-created); "
                             "default: a temporary SQLite file")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--batches", type=int, default=20)
    parser.add_argument("--members", type=int, default=MEMBERS)
    parser.add_argument("--json", default=None, help="also write the figures to this file")
    args = parser.parse_args(argv)

    tmp = None
    if args.database_url:
        database_url = args.database_url
        _recreate_postgres(database_url)
    else:
        tmp = tempfile.mkdtemp(prefix="onecard-bench-")
        database_url = f"sqlite:///{tmp}/bench.sqlite3"
    os.environ.setdefault("ONECARD_VAR_DIR", tmp or tempfile.mkdtemp(prefix="onecard-bench-"))
    vendor = "postgresql" if database_url.startswith("postgres") else "sqlite"
    print(f"Building {args.members} members on {vendor} ...", flush=True)
    ctx = mp.get_context("spawn")
    with ctx.Pool(1) as pool:  # build in a child, so this process never holds a connection
        pool.apply(build, (database_url, args.members))

    figures = {"database": vendor, "workers": args.workers, "seconds": args.seconds,
               "python": platform.python_version(), "cpus": os.cpu_count(),
               "machine": platform.machine()}
    print("Purchases through the action layer ...", flush=True)
    figures["action"] = run_parallel(action_worker, database_url, args.workers, args.seconds)
    print("The same purchases in raw SQL ...", flush=True)
    figures["raw_sql"] = run_parallel(raw_worker, database_url, args.workers, args.seconds)
    figures["ratio"] = figures["action"]["rate"] / figures["raw_sql"]["rate"]
    print(f"Offline batches of {args.batch} ...", flush=True)
    with ctx.Pool(1) as pool:
        figures["offline"] = pool.apply(offline_batches, (database_url, args.batch, args.batches))
        figures["offline_raw_sql"] = pool.apply(raw_offline_batches,
                                                (database_url, args.batch, args.batches))
        figures["offline_ratio"] = figures["offline"]["rate"] / figures["offline_raw_sql"]["rate"]
        figures["verify"] = pool.apply(verify, (database_url,))

    a, r, o = figures["action"], figures["raw_sql"], figures["offline"]
    print()
    print(f"| {vendor} | purchases/s | p50 ms | p99 ms |")
    print("|---|---:|---:|---:|")
    print(f"| action layer | {a['rate']:.0f} | {a['p50_ms']:.2f} | {a['p99_ms']:.2f} |")
    print(f"| raw SQL | {r['rate']:.0f} | {r['p50_ms']:.2f} | {r['p99_ms']:.2f} |")
    print(f"\naction / raw SQL = {figures['ratio']:.0%}")
    print(f"offline: {o['transfers']} transfers in batches of {o['batch']}: "
          f"{o['rate']:.0f} transfers/s; raw SQL {figures['offline_raw_sql']['rate']:.0f}/s "
          f"({figures['offline_ratio']:.0%}; its COMMIT took "
          f"{figures['offline_raw_sql']['commit_ms']:.1f} ms per batch)")
    print(f"ledger verify: {'ok' if figures['verify']['ok'] else 'FAILED'} "
          f"({figures['verify']['accounts']} accounts, {figures['verify']['transfers']} transfers)")
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=2))
    return 0 if figures["verify"]["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
