"""Vendor webhooks: endpoint events POSTed, signed, to the endpoints that have a push URL.

The webhook consumer turns endpoint events into notification rows; the pusher sends the due
ones and records every attempt. A gateway that answers 2xx has the notification (and the
delivery it announces is acknowledged); one that answers 4xx refuses it for good (but 408, 425
and 429, which mean "later"); anything else is retried with exponential backoff until what it
announces has ended.

Body: canonical JSON (sorted keys, no spaces, UTF-8) of `id` (the notification's, the same on
every retry: gateways drop repeats by it), `event_id`, `type`, `endpoint`, `playlist_version`,
`bulletin` and `at`. Headers: `X-Timestamp` (Unix seconds), `X-Signature` (`nguon.push.signing`)
and `X-Nguon-Notification` (the id again, so a gateway can drop a repeat before parsing).
"""

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx
import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from nguon.dispatch.events import COMMAND_EVENT, EndpointEventType
from nguon.dispatch.models import UNACKNOWLEDGED, DeliveryStatus
from nguon.endpoints.models import Endpoint
from nguon.kit.background import PassLoop
from nguon.kit.bus import Record
from nguon.kit.changes import ChangeFeed
from nguon.kit.consumers import Event
from nguon.kit.db import utcnow
from nguon.kit.outbound import Attempt, canonical_json, post_signed
from nguon.kit.settings import Settings
from nguon.push.models import Notification, NotificationStatus
from nguon.push.repository import NOTIFICATIONS_WRITTEN, NotificationRepository
from nguon.push.signing import push_secret

log = structlog.get_logger()

ON_AIR_EVENTS = frozenset({EndpointEventType.emergency, EndpointEventType.publication})
# How long a notification that announces no on-air bulletin is worth retrying.
RETRY_WINDOW = timedelta(days=1)
# How often an idle pusher looks for due notifications that no wake-up announced (retries,
# notifications recorded by another process).
POLL_SECONDS = 1.0


def dedupe_key(event: Event) -> str:
    """What a notification announces: a bulletin event of one revision to one endpoint is the
    same announcement however often it is made (the reconciler repeats them)."""
    bulletin = event.get("bulletin")
    if bulletin is None:
        return f"event:{event['id']}"
    return f"{event['endpoint']}:{bulletin['id']}:{bulletin['revision']}:{event['type']}"


def expires_at(kind: EndpointEventType, bulletin: dict[str, Any] | None, now: datetime) -> datetime:
    """Until when a notification is worth sending: an on-air bulletin until it ends, anything
    else for a day (and a withdrawal at least as long as the bulletin would have been on air)."""
    window = now + RETRY_WINDOW
    until = bulletin.get("valid_until") if bulletin else None
    if until is None:
        return window
    ends = datetime.fromisoformat(until)
    return ends if kind in ON_AIR_EVENTS else max(ends, window)


async def for_push_endpoints(session: AsyncSession, records: Sequence[Record]) -> list[Record]:
    """The records of endpoints with a push URL (records are keyed by endpoint code): only
    those can need a notification."""
    pushed = await NotificationRepository(session).push_endpoint_ids({r.key for r in records})
    return [record for record in records if record.key in pushed]


async def record_notifications(session: AsyncSession, events: Sequence[Event]) -> None:
    """The webhook consumer: one notification per event for an enabled endpoint with a push
    URL, none for an announcement already recorded."""
    repository = NotificationRepository(session)
    endpoint_ids = await repository.push_endpoint_ids({str(e["endpoint"]) for e in events})
    now = utcnow()
    rows: dict[str, dict[str, Any]] = {}
    for event in events:
        endpoint_id = endpoint_ids.get(event["endpoint"])
        if endpoint_id is None or event["type"] == COMMAND_EVENT:
            continue
        kind = EndpointEventType(event["type"])
        key = dedupe_key(event)
        rows.setdefault(
            key,
            {
                "endpoint_id": endpoint_id,
                "event_id": int(event["id"]),
                "dedupe_key": key,
                "type": kind,
                "payload": event,
                "status": NotificationStatus.pending,
                "attempts": 0,
                "next_attempt_at": now,
                "expires_at": expires_at(kind, event.get("bulletin"), now),
                "created_at": now,
            },
        )
    await repository.add_new(list(rows.values()))


