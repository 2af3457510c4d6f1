"""Terminal gateway benchmark: signed protocol v1 requests, end to end, against the production
server (``onecard serve``: gunicorn) on a scratch database.

    .venv/bin/python benchmarks/terminal_bench.py                      # SQLite (temporary file)
    .venv/bin/python benchmarks/terminal_bench.py --database-url postgres://postgres@127.0.0.1:5432/onecard_h4_bench
    .venv/bin/python benchmarks/terminal_bench.py --seconds 10 --clients 2 --json out.json

What it does, in one run on one database:

0. builds the data in a child process: one verified group customer, ``--members`` members with
   funded purses (wallet actions), an IC card each (cards actions: receive, then issue with the
   purse and door access applications), POS terminals and door controllers registered with
   one-time enrolment codes (``onecard.terminals.fleet.prepare_fleet``);
1. starts ``onecard serve`` (gunicorn, ``--server-workers``) on a free port, and enrols every
   terminal over HTTP;
2. drives load from ``--clients`` separate processes of ``--threads`` threads (one terminal per
   thread, one keep-alive connection each):
   - **purchases, max rate** for ``--seconds`` → purchases/s, p50/p99;
   - **purchases at a fixed rate** (``--rate``; default 300/s on PostgreSQL, 100/s on SQLite),
     latency measured from each request's scheduled time → p50/p99;
   - **access decisions, max rate** → decisions/s;
   - **offline upload** in batches of ``--batch`` (500) chained, MAC'd purchase records →
     records/s;
3. the same purchase in raw SQL (``ledger_bench.raw_worker``) with ``--clients`` processes;
4. stops the server; ``ledger verify`` and the audit chains must pass.

Any status other than 200, any record refused for its MAC or chain, a sequence gap, or a failed
check makes the exit code non-zero. Targets are reported, not enforced. ``--database-url``
names a PostgreSQL database that is **dropped and re-created**.
"""

import argparse
import json
import multiprocessing as mp
import os
import platform
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import uuid
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from ledger_bench import _django, _recreate_postgres, raw_worker, run_parallel  # noqa: E402

START_BALANCE = 100_000_000  # fen per purse: nobody runs out during a run
TARGETS = {
    "postgresql": {"purchase_rate": 800, "fixed_rate": 300, "fixed_p99_ms": 50},
    "sqlite": {"purchase_rate": 400, "fixed_rate": 100, "fixed_p99_ms": 100},
    "access_rate": 2000,
    "offline_rate": 5000,
}


# --- Building the data (in a child process) -----------------------------------------------------

def build(database_url, members, pos, doors):
    """Migrate; one verified customer with funded members, an IC card each with the purse and
    door access applications, and ``pos`` + ``doors`` terminals with enrolment codes."""
    _django(database_url)
    from django.core.management import call_command
    from django.db import connection, transaction

    from onecard.accounts.actions import create_account
    from onecard.cards.actions import lifecycle, provisioning, stock
    from onecard.organizations import actions as org
    from onecard.people.models import Member
    from onecard.terminals.fleet import prepare_fleet
    from onecard.wallet import actions as wallet
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
    customer = org.verify_group_customer(
        actor=admin, group_customer=customer, business_licence_number="91500000BENCH",
        contact_name="Bench", contact_phone="13800000000", contract_number="CT-BENCH")
    wallet.open_ledger(actor=admin, group_customer=customer)
    with transaction.atomic():
        Member.objects.bulk_create(
            Member(group_customer=customer, name=f"M{i}", phone=f"138{i:08d}")
            for i in range(members))
        member_ids = list(Member.objects.filter(group_customer=customer)
                          .values_list("pk", flat=True))
        Account.objects.bulk_create(
            Account(group_customer=customer, member_id=pk, kind=kind, floor_enforced=True)
            for pk in member_ids for kind in (AccountKind.MEMBER_PURSE, AccountKind.SUBSIDY_PURSE))
    drawer = wallet.open_cash_drawer(actor=None, group_customer=customer, code="BENCH")
    people = list(Member.objects.filter(group_customer=customer).order_by("pk"))
    for member in people:
        wallet.top_up(actor=None, member=member, amount=START_BALANCE,
                      client_id=f"fund-{member.pk}", source=drawer)
    for kind in ("purse", "access"):
        provisioning.set_application_plan(actor=admin, group_customer=customer, kind=kind,
                                          enabled=True)
    cards = []
    for start in range(0, len(people), stock.MAX_BATCH):
        chunk = people[start:start + stock.MAX_BATCH]
        cards += stock.receive_cards(
            actor=admin, branch=county, medium="ic_card",
            cards=[{"number": f"B{m.pk:07X}", "chip_type": "cpu"} for m in chunk])
    for member, card in zip(people, cards, strict=True):
        lifecycle.issue_card(actor=admin, card=card, member=member,
                             applications=["purse", "access"])
    plan = prepare_fleet(customer, pos=pos, doors=doors, clocks=0, topups=0, label="BENCH")
    connection.close()
    return plan


