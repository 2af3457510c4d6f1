"""The fleet simulator: many terminals talking protocol v1 to a running OneCard server.

Pure client side (no Django import): it speaks HTTP to ``base_url`` with one keep-alive
``http.client`` connection and one thread per simulated terminal, signing every request with
``onecard.terminals.protocol.signing``. ``onecard simulate`` prepares the fleet (enrolment codes
and member cards, ``onecard.terminals.fleet``), calls :func:`run_simulation`, then checks the
ledger in-process.

What a run does, on a simulated clock that runs ``speed`` times faster than the wall clock
(1,440: one simulated day per real minute; the day starts at ``start_hour``):

- every terminal enrols with its one-time code (``POST enrol``) and keeps its device id and
  secret in memory, reads ``GET time``, then sends a heartbeat every ``heartbeat_every`` real
  seconds and syncs its credential list every ``sync_every`` real seconds (delta after the first
  snapshot, following ``more`` pages);
- door controllers and attendance clocks peak at the morning arrival (and the evening
  departure), POS terminals at the lunch rush (and breakfast and dinner), top-up machines work
  in the background; a few requests use a lost card or an unknown card number;
- faults: a request abandoned after it was sent (network drop) and retried with the same
  ``client_id`` must answer the first result; a terminal of each offline-capable kind goes
  offline for a while, keeps records in its hash chain, and uploads them in batches when it is
  back, then uploads the last batch again (every stored record must answer ``exists``, a
  refused one its first refusal); a few terminals run with a clock skew inside ±300 s (they
  keep working) and one far outside (its refusals, ``stale_timestamp``, count as expected).

Anything but the answers the protocol promises counts as *unexpected* (listed in the summary):
a status other than 200 (except the far-skewed terminal's 401), a retry that does not answer
the first result, a re-uploaded record not answered as the first time, a record refused for
``bad_mac`` or ``broken_chain``, a sequence gap, a transport error that persists after one
retry.
"""

from __future__ import annotations

import http.client
import json
import math
import random
import threading
import time
import urllib.parse
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime

from .protocol.signing import chain_records, signed_headers

__all__ = [
    "FleetPlan",
    "SimulationConfig",
    "Summary",
    "run_simulation",
]

PREFIX = "/terminal/v1/"
DAY = 86400.0
# Offline records the protocol lets a terminal send in one upload.
MAX_BATCH = 500
# Record outcomes that mean the simulator (or the server) got the chain wrong.
CHAIN_FAILURES = ("rejected:bad_mac", "rejected:broken_chain")


@dataclass
class FleetPlan:
    """What the simulator needs to know about the fleet, prepared server-side.

    ``enrolments``: ``(kind, one-time code)`` per terminal, kind one of ``pos``, ``door``,
    ``clock``, ``topup``. Card lists hold card numbers: ``purse_cards`` (active, purse
    application), ``access_cards`` (active, door access), ``attendance_cards`` (active,
    attendance), ``denied_cards`` (lost or suspended: every terminal must refuse them).
    ``terminal_ids``: the registry's ids of the terminals, for the server side to retire them.
    """

    enrolments: list
    purse_cards: list
    access_cards: list
    attendance_cards: list
    denied_cards: list = field(default_factory=list)
    terminal_ids: list = field(default_factory=list)


