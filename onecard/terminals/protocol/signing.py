"""Terminal protocol v1 signing: the one place both ends compute signatures, hashes and MACs.

Pure Python (no Django import), so the simulator, the load tool and real terminal firmware
ports can use it unchanged. See docs/terminal-protocol.md.

Invariants:
- A request signature is HMAC-SHA256 keyed with the 32 secret bytes (the 64 hex chars decoded)
  over ``METHOD\\nPATH_WITH_QUERY\\nTIMESTAMP\\nSEQUENCE\\nsha256_hex(BODY)``.
- An offline record's hash is sha256 over its canonical JSON without ``mac``; its MAC is
  HMAC-SHA256 keyed with the secret over that hash as ASCII; records chain by ``prev_hash``
  starting at ``GENESIS_HASH``.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import threading
import time
import urllib.error
import urllib.request

__all__ = [
    "GENESIS_HASH",
    "HEADER_DEVICE",
    "HEADER_SEQUENCE",
    "HEADER_SIGNATURE",
    "HEADER_TIMESTAMP",
    "TerminalClient",
    "body_hash",
    "canonical_record",
    "canonical_request",
    "chain_records",
    "enrol",
    "record_hash",
    "record_mac",
    "secret_bytes",
    "sign",
    "signed_headers",
]

GENESIS_HASH = "0" * 64

HEADER_DEVICE = "X-Terminal-Id"
HEADER_TIMESTAMP = "X-Terminal-Timestamp"
HEADER_SEQUENCE = "X-Terminal-Sequence"
HEADER_SIGNATURE = "X-Terminal-Signature"


def secret_bytes(secret_hex: str) -> bytes:
    """The key bytes a 64-hex-char device secret encodes (ValueError if it is not hex)."""
    return bytes.fromhex(secret_hex)


def body_hash(body: bytes | None) -> str:
    """sha256 hex of the raw body bytes (the empty body for GET)."""
    return hashlib.sha256(body or b"").hexdigest()


def canonical_request(method, path_with_query, timestamp, sequence, body) -> str:
    """The exact string a request signature covers."""
    return "\n".join(
        [str(method).upper(), path_with_query, str(int(timestamp)), str(int(sequence)),
         body_hash(body)]
    )


def sign(secret_hex, method, path_with_query, timestamp, sequence, body_bytes) -> str:
    """Lowercase hex HMAC-SHA256 of the canonical request string with the device secret."""
    message = canonical_request(method, path_with_query, timestamp, sequence, body_bytes)
    return hmac.new(secret_bytes(secret_hex), message.encode("utf-8"), hashlib.sha256).hexdigest()


def signed_headers(device_id, secret_hex, method, path_with_query, timestamp, sequence,
                   body_bytes) -> dict:
    """The four authentication headers for one request."""
    return {
        HEADER_DEVICE: device_id,
        HEADER_TIMESTAMP: str(int(timestamp)),
        HEADER_SEQUENCE: str(int(sequence)),
        HEADER_SIGNATURE: sign(secret_hex, method, path_with_query, timestamp, sequence,
                               body_bytes),
    }


def canonical_record(record: dict) -> str:
    """Canonical JSON of an offline record: every field except ``mac``, keys sorted, compact."""
    fields = {key: value for key, value in record.items() if key != "mac"}
    return json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def record_hash(record: dict) -> str:
    """sha256 hex of the canonical record; the next record's ``prev_hash``."""
    return hashlib.sha256(canonical_record(record).encode("utf-8")).hexdigest()


def record_mac(secret_hex: str, record_hash_hex: str) -> str:
    """HMAC-SHA256 with the device secret over the record hash (as ASCII), lowercase hex."""
    return hmac.new(
        secret_bytes(secret_hex), record_hash_hex.encode("ascii"), hashlib.sha256
    ).hexdigest()


def chain_records(secret_hex: str, records, prev_hash: str = GENESIS_HASH):
    """Fill ``prev_hash`` and ``mac`` into each record dict (in order); return (records, head).

    ``head`` is the last record's hash, to pass as ``prev_hash`` for the next batch.
    """
    chained = []
    for record in records:
        body = {key: value for key, value in record.items() if key != "mac"}
        body["prev_hash"] = prev_hash
        digest = record_hash(body)
        body["mac"] = record_mac(secret_hex, digest)
        chained.append(body)
        prev_hash = digest
    return chained, prev_hash


class TerminalClient:
    """A signing protocol client.

    ``call(method, path, body=None) -> (status, json)``: ``path`` is relative to ``base_url``
    (e.g. ``"purchases"`` or ``"/terminal/v1/purchases"``, with any query string). Sequences
    come from a thread-safe counter starting at ``time.time_ns() // 1000`` so a restarted
    client continues above its previous values.

    ``session`` may be a ``requests.Session``-like object (``.request(method, url, data=,
    headers=, timeout=)`` returning an object with ``status_code`` and ``content``); without
    one, urllib is used.
    """

    def __init__(self, base_url, device_id, secret_hex, *, session=None, timeout=10.0):
        self.base_url = base_url.rstrip("/")
        self.device_id = device_id
        self.secret_hex = secret_hex
        self.session = session
        self.timeout = timeout
        self._counter = itertools.count(time.time_ns() // 1000)
        self._lock = threading.Lock()

    def next_sequence(self) -> int:
        with self._lock:
            return next(self._counter)

    def _split(self, path):
        """(full url, path_with_query as the server sees it)."""
        if path.startswith("/"):
            scheme_host = self.base_url.split("/", 3)
            origin = "/".join(scheme_host[:3])
            return origin + path, path
        url = f"{self.base_url}/{path}"
        path_with_query = "/" + url.split("/", 3)[3] if url.count("/") >= 3 else "/"
        return url, path_with_query

    def call(self, method, path, body=None, *, timestamp=None, sequence=None):
        method = method.upper()
        url, path_with_query = self._split(path)
        raw = b"" if body is None else json.dumps(body, ensure_ascii=False).encode("utf-8")
        timestamp = int(time.time()) if timestamp is None else timestamp
        sequence = self.next_sequence() if sequence is None else sequence
        headers = signed_headers(self.device_id, self.secret_hex, method, path_with_query,
                                 timestamp, sequence, raw)
        if raw:
            headers["Content-Type"] = "application/json"
        return _send(self.session, method, url, raw, headers, self.timeout)


def enrol(base_url, code, serial, firmware, *, session=None, timeout=10.0):
    """Exchange a one-time enrolment code; returns (status, json)."""
    base = base_url.rstrip("/")
    raw = json.dumps({"code": code, "serial": serial, "firmware": firmware}).encode("utf-8")
    return _send(session, "POST", f"{base}/enrol", raw, {"Content-Type": "application/json"},
                 timeout)


def _send(session, method, url, raw, headers, timeout):
    if session is not None:
        response = session.request(method, url, data=raw or None, headers=headers,
                                   timeout=timeout)
        return response.status_code, _decode(response.content)
    if not url.startswith(("http://", "https://")):
        raise ValueError("terminal base_url must be http:// or https://")
    request = urllib.request.Request(  # noqa: S310 - scheme checked above
        url, data=raw or None, headers=headers, method=method
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            return response.status, _decode(response.read())
    except urllib.error.HTTPError as error:
        return error.code, _decode(error.read())


def _decode(content):
    if not content:
        return None
    try:
        return json.loads(content)
    except ValueError:
        return {"error": "not_json", "detail": content[:200].decode("utf-8", "replace")}
