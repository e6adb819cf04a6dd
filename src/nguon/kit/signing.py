"""Signed HTTP bodies, one scheme both ways: the hub's webhooks to vendors' gateways, and the
central system's alerts to the hub.

A request carries `X-Timestamp` (Unix seconds) and `X-Signature`, the hex HMAC-SHA256 of
`<timestamp>.<body>` under a shared secret. The timestamp is signed so that a captured request
cannot be replayed later than the receiver's tolerance.
"""

import hashlib
import hmac
import time


def sign(secret: str, timestamp: int, body: bytes) -> str:
    signed = str(timestamp).encode() + b"." + body
    return hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()


def is_fresh(timestamp: str, tolerance: float, now: float | None = None) -> bool:
    """Whether `timestamp` is Unix seconds within `tolerance` of `now` (the receiver's clock)."""
    if not timestamp.isdigit():
        return False
    return abs((time.time() if now is None else now) - int(timestamp)) <= tolerance


def verify(
    secret: str,
    timestamp: str,
    body: bytes,
    signature: str,
    tolerance: float,
    now: float | None = None,
) -> bool:
    """Whether a request is genuine and fresh: signed with `secret`, and stamped within
    `tolerance` seconds of `now`."""
    if not is_fresh(timestamp, tolerance, now):
        return False
    return hmac.compare_digest(sign(secret, int(timestamp), body), signature)
