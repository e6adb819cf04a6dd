from collections import defaultdict
from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import and_, case, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from nguon.dispatch.events import EndpointEventType
from nguon.dispatch.models import ENDED, Delivery, DeliveryStatus, moving_to
from nguon.endpoints.models import Endpoint
from nguon.kit.changes import changed
from nguon.kit.db import insert_new, one_of, utcnow
from nguon.push.models import Notification, NotificationAttempt, NotificationStatus

# The change-feed topic that wakes this process's pusher when a transaction wrote notifications.
NOTIFICATIONS_WRITTEN = "push_notifications_written"


class NotificationRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def push_endpoint_ids(self, codes: Collection[str]) -> dict[str, int]:
        """The enabled endpoints among `codes` that have a push URL, code to id."""
        if not codes:
            return {}
        result = await self.session.execute(
            select(Endpoint.code, Endpoint.id).where(
                one_of(Endpoint.code, codes, self.session.get_bind().dialect),
                Endpoint.enabled,
                Endpoint.push_url.is_not(None),
            )
        )
        return {code: endpoint_id for code, endpoint_id in result.all()}

    async def add_new(self, rows: Sequence[dict[str, Any]]) -> None:
        """Store the notifications whose dedupe key is new; the unique key decides, so that two
        consumers handling the same announcement at once still store it once."""
        if not rows:
            return
        await self.session.execute(
            insert_new(self.session, Notification, Notification.dedupe_key), rows
        )
        changed(self.session, NOTIFICATIONS_WRITTEN, {0})

    async def claim_due(
        self, now: datetime, limit: int, lease_until: datetime
    ) -> Sequence[tuple[Notification, Endpoint]]:
        """Take up to `limit` due notifications, emergencies first, with their endpoints, and
        hold them until `lease_until`: other pushers skip them now (rows locked until the
        caller commits) and after (not due), and they fall due again if this one dies."""
        result = await self.session.execute(
            select(Notification, Endpoint)
            .join(Endpoint, Endpoint.id == Notification.endpoint_id)
            .where(
                Notification.status == NotificationStatus.pending,
                Notification.next_attempt_at <= now,
            )
            .order_by(
                case((Notification.type == EndpointEventType.emergency, 0), else_=1),
                Notification.next_attempt_at,
                Notification.id,
            )
            .limit(limit)
            .with_for_update(skip_locked=True, of=Notification)
        )
        claimed = [(notification, endpoint) for notification, endpoint in result.all()]
        if claimed:
            await self.session.execute(
                update(Notification)
                .where(Notification.id.in_([notification.id for notification, _e in claimed]))
                .values(next_attempt_at=lease_until)
            )
        return claimed

    async def add_attempts(self, rows: Sequence[dict[str, Any]]) -> None:
        if rows:
            await self.session.execute(insert(NotificationAttempt), rows)

    async def settle(
        self,
        notification_id: int,
        *,
        status: NotificationStatus,
        attempts: int,
        next_attempt_at: datetime,
        last_error: str | None,
        delivered_at: datetime | None,
    ) -> None:
        await self.session.execute(
            update(Notification)
            .where(Notification.id == notification_id)
            .values(
                status=status,
                attempts=attempts,
                next_attempt_at=next_attempt_at,
                last_error=last_error,
                delivered_at=delivered_at,
            )
        )

    async def move_delivery(
        self,
        endpoint_id: int,
        bulletin_id: str,
        revision: int,
        before: Collection[DeliveryStatus],
        after: DeliveryStatus,
        detail: str | None = None,
    ) -> None:
        """Move the endpoint's delivery of this revision from any of `before` to `after`; a
        delivery moved on to another revision or status in the meantime stays as it is."""
        values = moving_to(after, utcnow())
        if detail is not None:
            values["detail"] = detail
        await self.session.execute(
            update(Delivery)
            .where(
                Delivery.endpoint_id == endpoint_id,
                Delivery.bulletin_id == bulletin_id,
                Delivery.revision == revision,
                Delivery.status.in_(before),
            )
            .values(**values)
        )

    async def ended_deliveries(self, pairs: Collection[tuple[int, str]]) -> set[tuple[int, str]]:
        """Which of these (endpoint, bulletin) deliveries have ended: revoked or expired."""
        if not pairs:
            return set()
        result = await self.session.execute(
            select(Delivery.endpoint_id, Delivery.bulletin_id).where(
                Delivery.status.in_(ENDED),
                or_(
                    *(
                        and_(Delivery.endpoint_id == endpoint_id, Delivery.bulletin_id == bulletin)
                        for endpoint_id, bulletin in pairs
                    )
                ),
            )
        )
        return {(endpoint_id, bulletin) for endpoint_id, bulletin in result.all()}

    async def of_endpoint(self, endpoint_id: int, limit: int) -> Sequence[Notification]:
        """The endpoint's notifications, the newest first."""
        result = await self.session.scalars(
            select(Notification)
            .where(Notification.endpoint_id == endpoint_id)
            .order_by(Notification.created_at.desc(), Notification.id.desc())
            .limit(limit)
        )
        return result.all()

    async def attempts_of(
        self, notification_ids: Collection[int]
    ) -> dict[int, list[NotificationAttempt]]:
        """Each notification's attempts, the first first."""
        found: dict[int, list[NotificationAttempt]] = defaultdict(list)
        if notification_ids:
            result = await self.session.scalars(
                select(NotificationAttempt)
                .where(NotificationAttempt.notification_id.in_(notification_ids))
                .order_by(NotificationAttempt.attempted_at, NotificationAttempt.id)
            )
            for attempt in result.all():
                found[attempt.notification_id].append(attempt)
        return found
