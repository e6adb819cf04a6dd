"""Idempotent consumers: each event is processed once per consumer, however often it arrives.

The bus delivers at least once (a relay that died before marking, a consumer that died before
committing its offsets). The ids a consumer has processed are rows written in the same
transaction as the processing, so a redelivered event finds its row and is skipped.
"""

import json
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, String, delete
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import Mapped, mapped_column

from nguon.kit.bus import Handler, Record
from nguon.kit.db import Base, UTCDateTime, insert_new, utcnow

Event = dict[str, Any]
SessionHandler = Callable[[AsyncSession, Sequence[Event]], Awaitable[None]]
RecordFilter = Callable[[AsyncSession, Sequence[Record]], Awaitable[Sequence[Record]]]


class ProcessedEvent(Base):
    __tablename__ = "processed_events"

    consumer: Mapped[str] = mapped_column(String(64), primary_key=True)
    event_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    processed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)


async def first_seen(session: AsyncSession, consumer: str, event_ids: Sequence[int]) -> set[int]:
    """Record the ids as processed by `consumer`; returns those it had not processed before."""
    if not event_ids:
        return set()
    now = utcnow()
    result = await session.execute(
        insert_new(
            session, ProcessedEvent, ProcessedEvent.consumer, ProcessedEvent.event_id
        ).returning(ProcessedEvent.event_id),
        [{"consumer": consumer, "event_id": i, "processed_at": now} for i in set(event_ids)],
    )
    return set(result.scalars().all())


async def forget_processed(session: AsyncSession, before: datetime) -> None:
    """Drop the record of events older than any redelivery can be."""
    await session.execute(delete(ProcessedEvent).where(ProcessedEvent.processed_at < before))


def idempotent(
    sessionmaker: async_sessionmaker[AsyncSession],
    consumer: str,
    handle: SessionHandler,
    *,
    concerning: RecordFilter | None = None,
) -> Handler:
    """A bus handler that decodes a batch and gives `handle` only the events `consumer` has not
    processed, in one transaction with the record that it now has. `concerning` keeps the
    records the consumer acts on at all; the others are neither decoded nor recorded (a
    fan-out to ten thousand displays concerns the few with a webhook)."""

    async def handler(records: Sequence[Record]) -> None:
        async with sessionmaker() as session:
            if concerning is not None:
                records = await concerning(session, records)
                if not records:
                    return
            events = [json.loads(record.value) for record in records]
            fresh = await first_seen(session, consumer, [int(event["id"]) for event in events])
            new_events = [event for event in events if int(event["id"]) in fresh]
            # An event published twice in one batch is still handled once.
            unique = list({int(event["id"]): event for event in new_events}.values())
            if unique:
                await handle(session, unique)
            await session.commit()

    return handler