@dataclass
class SimulationConfig:
    """How long, how fast and how faulty a run is. Durations are real (wall-clock) seconds."""

    base_url: str = "http://127.0.0.1:8000"
    seconds: float = 60.0
    speed: float = 1440.0  # simulated seconds per real second: one day per minute
    start_hour: float = 6.0
    load: float = 1.0  # multiplies every terminal's event rate
    heartbeat_every: float = 5.0
    sync_every: float = 10.0
    drop_rate: float = 0.02  # share of money/punch requests abandoned and retried
    denied_rate: float = 0.02  # share of card events using a lost/suspended card
    unknown_rate: float = 0.01  # share of card events using a card number nobody has
    skewed: int = 3  # terminals whose clock is off by 60-240 s (still accepted)
    far_skewed: int = 1  # terminals whose clock is off by 900 s (refused: expected)
    offline: bool = True  # one POS, one clock and one door go offline for a while
    # The outage, in simulated hours (over the lunch rush); if the run does not reach it, the
    # middle of the run (30–60 %) instead.
    offline_hours: tuple = (11.0, 14.0)
    # Terminals enrol spread over this many real seconds (at most 5 % of the run), not at once.
    enrol_spread: float = 3.0
    offline_min_records: int = 0  # records made up on reconnect if the window made fewer
    batch: int = 100  # offline records per upload (≤ 500)
    timeout: float = 15.0
    seed: int = 2026
    # At most this many requests in flight over the whole fleet (None: no limit). A test server
    # sharing one database connection between its threads (Django's live server on in-memory
    # SQLite) needs 1; an abandoned request then keeps the slot ``abandon_settle`` seconds, the
    # time the server needs to finish it.
    max_in_flight: int | None = None
    abandon_settle: float = 0.0


