"""Rows that tell another system something, sent by a worker that claims the due ones.

Incident notices and report reminders go to the department's webhook the same way (see
`nguon.incidents.notifier`); each kind keeps its own table with the same columns.
"""

from collections.abc import Sequence
from datetime import datetime
from enum import StrEnum
from typing import Any, Generic, TypeVar

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

Row = TypeVar("Row")


class NoticeStatus(StrEnum):
    pending = "pending"  # to be sent, or sent and to be retried
    sent = "sent"  # the other system answered 2xx
    failed = "failed"  # refused for good (a 4xx that means "never")


class NoticeRows(Generic[Row]):
    """The queries of the sender over one notice table."""

    def __init__(self, session: AsyncSession, model: type[Row]) -> None:
        self.session = session
        # A mapped class with the columns id, status, next_attempt_at (and attempts, payload,
        # last_error, sent_at that `settle` sets).
        self.model: Any = model

    async def claim_due(self, now: datetime, limit: int, lease_until: datetime) -> Sequence[Row]:
        """Take up to `limit` due notices, oldest first, held until `lease_until` (other
        senders skip them; they fall due again if this one dies)."""
        model = self.model
        result = await self.session.scalars(
            select(model)
            .where(model.status == NoticeStatus.pending, model.next_attempt_at <= now)
            .order_by(model.next_attempt_at, model.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        claimed: Sequence[Any] = result.all()
        if claimed:
            await self.reschedule([notice.id for notice in claimed], lease_until)
        return claimed

    async def reschedule(self, notice_ids: Sequence[int], due: datetime) -> None:
        if notice_ids:
            await self.session.execute(
                update(self.model).where(self.model.id.in_(notice_ids)).values(next_attempt_at=due)
            )

    async def settle(self, notice_id: int, **values: Any) -> None:
        await self.session.execute(
            update(self.model).where(self.model.id == notice_id).values(**values)
        )
