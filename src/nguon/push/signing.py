"""Webhook signatures: what the hub sends and what a vendor's gateway checks.

Each notification carries `X-Timestamp` (Unix seconds) and `X-Signature`, the hex
HMAC-SHA256 of `<timestamp>.<body>` under the endpoint's push secret. The timestamp is signed
so that a captured request cannot be replayed later than the gateway's tolerance.
"""

import hashlib
import hmac
import time


def push_secret(signing_secret: str, endpoint_id: int, endpoint_code: str, generation: int) -> str:
    """An endpoint's push secret, derived rather than stored: nothing at rest gives it away,
    and moving `generation` on replaces it."""
    message = f"push:{endpoint_id}:{endpoint_code}:{generation}".encode()
    return hmac.new(signing_secret.encode(), message, hashlib.sha256).hexdigest()


def sign(secret: str, timestamp: int, body: bytes) -> str:
    signed = str(timestamp).encode() + b"." + body
    return hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()


def verify(
    secret: str,
    timestamp: str,
    body: bytes,
    signature: str,
    tolerance: float,
    now: float | None = None,
) -> bool:
    """Whether a notification is genuine and fresh: signed with `secret`, and stamped within
    `tolerance` seconds of `now` (the receiver's clock)."""
    if not timestamp.isdigit():
        return False
    stamped = int(timestamp)
    if abs((time.time() if now is None else now) - stamped) > tolerance:
        return False
    return hmac.compare_digest(sign(secret, stamped, body), signature)