def notification_body(notification: Notification) -> bytes:
    payload = notification.payload
    body = {
        "id": notification.public_id,
        "event_id": notification.event_id,
        "type": notification.type.value,
        "endpoint": payload["endpoint"],
        "playlist_version": payload["playlist_version"],
        "bulletin": payload["bulletin"],
        "at": payload["at"],
    }
    return canonical_json(body)


def announced_bulletin(notification: Notification) -> tuple[str, int] | None:
    """The (bulletin, revision) whose delivery a notification puts on air, if it does."""
    bulletin = notification.payload.get("bulletin")
    if notification.type not in ON_AIR_EVENTS or bulletin is None:
        return None
    return str(bulletin["id"]), int(bulletin["revision"])


@dataclass(frozen=True, slots=True)
class Settlement:
    """Where a notification stands after a pass, and what that does to its delivery."""

    status: NotificationStatus
    attempts: int
    next_attempt_at: datetime
    last_error: str | None
    delivered_at: datetime | None = None
    delivery: DeliveryStatus | None = None


def unsendable(
    notification: Notification, endpoint: Endpoint, withdrawn: bool, now: datetime
) -> Settlement | None:
    """The end of a notification that must not be sent at all; None when it may be.
    `withdrawn`: the delivery it puts on air has ended, and announcing it now could reach the
    gateway after the withdrawal."""
    attempts = notification.attempts
    if not endpoint.enabled or endpoint.push_url is None:
        reason = "endpoint disabled" if not endpoint.enabled else "no push URL"
        return Settlement(NotificationStatus.failed, attempts, now, reason)
    if withdrawn:
        return Settlement(NotificationStatus.expired, attempts, now, "the delivery has ended")
    if notification.expires_at <= now:
        return Settlement(NotificationStatus.expired, attempts, now, notification.last_error)
    return None


def settle(notification: Notification, attempt: Attempt, first: float, cap: float) -> Settlement:
    """The notification after `attempt`: delivered, refused, or due again after a backoff of
    `first` seconds doubling up to `cap`, unless that is past its expiry."""
    attempts = notification.attempts + 1
    if attempt.accepted:
        return Settlement(
            NotificationStatus.delivered,
            attempts,
            attempt.at,
            None,
            delivered_at=attempt.at,
            delivery=DeliveryStatus.acked,
        )
    if attempt.refused:
        return Settlement(
            NotificationStatus.failed,
            attempts,
            attempt.at,
            attempt.error,
            delivery=DeliveryStatus.failed,
        )
    due = attempt.retry_at(attempts, first, cap)
    if due > notification.expires_at:
        return Settlement(NotificationStatus.expired, attempts, attempt.at, attempt.error)
    return Settlement(NotificationStatus.pending, attempts, due, attempt.error)