def verify(database_url):
    _django(database_url)
    from onecard.audit.actions import verify_audit_log
    from onecard.wallet.verify import verify_ledger

    ledger = verify_ledger()
    audit = verify_audit_log()
    return {"ok": ledger.ok and audit.ok, "ledger_ok": ledger.ok, "accounts": ledger.accounts,
            "transfers": ledger.transfers, "audit_ok": audit.ok, "audit_records": audit.checked}


# --- The server -----------------------------------------------------------------------------------

def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(port, workers, log_path):
    """``onecard serve`` (gunicorn) on 127.0.0.1:``port``; waits until it answers."""
    log = open(log_path, "wb")  # noqa: SIM115 - closed by stop_server
    process = subprocess.Popen(
        [sys.executable, "-m", "onecard.cli", "serve", "--bind", f"127.0.0.1:{port}",
         "--workers", str(workers)],
        cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    process.log = log
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"the server exited with {process.returncode}; see {log_path}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return process
        except OSError:
            time.sleep(0.2)
    stop_server(process)
    raise SystemExit(f"the server did not start within 60 s; see {log_path}")


def stop_server(process):
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    process.log.close()


def enrol_all(base_url, enrolments):
    """Enrol every terminal over HTTP; return {kind: [(device_id, secret), …]}."""
    from onecard.terminals.protocol.signing import enrol

    devices = {}
    for index, (kind, code) in enumerate(enrolments):
        status, body = enrol(base_url + "/terminal/v1", code, f"BENCH-{index:05d}", "1.0.0")
        if status != 200:
            raise SystemExit(f"enrolment of a {kind} terminal answered {status}: {body}")
        devices.setdefault(kind, []).append((body["device_id"], body["secret"]))
    return devices


# --- The load (client processes) ------------------------------------------------------------------

class Driver:
    """One thread's terminal: signs and sends requests on its own keep-alive connection."""

    def __init__(self, base_url, device):
        from onecard.terminals.simulator import Connection

        self.connection = Connection(base_url, 30.0)
        self.prefix = urllib.parse.urlsplit(base_url).path.rstrip("/") + "/terminal/v1/"
        self.device_id, self.secret = device
        self.sequence = time.time_ns() // 1000

    def post(self, endpoint, body):
        from onecard.terminals.protocol.signing import signed_headers

        raw = json.dumps(body, separators=(",", ":")).encode()
        path = self.prefix + endpoint
        self.sequence += 1
        headers = signed_headers(self.device_id, self.secret, "POST", path, int(time.time()),
                                 self.sequence, raw)
        headers["Content-Type"] = "application/json"
        return self.connection.send("POST", path, raw, headers)


def _drive(job, device, index, tally):
    """One thread of one client process: run ``job["mode"]`` until the deadline."""
    rng = random.Random(job["seed"] * 100 + index)
    driver = Driver(job["base_url"], device)
    cards, mode = job["cards"], job["mode"]
    start_at, deadline = job["start_at"], job["start_at"] + job["seconds"]
    interval = None
    if job.get("rate"):
        interval = job["threads_total"] / job["rate"]
    time.sleep(max(0.0, start_at - time.time()))
    scheduled = time.perf_counter() + (interval * index / job["threads_total"] if interval else 0)
    head, sequence = "0" * 64, 0
    while time.time() < deadline:
        if interval:
            pause = scheduled - time.perf_counter()
            if pause > 0:
                time.sleep(pause)
            started = scheduled
            scheduled += interval
        else:
            started = time.perf_counter()
        if mode == "purchase":
            status, answer = _send(driver, tally, "purchases", {
                "client_id": uuid.uuid4().hex, "card_number": rng.choice(cards),
                "amount": rng.randint(100, 900), "pin_verified": False})
            outcome = answer.get("result") if isinstance(answer, dict) else None
            if outcome == "refused":
                outcome = f"refused:{answer.get('reason')}"
        elif mode == "access":
            status, answer = _send(driver, tally, "access", {
                "card_number": rng.choice(cards), "direction": "in"})
            outcome = answer.get("decision") if isinstance(answer, dict) else None
        else:  # offline
            if job["batches"] and tally["batches"] >= job["batches"]:
                break
            records = []
            for _ in range(job["batch"]):
                sequence += 1
                records.append({
                    "sequence": sequence, "kind": "purchase", "client_id": uuid.uuid4().hex,
                    "card_number": rng.choice(cards), "amount": rng.randint(100, 900),
                    "created_at": datetime.now(UTC).isoformat(timespec="seconds")})
            from onecard.terminals.protocol.signing import chain_records

            records, head = chain_records(driver.secret, records, head)
            status, answer = _send(driver, tally, "offline-records", {"records": records})
            tally["batches"] += 1
            outcome = None
            if status == 200 and isinstance(answer, dict):
                for result in answer.get("results", []):
                    tally["records:" + str(result.get("status"))] += 1
                if answer.get("gaps"):
                    tally["unexpected:gaps"] += 1
        if status is None:
            continue
        tally["latencies"].append(time.perf_counter() - started)
        if outcome:
            tally["outcome:" + outcome] += 1
    tally["finished"] = max(tally.get("finished", 0.0), time.time())
    driver.connection.close()


def _send(driver, tally, endpoint, body):
    from onecard.terminals.simulator import TransportError

    try:
        status, answer = driver.post(endpoint, body)
    except TransportError as error:
        tally[f"unexpected:transport {error}"[:120]] += 1
        return None, None
    tally["requests"] += 1
    if status != 200:
        error = answer.get("error") if isinstance(answer, dict) else answer
        tally[f"unexpected:{endpoint} {status} {error}"[:120]] += 1
    return status, answer


def client_process(job, out):
    """One load process: a thread per terminal in ``job["devices"]``; puts its tallies."""
    tallies = []
    threads = []
    for index, device in enumerate(job["devices"]):
        tally = Counter()
        tally["latencies"] = []
        tallies.append(tally)
        threads.append(threading.Thread(
            target=_drive, args=(job, device, job["first_index"] + index, tally)))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    merged = Counter()
    latencies = []
    for tally in tallies:
        latencies += tally.pop("latencies")
        finished = tally.pop("finished", 0.0)
        merged["finished"] = max(merged["finished"], finished)
        merged.update(tally)
    out.put((dict(merged), latencies))


def load(base_url, mode, devices, cards, *, clients, threads, seconds, rate=None, batch=500,
         batches=0, seed=1):
    """Run ``mode`` from ``clients`` processes × ``threads`` threads; return its figures."""
    ctx = mp.get_context("spawn")
    out = ctx.Queue()
    total = clients * threads
    if len(devices) < total:
        raise SystemExit(f"{mode}: {total} threads need {total} terminals, {len(devices)} exist")
    start_at = time.time() + 3.0  # every process imported and waiting
    procs = []
    for c in range(clients):
        job = {"base_url": base_url, "mode": mode, "cards": cards, "seconds": seconds,
               "rate": rate, "threads_total": total, "start_at": start_at, "seed": seed + c,
               "batch": batch, "batches": batches, "first_index": c * threads,
               "devices": devices[c * threads:(c + 1) * threads]}
        procs.append(ctx.Process(target=client_process, args=(job, out)))
    for proc in procs:
        proc.start()
    results = [out.get() for _ in procs]
    for proc in procs:
        proc.join()
        if proc.exitcode != 0:
            raise SystemExit(f"a {mode} client process failed with exit code {proc.exitcode}")
    merged = Counter()
    latencies = []
    finished = 0.0
    for tally, lats in results:
        finished = max(finished, tally.pop("finished", 0.0))
        merged.update(tally)
        latencies += lats
    latencies.sort()
    elapsed = max(1e-9, (finished - start_at) if mode == "offline" else seconds)
    figures = {
        "mode": mode, "clients": clients, "threads": threads, "requests": merged["requests"],
        "rate": merged["requests"] / elapsed, "elapsed": elapsed,
        "p50_ms": _pct(latencies, 0.50), "p95_ms": _pct(latencies, 0.95),
        "p99_ms": _pct(latencies, 0.99),
        "outcomes": {k.split(":", 1)[1]: v for k, v in merged.items()
                     if k.startswith("outcome:")},
        "unexpected": {k.split(":", 1)[1]: v for k, v in merged.items()
                       if k.startswith("unexpected:")},
    }
    if rate:
        figures["target_rate"] = rate
    if mode == "offline":
        records = {k.split(":", 1)[1]: v for k, v in merged.items() if k.startswith("records:")}
        figures["records"] = records
        figures["batches"] = merged["batches"]
        figures["records_rate"] = records.get("ok", 0) / elapsed
        bad = {k: v for k, v in records.items() if k != "ok"}
        for status, number in bad.items():
            if status in ("rejected:bad_mac", "rejected:broken_chain"):
                figures["unexpected"][f"record {status}"] = number
    return figures


def _pct(values, q):
    if not values:
        return None
    return 1000 * values[min(len(values) - 1, int(len(values) * q))]


# --- Main -----------------------------------------------------------------------------------------

def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=None,
                        help="PostgreSQL URL of a scratch database (dropped and re-created); "
                             "default: a temporary SQLite file")
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--clients", type=int, default=2, help="load processes")
    parser.add_argument("--threads", type=int, default=4, help="threads (terminals) per process")
    parser.add_argument("--server-workers", type=int, default=3, help="gunicorn workers")
    parser.add_argument("--rate", type=float, default=None,
                        help="fixed purchase rate (default 300/s PostgreSQL, 100/s SQLite)")
    parser.add_argument("--members", type=int, default=1000)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--batches", type=int, default=4, help="offline batches per thread")
    parser.add_argument("--raw-sql", action=argparse.BooleanOptionalAction, default=True)
    parser.add_argument("--json", default=None, help="also write the figures to this file")
    args = parser.parse_args(argv)

    tmp = tempfile.mkdtemp(prefix="onecard-terminal-bench-")
    if args.database_url:
        database_url = args.database_url
        _recreate_postgres(database_url)
    else:
        database_url = f"sqlite:///{tmp}/bench.sqlite3"
    # The server and the builder must share the secret key (device secrets are sealed with it).
    os.environ["ONECARD_VAR_DIR"] = tmp
    os.environ["DATABASE_URL"] = database_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "onecard.settings")
    vendor = "postgresql" if database_url.startswith("postgres") else "sqlite"
    rate = args.rate or TARGETS[vendor]["fixed_rate"]
    terminals = args.clients * args.threads
    print(f"Building {args.members} members with cards and {terminals} POS + {terminals} doors "
          f"on {vendor} ...", flush=True)
    ctx = mp.get_context("spawn")
    with ctx.Pool(1) as pool:  # build in a child, so this process never holds a connection
        plan = pool.apply(build, (database_url, args.members, terminals, terminals))
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    log_path = Path(tmp) / "server.log"
    print(f"Starting onecard serve ({args.server_workers} gunicorn workers) on {base_url} ...",
          flush=True)
    server = start_server(port, args.server_workers, log_path)
    figures = {"database": vendor, "clients": args.clients, "threads": args.threads,
               "server_workers": args.server_workers, "seconds": args.seconds,
               "members": args.members, "python": platform.python_version(),
               "cpus": os.cpu_count(), "machine": platform.machine()}
    try:
        devices = enrol_all(base_url, plan.enrolments)
        common = {"clients": args.clients, "threads": args.threads, "seconds": args.seconds}
        print("Purchases, max rate ...", flush=True)
        figures["purchase"] = load(base_url, "purchase", devices["pos"], plan.purse_cards,
                                   seed=11, **common)
        print(f"Purchases at {rate:.0f}/s ...", flush=True)
        figures["purchase_fixed"] = load(base_url, "purchase", devices["pos"], plan.purse_cards,
                                         rate=rate, seed=22, **common)
        print("Access decisions, max rate ...", flush=True)
        figures["access"] = load(base_url, "access", devices["door"], plan.access_cards,
                                 seed=33, **common)
        print(f"Offline upload, batches of {args.batch} ...", flush=True)
        figures["offline"] = load(base_url, "offline", devices["pos"], plan.purse_cards,
                                  batch=args.batch, batches=args.batches, seed=44,
                                  **common | {"seconds": 600})
    finally:
        stop_server(server)
    if args.raw_sql:
        print("The same purchase in raw SQL ...", flush=True)
        figures["raw_sql"] = run_parallel(raw_worker, database_url, args.clients, args.seconds)
        figures["http_over_raw"] = figures["purchase"]["rate"] / figures["raw_sql"]["rate"]
    with ctx.Pool(1) as pool:
        figures["verify"] = pool.apply(verify, (database_url,))

    unexpected = {f"{name} {what}": number
                  for name in ("purchase", "purchase_fixed", "access", "offline")
                  for what, number in figures[name]["unexpected"].items()}
    figures["unexpected"] = unexpected
    target = TARGETS[vendor]
    rows = [
        ("purchases, max rate", figures["purchase"], f"≥ {target['purchase_rate']}/s",
         figures["purchase"]["rate"] >= target["purchase_rate"]),
        (f"purchases at {rate:.0f}/s", figures["purchase_fixed"],
         f"p99 ≤ {target['fixed_p99_ms']} ms",
         (figures["purchase_fixed"]["p99_ms"] or 1e9) <= target["fixed_p99_ms"]),
        ("access decisions", figures["access"], f"≥ {TARGETS['access_rate']}/s",
         figures["access"]["rate"] >= TARGETS["access_rate"]),
    ]
    print()
    print(f"| {vendor}, {args.server_workers} gunicorn workers, {args.clients}×{args.threads} "
          "clients | requests | per s | p50 ms | p99 ms | target | met |")
    print("|---|---:|---:|---:|---:|---|---|")
    for name, f, goal, met in rows:
        print(f"| {name} | {f['requests']} | {f['rate']:.0f} | {_fmt(f['p50_ms'])} | "
              f"{_fmt(f['p99_ms'])} | {goal} | {'yes' if met else '**no**'} |")
    o = figures["offline"]
    met = o["records_rate"] >= TARGETS["offline_rate"]
    print(f"| offline upload, batches of {args.batch} | {sum(o['records'].values())} records "
          f"| {o['records_rate']:.0f} records | {_fmt(o['p50_ms'])} /batch | "
          f"{_fmt(o['p99_ms'])} /batch | ≥ {TARGETS['offline_rate']} records/s | "
          f"{'yes' if met else '**no**'} |")
    if args.raw_sql:
        r = figures["raw_sql"]
        print(f"| raw SQL purchase ({args.clients} processes) | {r['count']} | {r['rate']:.0f} "
              f"| {_fmt(r['p50_ms'])} | {_fmt(r['p99_ms'])} | | |")
        print(f"\nHTTP purchases / raw SQL = {figures['http_over_raw']:.0%}")
    print("outcomes: " + "; ".join(
        f"{name}: " + ", ".join(f"{k} {v}" for k, v in figures[name]["outcomes"].items())
        for name in ("purchase", "purchase_fixed", "access") if figures[name]["outcomes"]))
    print(f"offline records: {o['records']}")
    v = figures["verify"]
    print(f"ledger verify: {'ok' if v['ledger_ok'] else 'FAILED'} ({v['accounts']} accounts, "
          f"{v['transfers']} transfers); audit: {'ok' if v['audit_ok'] else 'FAILED'} "
          f"({v['audit_records']} records)")
    if unexpected:
        print("UNEXPECTED: " + ", ".join(f"{k} ×{n}" for k, n in unexpected.items()))
    else:
        print("unexpected answers: none")
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=2))
    if v["ok"] and not unexpected:
        shutil.rmtree(tmp, ignore_errors=True)
        return 0
    print(f"kept for a look: {tmp} (server.log, the SQLite file if any)")
    return 1


def _fmt(value):
    return "-" if value is None else f"{value:.1f}"


if __name__ == "__main__":
    sys.exit(main())
