"""Signed POSTs the hub makes to other systems (vendors' gateways, the central system), and
what came of each: the record every retrying sender keeps of its attempts."""

import asyncio
import json
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx

from nguon.kit.db import utcnow
from nguon.kit.signing import sign

# The most of a refusal's body read and kept: enough to say why, never a whole error page.
EXCERPT_BYTES = 1_000
EXCERPT_CHARS = 200
# Refusals that mean "later", not "never".
RETRYABLE_4XX = frozenset({408, 425, 429})


@dataclass(frozen=True, slots=True)
class Attempt:
    """What came of one POST."""

    at: datetime
    duration_ms: int
    status_code: int | None  # None: no answer (refused, timed out, cut off)
    error: str | None  # why it did not succeed; None on 2xx

    @property
    def accepted(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300

    @property
    def refused(self) -> bool:
        code = self.status_code
        return code is not None and 400 <= code < 500 and code not in RETRYABLE_4XX

    def retry_at(self, attempts: int, first: float, cap: float) -> datetime:
        """When to try again after the `attempts`-th attempt: `first` seconds, doubling with
        each attempt up to `cap`."""
        return self.at + timedelta(seconds=min(first * 2 ** (attempts - 1), cap))


def canonical_json(body: dict[str, Any]) -> bytes:
    """Sorted keys, no spaces, UTF-8: the bytes signed are the bytes sent, and a receiver that
    re-encodes what it parsed gets them again."""
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


async def _excerpt(response: httpx.Response) -> str:
    head = b""
    async for chunk in response.aiter_bytes():
        head += chunk
        if len(head) >= EXCERPT_BYTES:
            break
    return head.decode("utf-8", "replace")[:EXCERPT_CHARS]


def _describe(error: Exception) -> str:
    text = f"{type(error).__name__}: {error}" if str(error) else type(error).__name__
    return text[:500]


async def post_signed(
    client: httpx.AsyncClient,
    url: str,
    body: bytes,
    secret: str,
    headers: dict[str, str],
    limit_seconds: float,
) -> Attempt:
    """POST a JSON body signed with `secret` (`nguon.kit.signing`); never raises for what the
    other side does: refusing, timing out and cutting off are all attempts."""
    timestamp = int(time.time())
    signed = {
        "Content-Type": "application/json",
        "X-Timestamp": str(timestamp),
        "X-Signature": sign(secret, timestamp, body),
        **headers,
    }
    at = utcnow()
    started = time.monotonic()
    status_code: int | None = None
    error: str | None = None
    try:
        # The whole exchange, not each phase of it, is held to the timeout: senders lease
        # their messages for a multiple of it.
        async with (
            asyncio.timeout(limit_seconds),
            client.stream("POST", url, content=body, headers=signed) as response,
        ):
            excerpt = await _excerpt(response)
            status_code = response.status_code
        if not 200 <= status_code < 300:
            error = f"answered {status_code}: {excerpt}"
    except TimeoutError:
        error = f"no answer within {limit_seconds:g} s"
    except (httpx.HTTPError, httpx.InvalidURL) as failure:
        error = _describe(failure)
    duration_ms = round((time.monotonic() - started) * 1000)
    return Attempt(at, duration_ms, status_code, error)
