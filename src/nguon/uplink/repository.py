from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from nguon.kit.changes import changed
from nguon.kit.db import insert_new
from nguon.uplink.models import UplinkAttempt, UplinkKind, UplinkMessage, UplinkStatus

# The change-feed topic that wakes this process's uplink sender when a transaction queued one.
UPLINK_WRITTEN = "uplink_written"


class UplinkRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(
        self, kind: UplinkKind, subject: str, payload: dict[str, Any], now: datetime
    ) -> None:
        """Queue a message unless the same one (kind and subject) was queued before; the
        unique key decides, so that two workers queuing a day's report store it once."""
        await self.session.execute(
            insert_new(
                self.session, UplinkMessage, UplinkMessage.kind, UplinkMessage.subject
            ).values(
                kind=kind,
                subject=subject,
                payload=payload,
                status=UplinkStatus.pending,
                attempts=0,
                next_attempt_at=now,
                created_at=now,
            )
        )
        changed(self.session, UPLINK_WRITTEN, {0})

    async def exists(self, kind: UplinkKind, subject: str) -> bool:
        found = await self.session.scalar(
            select(UplinkMessage.id).where(
                UplinkMessage.kind == kind, UplinkMessage.subject == subject
            )
        )
        return found is not None

    async def get(self, message_id: int) -> UplinkMessage | None:
        return await self.session.get(UplinkMessage, message_id, with_for_update=True)

    async def requeue(self, message: UplinkMessage, now: datetime) -> None:
        message.status = UplinkStatus.pending
        message.next_attempt_at = now
        await self.session.flush()
        changed(self.session, UPLINK_WRITTEN, {0})

    async def add_attempt(self, row: dict[str, Any]) -> None:
        await self.session.execute(insert(UplinkAttempt), [row])

    async def listing(
        self, status: UplinkStatus | None, before_id: int | None, limit: int
    ) -> Sequence[UplinkMessage]:
        """Messages, newest first."""
        statement = select(UplinkMessage).order_by(UplinkMessage.id.desc()).limit(limit)
        if status is not None:
            statement = statement.where(UplinkMessage.status == status)
        if before_id is not None:
            statement = statement.where(UplinkMessage.id < before_id)
        result = await self.session.scalars(statement)
        return result.all()

    async def attempts_of(self, message_ids: Sequence[int]) -> dict[int, list[UplinkAttempt]]:
        found: dict[int, list[UplinkAttempt]] = {message_id: [] for message_id in message_ids}
        if message_ids:
            result = await self.session.scalars(
                select(UplinkAttempt)
                .where(UplinkAttempt.message_id.in_(message_ids))
                .order_by(UplinkAttempt.id)
            )
            for attempt in result.all():
                found[attempt.message_id].append(attempt)
        return found

    async def backlog(self) -> tuple[int, datetime | None, datetime | None]:
        """How many messages wait, since when the oldest, and when one last went up."""
        waiting, oldest = (
            await self.session.execute(
                select(func.count(), func.min(UplinkMessage.created_at)).where(
                    UplinkMessage.status == UplinkStatus.pending
                )
            )
        ).one()
        last_sent = await self.session.scalar(select(func.max(UplinkMessage.sent_at)))
        return waiting, oldest, last_sent