class Pusher:
    """Sends due notifications, up to `push_concurrency` at a time, from any number of workers."""

    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        settings: Settings,
        feed: ChangeFeed | None = None,
    ) -> None:
        self.sessionmaker = sessionmaker
        self.settings = settings
        self.signing_secret = settings.signing_secret()
        self.batch = settings.push_concurrency
        # Long enough for a whole batch: each POST is cut off at the timeout.
        self.lease = timedelta(seconds=settings.push_timeout_seconds * 3)
        self.client = httpx.AsyncClient(
            timeout=settings.push_timeout_seconds,
            limits=httpx.Limits(max_connections=settings.push_concurrency),
            follow_redirects=False,
        )
        self.loop = PassLoop(feed, NOTIFICATIONS_WRITTEN, POLL_SECONDS, "webhook_push_failed")

    async def run(self) -> None:
        """Push for as long as the task lives."""
        try:
            await self.loop.run(self._full_pass)
        finally:
            await self.aclose()

    async def _full_pass(self) -> bool:
        _sent, full = await self._pass()
        return full

    async def aclose(self) -> None:
        await self.client.aclose()

    async def push_due(self) -> int:
        """One pass over the due notifications; returns how many were POSTed."""
        sent, _full = await self._pass()
        return sent

    async def _pass(self) -> tuple[int, bool]:
        """Returns how many were POSTed, and whether a whole batch was due (more may be)."""
        now = utcnow()
        async with self.sessionmaker() as session:
            repository = NotificationRepository(session)
            claimed = await repository.claim_due(now, self.batch, now + self.lease)
            # (endpoint, bulletin, revision) of the deliveries the notifications put on air.
            on_air = {
                n.id: (n.endpoint_id, *b) for n, _e in claimed if (b := announced_bulletin(n))
            }
            ended = await repository.ended_deliveries({(e, b) for e, b, _r in on_air.values()})
            withdrawn = {n_id for n_id, (e, b, _r) in on_air.items() if (e, b) in ended}
            ends = {
                n.id: unsendable(n, endpoint, n.id in withdrawn, now) for n, endpoint in claimed
            }
            sendable = [(n, endpoint) for n, endpoint in claimed if ends[n.id] is None]
            # The delivery is sent from the moment it may reach the gateway.
            for notification, _endpoint in sendable:
                if (delivery := on_air.get(notification.id)) is not None:
                    await repository.move_delivery(
                        *delivery, [DeliveryStatus.pending], DeliveryStatus.sent
                    )
            await session.commit()
        if not claimed:
            return 0, False
        attempts = await asyncio.gather(*(self._post(n, endpoint) for n, endpoint in sendable))
        made = {
            notification.id: attempt
            for (notification, _e), attempt in zip(sendable, attempts, strict=True)
        }
        await self._record(claimed, ends, made)
        return len(sendable), len(claimed) == self.batch

    async def _post(self, notification: Notification, endpoint: Endpoint) -> Attempt:
        assert endpoint.push_url is not None  # unsendable() kept the others back
        secret = push_secret(
            self.signing_secret, endpoint.id, endpoint.code, endpoint.push_secret_generation
        )
        return await post_signed(
            self.client,
            endpoint.push_url,
            notification_body(notification),
            secret,
            {"X-Nguon-Notification": notification.public_id},
            self.settings.push_timeout_seconds,
        )

    async def _record(
        self,
        claimed: Sequence[tuple[Notification, Endpoint]],
        ends: dict[int, Settlement | None],
        attempts: dict[int, Attempt],
    ) -> None:
        """Every attempt and where each notification now stands, in one transaction.

        The attempts are the pusher's audit trail. It stays off the audit chain, whose append
        waits on a process-wide lock: this transaction would wait there holding row locks (on
        SQLite the write lock) that a request holding that lock may need."""
        retry, cap = self.settings.push_retry_seconds, self.settings.push_retry_max_seconds
        async with self.sessionmaker() as session:
            repository = NotificationRepository(session)
            await repository.add_attempts(
                [
                    {
                        "notification_id": notification_id,
                        "attempted_at": attempt.at,
                        "status_code": attempt.status_code,
                        "error": attempt.error,
                        "duration_ms": attempt.duration_ms,
                    }
                    for notification_id, attempt in attempts.items()
                ]
            )
            for notification, endpoint in claimed:
                attempt = attempts.get(notification.id)
                end = ends[notification.id]
                outcome = settle(notification, attempt, retry, cap) if attempt else end
                assert outcome is not None  # a notification is either sent or ended unsent
                await repository.settle(
                    notification.id,
                    status=outcome.status,
                    attempts=outcome.attempts,
                    next_attempt_at=outcome.next_attempt_at,
                    last_error=outcome.last_error,
                    delivered_at=outcome.delivered_at,
                )
                announced = announced_bulletin(notification)
                if outcome.delivery is not None and announced is not None:
                    await repository.move_delivery(
                        endpoint.id,
                        *announced,
                        UNACKNOWLEDGED,
                        outcome.delivery,
                        detail=outcome.last_error,
                    )
                log.info(
                    "webhook_notification",
                    notification=notification.public_id,
                    endpoint=endpoint.code,
                    status=outcome.status.value,
                    attempts=outcome.attempts,
                    error=outcome.last_error,
                )
            await session.commit()
