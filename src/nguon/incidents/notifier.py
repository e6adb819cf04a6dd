"""Tells the department's system of each incident opened and resolved, signed, and retries.

`POST NGUON_INCIDENT_WEBHOOK_URL` with a JSON body `{"id": "incident:<id>:<event>", "event":
"opened" | "resolved", "incident": {...}}` (the incident as `GET /api/v1/incidents/{id}` gives
it), `X-Timestamp` and `X-Signature` (hex HMAC-SHA256 keyed with NGUON_INCIDENT_WEBHOOK_SECRET
over `timestamp.body`, as `nguon.kit.signing`) and `X-Nguon-Notice` (the body's `id`, the same
on every retry, so the department drops a repeat). Notices are rows written in the transaction
that opens or resolves the incident, one per incident and event; a 2xx takes one, a 4xx that
means "never" fails it, anything else is retried after a wait that doubles up to a cap.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx
import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from nguon.incidents.models import IncidentNotice
from nguon.incidents.repository import NOTICE_WRITTEN
from nguon.kit.background import PassLoop
from nguon.kit.changes import ChangeFeed
from nguon.kit.db import utcnow
from nguon.kit.notices import NoticeRows, NoticeStatus
from nguon.kit.outbound import Attempt, canonical_json, post_signed
from nguon.kit.settings import Settings

log = structlog.get_logger()

BATCH = 20
POLL_SECONDS = 1.0


def notice_id(notice: IncidentNotice) -> str:
    return f"incident:{notice.incident_id}:{notice.event.value}"


@dataclass(frozen=True, slots=True)
class NoticeKind:
    """A table of notices to the department: its rows, their ids on the wire, the change-feed
    topic written beside a new one, and the name its attempts are logged under."""

    model: type[Any]
    notice_id: Callable[[Any], str]
    topic: str
    log_event: str
    failed_event: str


INCIDENT_NOTICES = NoticeKind(
    IncidentNotice, notice_id, NOTICE_WRITTEN, "incident_notice", "incident_notifier_failed"
)


class IncidentNotifier:
    """Sends the notices of one kind (incidents' by default; report reminders, 002 Điều 18)
    to the department's webhook."""

    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        settings: Settings,
        feed: ChangeFeed | None = None,
        kind: NoticeKind = INCIDENT_NOTICES,
    ) -> None:
        # Only started with a URL, which the settings allow only with a secret.
        assert settings.incident_webhook_url is not None
        assert settings.incident_webhook_secret is not None
        self.sessionmaker = sessionmaker
        self.settings = settings
        self.url = settings.incident_webhook_url
        self.secret = settings.incident_webhook_secret.get_secret_value()
        self.lease = timedelta(seconds=settings.incident_webhook_timeout_seconds * (BATCH + 1))
        self.client = httpx.AsyncClient(follow_redirects=False)
        self.kind = kind
        self.loop = PassLoop(feed, kind.topic, POLL_SECONDS, kind.failed_event)

    async def run(self) -> None:
        try:
            await self.loop.run(self._full_pass)
        finally:
            await self.client.aclose()

    async def _full_pass(self) -> bool:
        sent, claimed = await self._pass()
        return claimed == BATCH and sent == claimed

    async def send_due(self) -> int:
        """One pass over the due notices; returns how many were posted."""
        sent, _claimed = await self._pass()
        return sent

    async def _pass(self) -> tuple[int, int]:
        now = utcnow()
        async with self.sessionmaker() as session:
            rows = NoticeRows(session, self.kind.model)
            claimed = await rows.claim_due(now, BATCH, now + self.lease)
            await session.commit()
        for number, notice in enumerate(claimed):
            body = canonical_json({"id": self.kind.notice_id(notice), **notice.payload})
            attempt = await post_signed(
                self.client,
                self.url,
                body,
                self.secret,
                {"X-Nguon-Notice": self.kind.notice_id(notice)},
                self.settings.incident_webhook_timeout_seconds,
            )
            retry = await self._record(notice, attempt)
            if retry is not None:
                # The department is away: the rest wait with this one.
                async with self.sessionmaker() as session:
                    rest = [later.id for later in claimed[number + 1 :]]
                    await NoticeRows(session, self.kind.model).reschedule(rest, retry)
                    await session.commit()
                return number + 1, len(claimed)
        return len(claimed), len(claimed)

    async def _record(self, notice: Any, attempt: Attempt) -> datetime | None:
        """Settle the notice by what came of the attempt; returns when it is retried."""
        attempts = notice.attempts + 1
        if attempt.accepted:
            status, due = NoticeStatus.sent, attempt.at
        elif attempt.refused:
            status, due = NoticeStatus.failed, attempt.at
        else:
            status = NoticeStatus.pending
            due = attempt.retry_at(
                attempts,
                self.settings.incident_retry_seconds,
                self.settings.incident_retry_max_seconds,
            )
        async with self.sessionmaker() as session:
            await NoticeRows(session, self.kind.model).settle(
                notice.id,
                status=status,
                attempts=attempts,
                next_attempt_at=due,
                last_error=attempt.error,
                sent_at=attempt.at if attempt.accepted else None,
            )
            await session.commit()
        log.info(
            self.kind.log_event,
            notice=self.kind.notice_id(notice),
            status=status.value,
            attempts=attempts,
            error=attempt.error,
        )
        return due if status is NoticeStatus.pending else None
