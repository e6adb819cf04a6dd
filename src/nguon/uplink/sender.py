"""The uplink sender: posts due messages to the central system, signed, and retries.

`POST {NGUON_CENTRAL_URL}/bulletins` and `POST {NGUON_CENTRAL_URL}/reports`, a JSON body,
`X-Timestamp` and `X-Signature` (hex HMAC-SHA256 keyed with NGUON_CENTRAL_KEY over
`timestamp.body`, as `nguon.kit.signing`), and `X-Nguon-Message` (`kind:subject`, the same on
every retry, so the central system can drop a repeat). A 2xx takes the message; a 4xx that
means "never" fails it (the administrator can send it again once it is put right); anything
else, a silence included, is retried after a wait that doubles up to a cap, for as long as it
takes. 401 and 403 are retried too: they mean a key out of step, which an operator fixes.
"""

from datetime import date, datetime, timedelta
from typing import Any

import httpx
import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from nguon.kit.background import PassLoop
from nguon.kit.changes import ChangeFeed
from nguon.kit.db import utcnow
from nguon.kit.outbound import Attempt, canonical_json, post_signed
from nguon.kit.settings import Settings
from nguon.uplink.models import UplinkKind, UplinkMessage, UplinkStatus
from nguon.uplink.repository import UPLINK_WRITTEN, UplinkRepository
from nguon.uplink.service import UplinkService, report_day

log = structlog.get_logger()

PATHS = {UplinkKind.bulletin: "bulletins", UplinkKind.report: "reports"}
# How many messages one pass posts (one at a time: they go up in order).
BATCH = 20
# How often an idle sender looks for messages no wake-up announced (retries, messages queued
# by another process) and for a day whose report is due.
POLL_SECONDS = 1.0
# Refusals that an operator puts right on either side, rather than the message itself.
KEY_REFUSALS = frozenset({401, 403})


def message_body(message: UplinkMessage) -> bytes:
    body: dict[str, Any] = {
        "id": f"{message.kind.value}:{message.subject}",
        "kind": message.kind.value,
        **message.payload,
    }
    return canonical_json(body)


class UplinkSender:
    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        settings: Settings,
        feed: ChangeFeed | None = None,
    ) -> None:
        # Only started when the uplink is on, which the settings allow only with a key.
        assert settings.central_url is not None
        assert settings.central_key is not None
        self.sessionmaker = sessionmaker
        self.settings = settings
        self.base_url = settings.central_url.rstrip("/")
        self.secret = settings.central_key.get_secret_value()
        self.lease = timedelta(seconds=settings.uplink_timeout_seconds * (BATCH + 1))
        self.client = httpx.AsyncClient(follow_redirects=False)
        self._reported_day: date | None = None
        self.loop = PassLoop(feed, UPLINK_WRITTEN, POLL_SECONDS, "uplink_failed")

    async def run(self) -> None:
        """Send for as long as the task lives."""
        try:
            await self.loop.run(self._full_pass)
        finally:
            await self.client.aclose()

    async def _full_pass(self) -> bool:
        await self.queue_reports()
        _sent, full = await self._pass()
        return full

    async def queue_reports(self) -> None:
        """Queue the previous day's statistics once it is due (once per day per process; the
        unique key keeps it to one message among any number of workers)."""
        now = utcnow()
        day = report_day(self.settings, now)
        if day is None or day == self._reported_day:
            return
        async with self.sessionmaker() as session:
            queued = await UplinkService(session).queue_daily_reports(self.settings, day, now)
            await session.commit()
        self._reported_day = day
        for subject in queued:
            log.info("uplink_report_queued", report=subject)

    async def send_due(self) -> int:
        """One pass over the due messages; returns how many were posted."""
        sent, _full = await self._pass()
        return sent

    async def _pass(self) -> tuple[int, bool]:
        now = utcnow()
        async with self.sessionmaker() as session:
            claimed = await UplinkRepository(session).claim_due(now, BATCH, now + self.lease)
            await session.commit()
        for number, message in enumerate(claimed):
            attempt = await post_signed(
                self.client,
                f"{self.base_url}/{PATHS[message.kind]}",
                message_body(message),
                self.secret,
                {"X-Nguon-Message": f"{message.kind.value}:{message.subject}"},
                self.settings.uplink_timeout_seconds,
            )
            retry_at = await self._record(message, attempt)
            if retry_at is not None:
                # The central system is away: the rest wait with this one rather than each
                # wait out the timeout now.
                rest = [later.id for later in claimed[number + 1 :]]
                await self._release(rest, retry_at)
                return number + 1, False
        return len(claimed), len(claimed) == BATCH

    async def _release(self, message_ids: list[int], due: datetime) -> None:
        if message_ids:
            async with self.sessionmaker() as session:
                await UplinkRepository(session).reschedule(message_ids, due)
                await session.commit()

    async def _record(self, message: UplinkMessage, attempt: Attempt) -> datetime | None:
        """Keep the attempt and settle the message; returns when it is retried, if it is."""
        attempts = message.attempts + 1
        if attempt.accepted:
            status, due = UplinkStatus.sent, attempt.at
        elif attempt.refused and attempt.status_code not in KEY_REFUSALS:
            status, due = UplinkStatus.failed, attempt.at
        else:
            status = UplinkStatus.pending
            due = attempt.retry_at(
                attempts,
                self.settings.uplink_retry_seconds,
                self.settings.uplink_retry_max_seconds,
            )
        async with self.sessionmaker() as session:
            repository = UplinkRepository(session)
            await repository.add_attempt(
                {
                    "message_id": message.id,
                    "attempted_at": attempt.at,
                    "status_code": attempt.status_code,
                    "error": attempt.error,
                    "duration_ms": attempt.duration_ms,
                }
            )
            await repository.settle(
                message.id,
                status=status,
                attempts=attempts,
                next_attempt_at=due,
                last_error=attempt.error,
                sent_at=attempt.at if attempt.accepted else None,
            )
            await session.commit()
        log.info(
            "uplink_message",
            message=f"{message.kind.value}:{message.subject}",
            status=status.value,
            attempts=attempts,
            error=attempt.error,
        )
        return due if status is UplinkStatus.pending else None
