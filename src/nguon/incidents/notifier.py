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
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from nguon.incidents.models import IncidentNotice
from nguon.incidents.repository import NOTICE_WRITTEN
from nguon.kit.background import PassLoop
from nguon.kit.changes import ChangeFeed
from nguon.kit.notices import NoticeRows, NoticeSender, NoticeStatus, Outgoing, Retries
from nguon.kit.outbound import canonical_json
from nguon.kit.settings import Settings


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


class IncidentNotifier(NoticeSender[Any]):
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
        super().__init__(
            sessionmaker,
            settings.incident_webhook_secret.get_secret_value(),
            Retries(
                settings.incident_webhook_timeout_seconds,
                settings.incident_retry_seconds,
                settings.incident_retry_max_seconds,
            ),
            PassLoop(feed, kind.topic, self.POLL_SECONDS, kind.failed_event),
            NoticeStatus,
            kind.log_event,
        )
        self.url = settings.incident_webhook_url
        self.kind = kind

    def rows(self, session: AsyncSession) -> NoticeRows[Any]:
        return NoticeRows(session, self.kind.model)

    def outgoing(self, row: Any) -> Outgoing:
        name = self.kind.notice_id(row)
        body = canonical_json({"id": name, **row.payload})
        return Outgoing(self.url, body, {"X-Nguon-Notice": name}, name)
