"""The transactional outbox: events are rows written in the transaction that causes them.

A state change and its events commit or vanish together. One relay at a time (a PostgreSQL
advisory lock) publishes unpublished rows to the bus and marks them; a relay that dies between
the two publishes them again, which consumers absorb (`nguon.kit.consumers`). Published rows
stay for `retention` so that a reconnecting client can be told what it missed.
"""

import asyncio
from collections.abc import AsyncIterator, Callable, Coroutine, Mapping, Sequence
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

import structlog
from sqlalchemy import (
    JSON,
    BigInteger,
    Index,
    Integer,
    Select,
    String,
    Table,
    Text,
    delete,
    func,
    insert,
    literal,
    select,
    text,
    update,
)
from sqlalchemy import cast as sql_cast
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.orm import Mapped, mapped_column

from nguon.kit.bus import Bus, Record
from nguon.kit.changes import ChangeFeed, Changes, changed
from nguon.kit.db import Base, JsonFromText, UTCDateTime, insert_rows, one_of, utcnow

log = structlog.get_logger()

# The change-feed topic that wakes this process's relay when a transaction wrote events.
OUTBOX_WRITTEN = "outbox_written"
# The PostgreSQL channel that wakes the relay in another process (the API's commits wake the
# worker's): NOTIFY is sent when, and only if, the transaction commits.
OUTBOX_CHANNEL = "nguon_outbox"
# pg_try_advisory_lock key of the relay: "nguon-relay" folded into a bigint.
RELAY_LOCK_KEY = 0x6E67756F6E72656C
# How often a relay checks that it still holds the lock, and a standby that it could take it.
LOCK_CHECK_SECONDS = 2.0


class OutboxEvent(Base):
    __tablename__ = "outbox"
    __table_args__ = (
        # The relay's queue: only the unpublished rows, in order.
        Index(
            "ix_outbox_unpublished",
            "id",
            postgresql_where=text("published_at IS NULL"),
            sqlite_where=text("published_at IS NULL"),
        ),
        Index("ix_outbox_key_id", "key", "id"),
    )

    # SQLite only autoincrements an INTEGER primary key.
    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    topic: Mapped[str] = mapped_column(String(100))
    key: Mapped[str] = mapped_column(String(100))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


def event_json(event_id: int, payload: str) -> str:
    """An event as the bus and clients see it: its payload (JSON text, as stored) with the
    event's id first. The text is spliced, not parsed: the relay passes tens of thousands of
    events at a time."""
    rest = payload.strip()[1:].lstrip()
    return f'{{"id":{event_id}{"" if rest.startswith("}") else ","}{rest}'


@dataclass(frozen=True, slots=True)
class StoredEvent:
    """An outbox row as the relay and replays read it."""

    id: int
    topic: str
    key: str
    payload: str  # the payload's JSON text, as stored

    def as_json(self) -> str:
        return event_json(self.id, self.payload)


STORED_EVENT_COLUMNS = (
    OutboxEvent.id,
    OutboxEvent.topic,
    OutboxEvent.key,
    sql_cast(OutboxEvent.payload, Text),
)


class Outbox:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def emit(self, topic: str, events: Sequence[tuple[str, dict[str, Any]]]) -> None:
        """Write (key, payload) events of `topic`; they leave when the transaction commits."""
        if not events:
            return
        now = utcnow()
        await insert_rows(
            self.session,
            cast(Table, OutboxEvent.__table__),
            [
                {"topic": topic, "key": key, "payload": payload, "created_at": now}
                for key, payload in events
            ],
        )
        await self._written()

    async def emit_selected(self, topic: str, events: Select[str, str]) -> None:
        """Write the events of `topic` that a query selects, (key, payload JSON text) each: a
        province-wide fan-out writes its ten thousand events without them passing through this
        process."""
        selected = events.subquery()
        key, payload = selected.c
        outbox = cast(Table, OutboxEvent.__table__)
        await self.session.execute(
            insert(outbox).from_select(
                ["topic", "key", "payload", "created_at"],
                select(
                    literal(topic, String),
                    key,
                    JsonFromText(payload),
                    literal(utcnow(), UTCDateTime()),
                ),
            )
        )
        await self._written()

    async def _written(self) -> None:
        """Wake the relays once the transaction commits: this process's through the change
        feed, other processes' by NOTIFY."""
        changed(self.session, OUTBOX_WRITTEN, {0})
        if self.session.get_bind().dialect.name == "postgresql":
            # PostgreSQL folds a transaction's identical notifications into one.
            await self.session.execute(text(f"NOTIFY {OUTBOX_CHANNEL}"))

    async def since(self, topic: str, key: str, after_id: int, limit: int) -> list[StoredEvent]:
        """A key's events after an id, oldest first: what a reconnecting client missed."""
        return await self._stored(
            select(*STORED_EVENT_COLUMNS)
            .where(OutboxEvent.key == key, OutboxEvent.topic == topic, OutboxEvent.id > after_id)
            .order_by(OutboxEvent.id)
            .limit(limit)
        )

    async def unpublished(self, limit: int) -> list[StoredEvent]:
        return await self._stored(
            select(*STORED_EVENT_COLUMNS)
            .where(OutboxEvent.published_at.is_(None))
            .order_by(OutboxEvent.id)
            .limit(limit)
        )

    async def waiting(self) -> int:
        """How many events the relay has still to publish."""
        count = await self.session.scalar(
            select(func.count()).select_from(OutboxEvent).where(OutboxEvent.published_at.is_(None))
        )
        return int(count or 0)

    async def _stored(self, query: Select[int, str, str, str]) -> list[StoredEvent]:
        result = await self.session.execute(query)
        return [StoredEvent(*row) for row in result.all()]

    async def mark_published(self, ids: Sequence[int]) -> None:
        outbox = cast(Table, OutboxEvent.__table__)
        # Core, not ORM: nothing loaded needs synchronising.
        chosen = one_of(outbox.c.id, ids, self.session.get_bind().dialect)
        await self.session.execute(update(outbox).where(chosen).values(published_at=utcnow()))

    async def prune(self, before: datetime) -> int:
        result = await self.session.execute(
            delete(OutboxEvent).where(
                OutboxEvent.published_at.is_not(None), OutboxEvent.published_at < before
            )
        )
        return int(getattr(result, "rowcount", 0) or 0)


