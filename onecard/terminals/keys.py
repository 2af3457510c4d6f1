"""Device secrets at rest (docs/adr/0008-terminals-are-untrusted.md).

The server must recover a device's secret to check its HMACs, so the secret cannot be stored as
a one-way hash. It is stored encrypted: ``nonce (16 bytes) || secret XOR keystream`` where the
keystream is HMAC-SHA256(K, nonce) and K = HMAC-SHA256(SECRET_KEY, "onecard terminal secrets").
A fresh random nonce per stored secret means no two secrets share a keystream. A database dump
alone does not reveal secrets; the settings' SECRET_KEY does. Secrets are never logged.
"""

import hashlib
import hmac
import secrets
from functools import lru_cache

from django.conf import settings

SECRET_BYTES = 32


def _master_key():
    return hmac.new(settings.SECRET_KEY.encode("utf-8"), b"onecard terminal secrets",
                    hashlib.sha256).digest()


def new_secret_hex():
    """A fresh 32-byte device secret as 64 lowercase hex characters."""
    return secrets.token_hex(SECRET_BYTES)


def seal(secret_hex):
    """The stored form (hex) of a device secret."""
    secret = bytes.fromhex(secret_hex)
    nonce = secrets.token_bytes(16)
    stream = hmac.new(_master_key(), nonce, hashlib.sha256).digest()
    return (nonce + bytes(a ^ b for a, b in zip(secret, stream, strict=True))).hex()


@lru_cache(maxsize=4096)
def unseal(box_hex):
    """The secret (hex) from its stored form; cached per stored value (hot path)."""
    raw = bytes.fromhex(box_hex)
    nonce, sealed = raw[:16], raw[16:]
    stream = hmac.new(_master_key(), nonce, hashlib.sha256).digest()
    return bytes(a ^ b for a, b in zip(sealed, stream, strict=True)).hex()