class Summary:
    """Thread-safe tallies of one run. ``unexpected`` lists what broke the protocol's promises;
    ``ok`` is true when it is empty."""

    def __init__(self):
        self._lock = threading.Lock()
        self.requests = Counter()  # endpoint -> requests answered
        self.statuses = Counter()  # (endpoint, status) -> count
        self.outcomes = defaultdict(Counter)  # endpoint -> outcome -> count
        self.latencies = defaultdict(list)  # endpoint -> seconds
        self.expected_refusals = Counter()  # "endpoint status error" -> count
        self.unexpected = Counter()  # description -> count
        self.unexpected_examples = []
        self.transport_errors = 0
        self.drops = 0  # requests abandoned after sending
        self.replayed = 0  # retries answered with the first result (replayed: true)
        self.offline_records = Counter()  # status -> count (first uploads)
        self.offline_by_kind = Counter()  # "kind status" -> count (first uploads)
        self.duplicate_records = Counter()  # status -> count (the same batch again)
        self.skew_reports = {}  # device id -> (configured skew, reported clock_skew_seconds)
        self.enrolled = Counter()  # kind -> terminals enrolled
        self.started = time.monotonic()
        self.elapsed = 0.0

    # --- recording (called from terminal threads) ---

    def answered(self, endpoint, status, latency, outcome=None):
        with self._lock:
            self.requests[endpoint] += 1
            self.statuses[(endpoint, status)] += 1
            self.latencies[endpoint].append(latency)
            if outcome is not None:
                self.outcomes[endpoint][outcome] += 1

    def expected(self, endpoint, status, error):
        with self._lock:
            self.expected_refusals[f"{endpoint} {status} {error}"] += 1

    def wrong(self, description, example=None):
        with self._lock:
            self.unexpected[description] += 1
            if example is not None and len(self.unexpected_examples) < 20:
                self.unexpected_examples.append(f"{description}: {example}"[:300])

    def count(self, name, amount=1):
        with self._lock:
            setattr(self, name, getattr(self, name) + amount)

    # --- reading ---

    @property
    def ok(self):
        return not self.unexpected

    @property
    def total_requests(self):
        return sum(self.requests.values())

    @property
    def approvals(self):
        return sum(self.outcomes[e]["approved"] for e in ("purchases", "top-ups"))

    def refusals_by_reason(self):
        reasons = Counter()
        for endpoint, outcomes in self.outcomes.items():
            for outcome, number in outcomes.items():
                if outcome.startswith(("refused:", "deny:")):
                    reasons[f"{endpoint} {outcome}"] += number
        return reasons

    def percentiles(self, endpoint=None):
        """(p50, p95, p99) in milliseconds, of one endpoint or of all."""
        if endpoint is None:
            values = sorted(x for v in self.latencies.values() for x in v)
        else:
            values = sorted(self.latencies.get(endpoint, []))
        if not values:
            return (None, None, None)
        return tuple(1000 * values[min(len(values) - 1, int(len(values) * q))]
                     for q in (0.50, 0.95, 0.99))

    def as_dict(self):
        p50, p95, p99 = self.percentiles()
        return {
            "ok": self.ok,
            "seconds": round(self.elapsed, 2),
            "enrolled": dict(self.enrolled),
            "requests": dict(self.requests),
            "total_requests": self.total_requests,
            "statuses": {f"{e} {s}": n for (e, s), n in self.statuses.items()},
            "outcomes": {e: dict(o) for e, o in self.outcomes.items()},
            "approvals": self.approvals,
            "refusals": dict(self.refusals_by_reason()),
            "expected_refusals": dict(self.expected_refusals),
            "latency_ms": {"p50": p50, "p95": p95, "p99": p99},
            "latency_ms_by_endpoint": {e: dict(zip(("p50", "p95", "p99"), self.percentiles(e),
                                                   strict=True))
                                       for e in sorted(self.latencies)},
            "drops": self.drops,
            "replayed": self.replayed,
            "transport_errors": self.transport_errors,
            "offline_records": dict(self.offline_records),
            "offline_by_kind": dict(self.offline_by_kind),
            "duplicate_records": dict(self.duplicate_records),
            "skew_reports": dict(self.skew_reports),
            "unexpected": dict(self.unexpected),
            "unexpected_examples": list(self.unexpected_examples),
        }

    def lines(self):
        """The human summary, as lines of text."""
        out = [f"{self.total_requests} requests in {self.elapsed:.1f} s "
               f"({self.total_requests / max(self.elapsed, 1e-9):.0f}/s); terminals enrolled: "
               + ", ".join(f"{k} {n}" for k, n in sorted(self.enrolled.items())), "",
               "| endpoint | requests | p50 ms | p95 ms | p99 ms | outcomes |",
               "|---|---:|---:|---:|---:|---|"]
        for endpoint in sorted(self.requests):
            p50, p95, p99 = self.percentiles(endpoint)
            outcomes = ", ".join(f"{o} {n}" for o, n in self.outcomes[endpoint].most_common())
            out.append(f"| {endpoint} | {self.requests[endpoint]} | {_ms(p50)} | {_ms(p95)} | "
                       f"{_ms(p99)} | {outcomes} |")
        p50, p95, p99 = self.percentiles()
        out += ["", f"latency, all requests: p50 {_ms(p50)} ms, p95 {_ms(p95)} ms, "
                    f"p99 {_ms(p99)} ms",
                f"approvals (purchases + top-ups): {self.approvals}"]
        refusals = self.refusals_by_reason()
        out.append("refusals by reason: " + (", ".join(
            f"{r} {n}" for r, n in refusals.most_common()) or "none"))
        out.append(f"network drops retried: {self.drops} ({self.replayed} answered replayed)")
        out.append("offline records uploaded: " + (", ".join(
            f"{s} {n}" for s, n in self.offline_records.most_common()) or "none")
            + "; the same batch again: " + (", ".join(
            f"{s} {n}" for s, n in self.duplicate_records.most_common()) or "none"))
        if self.skew_reports:
            out.append("clock skew (configured → reported by heartbeat): " + ", ".join(
                f"{d} {c:+.0f}→{r}" for d, (c, r) in sorted(self.skew_reports.items())))
        out.append("expected refusals: " + (", ".join(
            f"{r} {n}" for r, n in self.expected_refusals.most_common()) or "none"))
        out.append(f"transport errors retried: {self.transport_errors}")
        if self.unexpected:
            out.append("UNEXPECTED: " + ", ".join(
                f"{d} ×{n}" for d, n in self.unexpected.most_common()))
            out += [f"  {example}" for example in self.unexpected_examples]
        else:
            out.append("unexpected answers: none")
        return out


def _ms(value):
    return "-" if value is None else f"{value:.1f}"


# --- Daily patterns -----------------------------------------------------------------------------

def _bump(hour, centre, width, height):
    return height * math.exp(-0.5 * ((hour - centre) / width) ** 2)