class OutboxRelay:
    """Moves committed events from the outbox onto the bus, in id order."""

    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        bus: Bus,
        topics: Mapping[str, str],
        *,
        poll_seconds: float,
        retention: timedelta,
        batch: int = 10_000,
    ) -> None:
        self.sessionmaker = sessionmaker
        self.bus = bus
        # The outbox's topic names mapped to the bus's (Kafka topic names are settings).
        self.topics = topics
        self.poll_seconds = poll_seconds
        self.retention = retention
        self.batch = batch
        self._wake = asyncio.Event()

    def wake(self, _changes: Changes | None = None) -> None:
        self._wake.set()

    async def publish_pending(self) -> int:
        """One pass: publish up to `batch` unpublished events; returns how many."""
        async with self.sessionmaker() as session:
            outbox = Outbox(session)
            events = await outbox.unpublished(self.batch)
            if not events:
                return 0
            await self.bus.publish(
                [
                    Record(
                        self.topics.get(event.topic, event.topic),
                        event.key,
                        event.as_json().encode(),
                    )
                    for event in events
                ]
            )
            await outbox.mark_published([event.id for event in events])
            await session.commit()
            return len(events)

    async def prune(self) -> int:
        async with self.sessionmaker() as session:
            removed = await Outbox(session).prune(utcnow() - self.retention)
            await session.commit()
            return removed

    async def run(self) -> None:
        """Relay for as long as this process holds the relay lock; returns if it is lost."""
        pruned_at = utcnow()
        while True:
            self._wake.clear()
            published = await self.publish_pending()
            if utcnow() - pruned_at > timedelta(minutes=10):
                await self.prune()
                pruned_at = utcnow()
            if published < self.batch:
                with suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), self.poll_seconds)


@asynccontextmanager
async def holding_relay_lock(engine: AsyncEngine) -> AsyncIterator[AsyncConnection | None]:
    """The connection that holds the relay lock, or None when another process holds it.

    On PostgreSQL the advisory lock lives as long as its database session, so a relay that
    dies frees it; an embedded SQLite hub is one process and needs no lock (the connection is
    still given, so that both backends run the same code)."""
    postgresql = engine.dialect.name == "postgresql"
    async with engine.connect() as connection:
        held = True
        if postgresql:
            held = bool(
                await connection.scalar(
                    text("SELECT pg_try_advisory_lock(:key)"), {"key": RELAY_LOCK_KEY}
                )
            )
        await connection.commit()
        try:
            yield connection if held else None
        finally:
            if held and postgresql:
                # Back in the pool, the session would keep the lock (and the relay's LISTEN)
                # from every relay, this process's next try included: end it instead.
                await connection.invalidate()


async def _listen(connection: AsyncConnection, wake: Callable[[], None]) -> None:
    """On PostgreSQL, have other processes' commits of events wake the relay at once, rather
    than at its next poll. The lock's connection listens, so the two end together."""
    if connection.dialect.name != "postgresql":
        return
    raw = await connection.get_raw_connection()
    driver = raw.driver_connection
    assert driver is not None
    await driver.add_listener(OUTBOX_CHANNEL, lambda *_notification: wake())


async def _keep_alive(connection: AsyncConnection) -> None:
    """Fail as soon as the lock's connection does: the lock went with it."""
    while True:
        await asyncio.sleep(LOCK_CHECK_SECONDS)
        await connection.scalar(text("SELECT 1"))
        await connection.commit()


async def relay_forever(relay: OutboxRelay, engine: AsyncEngine, feed: ChangeFeed | None) -> None:
    """Relay whenever this process holds the lock; otherwise stand by and try again."""
    if feed is not None:
        feed.subscribe(OUTBOX_WRITTEN, relay.wake)
    while True:
        # No lock taken, nothing read, while the broker is away: the events wait where they are.
        await relay.bus.ready()
        try:
            async with holding_relay_lock(engine) as connection:
                if connection is not None:
                    await _listen(connection, relay.wake)
                    log.info("outbox_relay_started")
                    await _first_failure(relay.run(), _keep_alive(connection))
        except Exception:  # a lost connection or broker: stand by and take the lock again
            log.exception("outbox_relay_failed")
        await asyncio.sleep(LOCK_CHECK_SECONDS)


async def _first_failure(*work: Coroutine[Any, Any, None]) -> None:
    """Run forever-loops side by side; the first to fail cancels the others and raises."""
    tasks = [asyncio.create_task(item) for item in work]
    try:
        done, _pending = await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
        for task in done:
            task.result()
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
