"""The uplink sender: posts due messages to the central system, signed, and retries.

`POST {NGUON_CENTRAL_URL}/bulletins` and `POST {NGUON_CENTRAL_URL}/reports`, a JSON body,
`X-Timestamp` and `X-Signature` (hex HMAC-SHA256 keyed with NGUON_CENTRAL_KEY over
`timestamp.body`, as `nguon.kit.signing`), and `X-Nguon-Message` (`kind:subject`, the same on
every retry, so the central system can drop a repeat). A 2xx takes the message; a 4xx that
means "never" fails it (the administrator can send it again once it is put right); anything
else, a silence included, is retried after a wait that doubles up to a cap, for as long as it
takes. 401 and 403 are retried too: they mean a key out of step, which an operator fixes.
"""

from datetime import date
from typing import Any

import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from nguon.kit.background import PassLoop
from nguon.kit.changes import ChangeFeed
from nguon.kit.db import utcnow
from nguon.kit.notices import NoticeRows, NoticeSender, Outgoing, Retries
from nguon.kit.outbound import Attempt, canonical_json
from nguon.kit.settings import Settings
from nguon.uplink.models import UplinkKind, UplinkMessage, UplinkStatus
from nguon.uplink.repository import UPLINK_WRITTEN, UplinkRepository
from nguon.uplink.service import UplinkService, report_day

log = structlog.get_logger()

PATHS = {UplinkKind.bulletin: "bulletins", UplinkKind.report: "reports"}
# Refusals that an operator puts right on either side, rather than the message itself.
KEY_REFUSALS = frozenset({401, 403})


def message_body(message: UplinkMessage) -> bytes:
    body: dict[str, Any] = {
        "id": f"{message.kind.value}:{message.subject}",
        "kind": message.kind.value,
        **message.payload,
    }
    return canonical_json(body)


class UplinkSender(NoticeSender[UplinkMessage]):
    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        settings: Settings,
        feed: ChangeFeed | None = None,
    ) -> None:
        # Only started when the uplink is on, which the settings allow only with a key.
        assert settings.central_url is not None
        assert settings.central_key is not None
        super().__init__(
            sessionmaker,
            settings.central_key.get_secret_value(),
            Retries(
                settings.uplink_timeout_seconds,
                settings.uplink_retry_seconds,
                settings.uplink_retry_max_seconds,
            ),
            # Also how often an idle sender looks for a day whose report is due.
            PassLoop(feed, UPLINK_WRITTEN, self.POLL_SECONDS, "uplink_failed"),
            UplinkStatus,
            "uplink_message",
        )
        self.settings = settings
        self.base_url = settings.central_url.rstrip("/")
        self._reported_day: date | None = None

    def rows(self, session: AsyncSession) -> NoticeRows[UplinkMessage]:
        return NoticeRows(session, UplinkMessage)

    def outgoing(self, row: UplinkMessage) -> Outgoing:
        name = f"{row.kind.value}:{row.subject}"
        return Outgoing(
            f"{self.base_url}/{PATHS[row.kind]}", message_body(row), {"X-Nguon-Message": name}, name
        )

    def gives_up(self, attempt: Attempt) -> bool:
        """401 and 403 mean a key out of step, which an operator fixes: retried."""
        return attempt.refused and attempt.status_code not in KEY_REFUSALS

    async def keep_attempt(
        self, session: AsyncSession, row: UplinkMessage, attempt: Attempt
    ) -> None:
        await UplinkRepository(session).add_attempt(
            {
                "message_id": row.id,
                "attempted_at": attempt.at,
                "status_code": attempt.status_code,
                "error": attempt.error,
                "duration_ms": attempt.duration_ms,
            }
        )

    async def full_pass(self) -> bool:
        await self.queue_reports()
        return await super().full_pass()

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