def event_rate(kind, hour):
    """Events per real second of one terminal of ``kind`` at simulated ``hour`` (0–24), before
    the ``load`` multiplier: arrival and departure peaks for doors and clocks, meals for POS."""
    night = 0.02 if 6 <= hour < 22 else 0.002
    if kind == "door":
        return (night + _bump(hour, 8.2, 0.45, 0.8) + _bump(hour, 12.0, 0.6, 0.25)
                + _bump(hour, 17.8, 0.5, 0.5))
    if kind == "clock":
        return night / 2 + _bump(hour, 8.3, 0.35, 0.8) + _bump(hour, 17.9, 0.4, 0.6)
    if kind == "pos":
        return (night + _bump(hour, 7.6, 0.4, 0.35) + _bump(hour, 12.0, 0.5, 1.2)
                + _bump(hour, 18.0, 0.5, 0.6))
    if kind == "topup":
        return 0.15 if 8 <= hour < 20 else 0.01
    return 0.0


PEAK_RATE = {kind: max(event_rate(kind, h / 10) for h in range(240))
             for kind in ("door", "clock", "pos", "topup")}


# --- One terminal --------------------------------------------------------------------------------

class TransportError(Exception):
    """The request could not be sent or its answer not read."""


class Connection:
    """One keep-alive HTTP connection to the server (re-opened when the server closes it)."""

    def __init__(self, base_url, timeout):
        parts = urllib.parse.urlsplit(base_url)
        if parts.scheme not in ("http", "https"):
            raise ValueError("the server URL must be http:// or https://")
        self.https = parts.scheme == "https"
        self.host = parts.hostname
        self.port = parts.port or (443 if self.https else 80)
        self.timeout = timeout
        self._conn = None

    def _open(self):
        if self._conn is None:
            cls = http.client.HTTPSConnection if self.https else http.client.HTTPConnection
            self._conn = cls(self.host, self.port, timeout=self.timeout)
        return self._conn

    def close(self):
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def send(self, method, path, raw, headers, *, abandon=False):
        """Send one request; return (status, decoded json or None), or None when ``abandon``
        (the request is sent whole, then the connection dropped before the answer)."""
        conn = self._open()
        try:
            conn.request(method, path, body=raw or None, headers=headers)
            if abandon:
                self.close()
                return None
            response = conn.getresponse()
            data = response.read()
            if response.will_close:
                self.close()
        except (OSError, http.client.HTTPException) as error:
            self.close()
            raise TransportError(f"{type(error).__name__}: {error}") from error
        return response.status, _decode(data)


def _decode(data):
    if not data:
        return None
    try:
        return json.loads(data)
    except ValueError:
        return {"error": "not_json", "detail": data[:200].decode("utf-8", "replace")}


class SimulatedTerminal(threading.Thread):
    """One terminal: enrols, then runs its kind's pattern, heartbeats, syncs, and its faults."""

    def __init__(self, index, kind, code, plan, config, summary, stop, *, skew=0.0,
                 far_skew=False, offline_window=None, started_at=None, gate=None):
        super().__init__(name=f"terminal-{kind}-{index}", daemon=True)
        self.index, self.kind, self.code = index, kind, code
        self.plan, self.config, self.summary, self.stop = plan, config, summary, stop
        self.skew, self.far_skew = skew, far_skew
        self.offline_window = offline_window  # (start, end) in monotonic seconds, or None
        self.started_at = started_at or time.monotonic()
        self.gate = gate  # a semaphore bounding the fleet's requests in flight, or None
        self.rng = random.Random(config.seed * 1000 + index)
        self.connection = Connection(config.base_url, config.timeout)
        self.device_id = None
        self.secret = None
        self.sequence = time.time_ns() // 1000
        self.credential_version = 0
        self.offline_records = []  # records kept while offline, not yet uploaded
        self.record_sequence = 0
        self.chain_head = None
        self.last_batch = None
        self.first_status = {}  # offline record sequence -> status of its first upload
        self.dropped_once = False
        self.path_prefix = urllib.parse.urlsplit(config.base_url).path.rstrip("/") + PREFIX
        self.error = None

    # --- the loop ---

    def run(self):
        try:
            self._run()
        except Exception as error:  # noqa: BLE001 - a terminal's crash is reported, not raised
            self.error = error
            self.summary.wrong("simulator terminal crashed", f"{self.name}: {error!r}")
        finally:
            self.connection.close()

    def _run(self):
        spread = min(self.config.enrol_spread, 0.05 * self.config.seconds)
        if self.stop.wait(self.rng.uniform(0, spread)) or not self.enrol():
            return
        self.call("GET", "time")
        self.sync_credentials()
        now = time.monotonic()
        next_heartbeat = now + self.rng.uniform(0, self.config.heartbeat_every)
        next_sync = now + self.rng.uniform(0, self.config.sync_every)
        next_event = now + self._next_gap()
        caught_up = not self.offline_window  # True once back from the outage
        while not self.stop.is_set():
            due = min(next_heartbeat, next_sync, next_event)
            if self.stop.wait(max(0.0, due - time.monotonic())):
                break
            now = time.monotonic()
            offline = self.is_offline(now)
            if not caught_up and not offline and now >= self.offline_window[0]:
                # Back online, even if a slow call slept through the whole outage.
                self.reconnect()
                caught_up = True
            if now >= next_event:
                next_event = now + self._next_gap()
                # Thinning: candidates come at the kind's peak rate, kept at the current rate.
                if self.rng.random() * PEAK_RATE[self.kind] < event_rate(self.kind, self.hour()):
                    self.event(offline)
            if now >= next_heartbeat:
                next_heartbeat = now + self.config.heartbeat_every
                if not offline:
                    self.heartbeat()
            if now >= next_sync:
                next_sync = now + self.config.sync_every
                if not offline:
                    self.sync_credentials()
        if self.offline_records or not caught_up:
            self.reconnect()  # the run ended during or before the outage: catch up now

    def _next_gap(self):
        return self.rng.expovariate(PEAK_RATE[self.kind] * max(self.config.load, 1e-6))

    def is_offline(self, now):
        return bool(self.offline_window) and self.offline_window[0] <= now < self.offline_window[1]

    def hour(self):
        simulated = (time.monotonic() - self.started_at) * self.config.speed
        return (self.config.start_hour + simulated / 3600.0) % 24

    def terminal_time(self):
        """The terminal's own clock: the real time plus its skew."""
        return time.time() + self.skew

    def terminal_iso(self):
        return datetime.fromtimestamp(self.terminal_time(), UTC).isoformat(timespec="seconds")

    # --- protocol calls ---

    def enrol(self):
        raw = json.dumps({"code": self.code, "serial": f"SIM-{self.kind}-{self.index:04d}",
                          "firmware": "1.2.3"}).encode()
        try:
            status, body, _latency = self._timed("enrol", "POST", self.path_prefix + "enrol",
                                                 raw, {"Content-Type": "application/json"})
        except TransportError as error:
            self.summary.wrong("enrol transport error", error)
            return False
        if status != 200 or not isinstance(body, dict) or "secret" not in body:
            self.summary.wrong(f"enrol {status}", body)
            return False
        self.device_id, self.secret = body["device_id"], body["secret"]
        self.credential_version = 0
        self.summary.answered("enrol", status, _latency)
        with self.summary._lock:
            self.summary.enrolled[self.kind] += 1
        return True

    def _send(self, method, path, raw, headers, abandon):
        """(answer, seconds): the time counts from sending, not from waiting for the gate."""
        if self.gate is None:
            started = time.perf_counter()
            answer = self.connection.send(method, path, raw, headers, abandon=abandon)
            return answer, time.perf_counter() - started
        with self.gate:
            started = time.perf_counter()
            answer = self.connection.send(method, path, raw, headers, abandon=abandon)
            latency = time.perf_counter() - started
            if abandon:
                time.sleep(self.config.abandon_settle)
            return answer, latency

    def _timed(self, endpoint, method, path, raw, headers, *, abandon=False):
        try:
            answer, latency = self._send(method, path, raw, headers, abandon)
        except TransportError:
            self.summary.count("transport_errors")
            self.connection.close()
            # One retry, signed afresh by the caller when it matters; enrol is retried as is.
            if endpoint != "enrol":
                raise
            answer, latency = self._send(method, path, raw, headers, abandon)
        if answer is None:
            return None, None, None
        return answer[0], answer[1], latency

    def call(self, method, endpoint, body=None, *, query="", abandon=False):
        """Sign and send one request; record its answer. Returns (status, json) or None."""
        raw = b"" if body is None else json.dumps(body, ensure_ascii=False).encode("utf-8")
        path = self.path_prefix + endpoint + (f"?{query}" if query else "")
        for attempt in (1, 2):
            self.sequence += 1
            headers = signed_headers(self.device_id, self.secret, method, path,
                                     int(self.terminal_time()), self.sequence, raw)
            if raw:
                headers["Content-Type"] = "application/json"
            try:
                status, answer, latency = self._timed(endpoint, method, path, raw, headers,
                                                      abandon=abandon)
                break
            except TransportError as error:
                if attempt == 2:
                    self.summary.wrong(f"{endpoint} transport error", error)
                    return None
        if abandon:
            return None
        return self.judge(endpoint, status, answer, latency)

    def judge(self, endpoint, status, answer, latency):
        """Count the answer; anything the protocol does not promise is unexpected."""
        error = answer.get("error") if isinstance(answer, dict) else None
        if self.far_skew:
            self.summary.answered(endpoint, status, latency)
            if status == 401 and error == "stale_timestamp":
                self.summary.expected(endpoint, status, error)
            else:
                self.summary.wrong(f"{endpoint} {status} from a clock 900 s off "
                                   "(expected 401 stale_timestamp)", answer)
            return None
        if status != 200 or not isinstance(answer, dict):
            self.summary.answered(endpoint, status, latency)
            self.summary.wrong(f"{endpoint} {status} {error or ''}".strip(), answer)
            return None
        self.summary.answered(endpoint, status, latency, _outcome(endpoint, answer))
        return answer

    def heartbeat(self):
        answer = self.call("POST", "heartbeat", {"firmware": "1.2.3", "clock": self.terminal_iso(),
                                                 "state": "ok"})
        if answer and self.skew:
            with self.summary._lock:
                self.summary.skew_reports[self.device_id] = (self.skew,
                                                             answer.get("clock_skew_seconds"))

    def sync_credentials(self):
        since = self.credential_version
        for _page in range(100):
            answer = self.call("GET", "credentials", query=f"since={since}")
            if not answer:
                return
            version = answer.get("version", since)
            if answer.get("more") and version != since:
                since = version
                continue
            self.credential_version = version
            return

    # --- the events of each kind ---

    def pick_card(self, cards):
        roll = self.rng.random()
        if roll < self.config.unknown_rate:
            return "9" * 19
        if roll < self.config.unknown_rate + self.config.denied_rate and self.plan.denied_cards:
            return self.rng.choice(self.plan.denied_cards)
        return self.rng.choice(cards) if cards else "9" * 19

    def event(self, offline):
        hour = self.hour()
        if self.kind == "pos":
            card = self.pick_card(self.plan.purse_cards)
            amount = self.rng.randint(300, 2500)
            if offline:
                return self.keep_offline({"kind": "purchase", "client_id": uuid.uuid4().hex,
                                          "card_number": card, "amount": amount})
            if self.rng.random() < 0.1:
                self.call("POST", "cards/lookup", {"card_number": card})
            if self.rng.random() < 0.05:
                self.call("POST", "balance", {"card_number": card})
            return self.money("purchases", {"client_id": uuid.uuid4().hex, "card_number": card,
                                            "amount": amount, "pin_verified": False})
        if self.kind == "topup":
            card = self.pick_card(self.plan.purse_cards)
            if self.rng.random() < 0.3:
                self.call("POST", "balance", {"card_number": card})
            return self.money("top-ups", {"client_id": uuid.uuid4().hex, "card_number": card,
                                          "amount": self.rng.choice([5000, 10000, 20000])})
        if self.kind == "door":
            card = self.pick_card(self.plan.access_cards)
            if offline:
                return self.keep_offline({"kind": "access", "client_id": uuid.uuid4().hex,
                                          "card_number": card})
            direction = "in" if hour < 12.5 else "out"
            return self.call("POST", "access", {"card_number": card, "direction": direction})
        if self.kind == "clock":
            card = self.pick_card(self.plan.attendance_cards)
            if offline:
                return self.keep_offline({"kind": "punch", "client_id": uuid.uuid4().hex,
                                          "card_number": card})
            return self.money("punches", {"client_id": uuid.uuid4().hex, "card_number": card,
                                          "punched_at": self.terminal_iso()})
        return None

    def money(self, endpoint, body):
        """A request with a client id; now and then (and always the terminal's first one, when
        drops are on) dropped after sending, then retried with the same client id: the retry
        must answer what the first one did."""
        first, self.dropped_once = not self.dropped_once, True
        if self.far_skew or self.config.drop_rate <= 0 or (
                not first and self.rng.random() >= self.config.drop_rate):
            return self.call("POST", endpoint, body)
        self.summary.count("drops")
        self.call("POST", endpoint, body, abandon=True)
        time.sleep(self.rng.uniform(0.05, 0.2))  # the terminal's answer timeout
        answer = self.call("POST", endpoint, body)
        if not answer:
            return None
        if answer.get("replayed") or answer.get("result") == "exists":
            self.summary.count("replayed")
        if endpoint == "purchases" and answer.get("result") == "approved" and (
                answer.get("amount") not in (None, body["amount"])
                or answer.get("client_id") not in (None, body["client_id"])):
            self.summary.wrong("purchases retry answered another purchase", answer)
        return answer

    # --- offline ---

    def keep_offline(self, record):
        self.record_sequence += 1
        record["sequence"] = self.record_sequence
        if record["kind"] == "purchase":
            record["amount"] = min(record["amount"], 1500)
        record["created_at"] = self.terminal_iso()
        self.offline_records.append(record)

    def reconnect(self):
        """Back online: upload the records kept offline in batches (sequence order, chained),
        then the last batch again: each stored record must answer ``exists``, each refused one
        its first refusal."""
        while len(self.offline_records) < self.config.offline_min_records:
            self.event(offline=True)
            if not self.offline_records and self.kind not in ("pos", "door", "clock"):
                break
        records, self.offline_records = self.offline_records, []
        batch = max(1, min(self.config.batch, MAX_BATCH))
        for start in range(0, len(records), batch):
            chunk, self.chain_head = chain_records(self.secret, records[start:start + batch],
                                                   self.chain_head or "0" * 64)
            self.upload(chunk, self.summary.offline_records)
            self.last_batch = chunk
        if self.last_batch:
            self.upload(self.last_batch, self.summary.duplicate_records, duplicate=True)
        self.sync_credentials()

    def upload(self, records, tally, *, duplicate=False):
        answer = self.call("POST", "offline-records", {"records": records})
        if not answer:
            return
        results = answer.get("results") or []
        if len(results) != len(records):
            self.summary.wrong("offline-records answered another number of results",
                               f"{len(records)} sent, {len(results)} answered")
        kinds = {record["sequence"]: record["kind"] for record in records}
        for result in results:
            status = result.get("status", "")
            with self.summary._lock:
                tally[status] += 1
                if not duplicate:
                    self.summary.offline_by_kind[f"{kinds.get(result.get('sequence'))} "
                                                 f"{status}"] += 1
            sequence = result.get("sequence")
            if not duplicate:
                self.first_status[sequence] = status
            elif status != _again(self.first_status.get(sequence)):
                # Stored records answer ``exists``; refused ones their first refusal again.
                self.summary.wrong("duplicate upload record not answered as before", result)
            elif status in CHAIN_FAILURES:
                self.summary.wrong(f"offline record {status}", result)
        if answer.get("gaps"):
            self.summary.wrong("offline-records reported a sequence gap", answer["gaps"])


def _again(first_status):
    """What a re-upload of a record must answer, given its first answer."""
    return "exists" if first_status in ("ok", "exists") else first_status


def _outcome(endpoint, answer):
    if endpoint in ("purchases", "top-ups"):
        result = answer.get("result")
        return f"refused:{answer.get('reason')}" if result == "refused" else result
    if endpoint == "access":
        decision = answer.get("decision")
        return f"deny:{answer.get('reason')}" if decision == "deny" else decision
    if endpoint == "punches":
        return answer.get("result")
    if endpoint == "cards/lookup":
        return "accepted" if answer.get("accepted") else f"refused:{answer.get('reason')}"
    if endpoint == "credentials":
        return answer.get("mode")
    return None


# --- The run -------------------------------------------------------------------------------------

def offline_window(config, started):
    """(start, end) of the outage in monotonic seconds: ``offline_hours`` of the simulated
    day if the run reaches their end, else 30–60 % of the run."""
    first, last = config.offline_hours
    begin = ((first - config.start_hour) % 24) * 3600 / config.speed
    end = begin + ((last - first) % 24) * 3600 / config.speed
    if end >= 0.9 * config.seconds:
        begin, end = 0.3 * config.seconds, 0.6 * config.seconds
    return started + begin, started + end


def run_simulation(plan, config, *, progress=None):
    """Run the fleet of ``plan`` against ``config.base_url`` for ``config.seconds``; return the
    :class:`Summary`. ``progress``, when given, is called with a line of text now and then."""
    summary = Summary()
    stop = threading.Event()
    gate = threading.BoundedSemaphore(config.max_in_flight) if config.max_in_flight else None
    rng = random.Random(config.seed)
    started = time.monotonic()
    window = offline_window(config, started) if config.offline else None
    indexed = list(enumerate(plan.enrolments))
    # The far skew goes to the last terminals; the outage to the first POS, door and clock
    # left; the small skews to others still.
    far = {i for i, _e in indexed[::-1][:config.far_skewed]}
    offline = {}
    for index, (kind, _code) in indexed:
        if config.offline and kind in ("pos", "door", "clock") and index not in far:
            offline.setdefault(kind, index)
    offline = set(offline.values())
    others = [i for i, _e in indexed if i not in far and i not in offline]
    skewed = set(rng.sample(others, min(config.skewed, len(others))))
    terminals = []
    for index, (kind, code) in indexed:
        skew = 0.0
        if index in skewed:
            skew = rng.choice([-1, 1]) * rng.uniform(60, 240)
        elif index in far:
            skew = 900.0
        terminals.append(SimulatedTerminal(
            index, kind, code, plan, config, summary, stop, skew=skew, far_skew=index in far,
            offline_window=window if index in offline else None, started_at=started,
            gate=gate))
    for terminal in terminals:
        terminal.start()
    deadline = started + config.seconds
    next_report = started + 10
    while time.monotonic() < deadline:
        time.sleep(min(1.0, max(0.0, deadline - time.monotonic())))
        if progress and time.monotonic() >= next_report:
            next_report += 10
            hour = (config.start_hour + (time.monotonic() - started) * config.speed / 3600) % 24
            progress(f"  {time.monotonic() - started:4.0f} s  simulated "
                     f"{int(hour):02d}:{int(hour % 1 * 60):02d}  {summary.total_requests} "
                     f"requests, {sum(summary.unexpected.values())} unexpected")
    stop.set()
    for terminal in terminals:
        terminal.join(config.timeout * 4)
        if terminal.is_alive():
            summary.wrong("terminal did not stop", terminal.name)
    summary.elapsed = time.monotonic() - started
    return summary


def simulated_day_speed(seconds):
    """The ``speed`` at which one simulated day lasts ``seconds`` real seconds."""
    return DAY / seconds
