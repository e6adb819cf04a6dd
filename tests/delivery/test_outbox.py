"""Events leave with the transaction that caused them, are relayed once the transaction has
committed, and consumers process each once; the reconciler announces unconfirmed deliveries
again."""

import asyncio
import json
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

import pytest
from httpx import AsyncClient
from sqlalchemy import select, text, update
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.pool import NullPool

from nguon.dispatch.events import ENDPOINT_EVENTS
from nguon.dispatch.models import Delivery, DeliveryStatus
from nguon.dispatch.reconciler import Reconciler, backoff
from nguon.kit.background import in_background
from nguon.kit.bus import InProcessBus, Record
from nguon.kit.consumers import Event, idempotent
from nguon.kit.db import utcnow
from nguon.kit.outbox import (
    RELAY_LOCK_KEY,
    Outbox,
    OutboxEvent,
    OutboxRelay,
    relay_forever,
)
from tests.bulletins.test_workflow import act, text_bulletin
from tests.conftest import AN_GIANG, POSTGRES_URL
from tests.delivery.test_nothing_lost import until
from tests.dispatch.test_deliveries import publish

TOPICS = {ENDPOINT_EVENTS: ENDPOINT_EVENTS}
# The settings' defaults for emergencies to connected endpoints.
REPUSH, OFFLINE = timedelta(seconds=30), timedelta(seconds=180)


async def outbox_events(sessionmaker: async_sessionmaker[AsyncSession]) -> list[OutboxEvent]:
    async with sessionmaker() as session:
        return list((await session.scalars(select(OutboxEvent).order_by(OutboxEvent.id))).all())


def relay_of(sessionmaker: async_sessionmaker[AsyncSession], bus: InProcessBus) -> OutboxRelay:
    return OutboxRelay(sessionmaker, bus, TOPICS, poll_seconds=0.05, retention=timedelta(hours=1))


class Received:
    def __init__(self) -> None:
        self.records: list[dict[str, Any]] = []

    async def __call__(self, batch: Sequence[Record]) -> None:
        self.records.extend(json.loads(record.value) for record in batch)


async def test_publication_writes_one_event_per_endpoint_with_the_bulletin(
    client: AsyncClient, province: dict[str, Any], sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    bulletin_id = await publish(client, province, text_bulletin(AN_GIANG, priority="emergency"))
    events = await outbox_events(sessionmaker)
    assert {(e.key, e.payload["type"]) for e in events} == {
        ("A-RADIO", "emergency"),
        ("A-BOARD", "emergency"),
    }
    assert all(e.payload["bulletin"]["id"] == bulletin_id for e in events)
    assert all(e.published_at is None for e in events)
    revoked = await act(client, bulletin_id, "revoke", province["editor"], reason="sai nội dung")
    assert revoked.status_code == 200, revoked.text
    last_two = (await outbox_events(sessionmaker))[-2:]
    assert {(e.key, e.payload["type"]) for e in last_two} == {
        ("A-RADIO", "revocation"),
        ("A-BOARD", "revocation"),
    }
    # Each event carries the version the endpoint's playlist moved to.
    radio = [e for e in await outbox_events(sessionmaker) if e.key == "A-RADIO"]
    assert radio[1].payload["playlist_version"] > radio[0].payload["playlist_version"]


async def test_a_rolled_back_change_leaves_no_event(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    async with sessionmaker() as session:
        await Outbox(session).emit(ENDPOINT_EVENTS, [("AG-1", {"type": "playlist"})])
        await session.rollback()
    assert await outbox_events(sessionmaker) == []


async def test_the_relay_publishes_committed_events_in_order_and_marks_them(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    async with sessionmaker() as session:
        await Outbox(session).emit(
            ENDPOINT_EVENTS, [("AG-1", {"type": "playlist", "n": n}) for n in range(5)]
        )
        await session.commit()
    bus = InProcessBus()
    received = Received()
    async with bus.subscription([ENDPOINT_EVENTS], None, received):
        assert await relay_of(sessionmaker, bus).publish_pending() == 5
        assert await relay_of(sessionmaker, bus).publish_pending() == 0
        await _settle()
    assert [r["n"] for r in received.records] == [0, 1, 2, 3, 4]
    assert all(e.published_at is not None for e in await outbox_events(sessionmaker))


@pytest.mark.skipif(not POSTGRES_URL, reason="LISTEN/NOTIFY is PostgreSQL's")
async def test_a_commit_elsewhere_wakes_the_relay_without_waiting_for_its_poll(
    engine: AsyncEngine, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    # Sessions with no change feed: what an API process's commits are to a worker's relay.
    bus = InProcessBus()
    received = Received()
    relay = OutboxRelay(sessionmaker, bus, TOPICS, poll_seconds=60, retention=timedelta(hours=1))
    async with (
        bus.subscription([ENDPOINT_EVENTS], None, received),
        in_background("relay", lambda: relay_forever(relay, engine, None)),
    ):
        for n in range(2):  # the second comes once the relay is surely waiting
            async with sessionmaker() as session:
                await Outbox(session).emit(
                    ENDPOINT_EVENTS, [("AG-1", {"type": "playlist", "n": n})]
                )
                await session.commit()

            async def arrived(count: int = n + 1) -> bool:
                return len(received.records) == count

            await until(arrived, seconds=10)
    assert [r["n"] for r in received.records] == [0, 1]


@pytest.mark.skipif(not POSTGRES_URL, reason="the relay lock is PostgreSQL's")
async def test_a_relay_that_stops_leaves_the_lock_to_another_process(
    engine: AsyncEngine, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    elsewhere = create_async_engine(engine.url, poolclass=NullPool)  # a session per check

    async def taken_elsewhere() -> bool:
        async with elsewhere.connect() as connection:
            lock = {"key": RELAY_LOCK_KEY}
            taken = await connection.scalar(text("SELECT pg_try_advisory_lock(:key)"), lock)
            if taken:
                await connection.scalar(text("SELECT pg_advisory_unlock(:key)"), lock)
            return bool(taken)

    async def held_here() -> bool:
        return not await taken_elsewhere()

    try:
        relay = relay_of(sessionmaker, InProcessBus())
        running = asyncio.create_task(relay_forever(relay, engine, None))
        await until(held_here, seconds=10)
        running.cancel()
        await asyncio.gather(running, return_exceptions=True)
        assert await taken_elsewhere()
    finally:
        await elsewhere.dispose()


async def test_events_relayed_twice_are_processed_once(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    """A relay that dies after publishing and before marking publishes the batch again."""
    async with sessionmaker() as session:
        await Outbox(session).emit(
            ENDPOINT_EVENTS, [(f"AG-{n}", {"type": "playlist"}) for n in range(3)]
        )
        await session.commit()
    handled: list[int] = []

    async def handle(_session: AsyncSession, events: Sequence[Event]) -> None:
        handled.extend(int(event["id"]) for event in events)

    bus = InProcessBus()
    consumer = idempotent(sessionmaker, "test-consumer", handle)
    async with bus.subscription([ENDPOINT_EVENTS], "g", consumer):
        relay = relay_of(sessionmaker, bus)
        await relay.publish_pending()
        async with sessionmaker() as session:  # as if the mark had never committed
            await session.execute(update(OutboxEvent).values(published_at=None))
            await session.commit()
        await relay.publish_pending()
        await _settle()
    assert sorted(handled) == [e.id for e in await outbox_events(sessionmaker)]


async def test_published_events_are_kept_for_reconnects_then_pruned(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    async with sessionmaker() as session:
        await Outbox(session).emit(ENDPOINT_EVENTS, [("AG-1", {"type": "playlist"})])
        await Outbox(session).emit(ENDPOINT_EVENTS, [("AG-2", {"type": "playlist"})])
        await session.commit()
    relay = relay_of(sessionmaker, InProcessBus())
    await relay.publish_pending()
    assert await relay.prune() == 0
    async with sessionmaker() as session:
        await session.execute(
            update(OutboxEvent)
            .where(OutboxEvent.key == "AG-1")
            .values(published_at=utcnow() - timedelta(hours=2))
        )
        await session.commit()
    assert await relay.prune() == 1
    assert [e.key for e in await outbox_events(sessionmaker)] == ["AG-2"]


def test_backoff_doubles_up_to_the_cap() -> None:
    waits = backoff(timedelta(seconds=10), timedelta(seconds=60))
    assert waits == [timedelta(seconds=s) for s in (10, 20, 40, 60)]


@pytest.mark.parametrize("acknowledged", [False, True])
async def test_the_reconciler_announces_unconfirmed_deliveries_again_with_backoff(
    client: AsyncClient,
    province: dict[str, Any],
    sessionmaker: async_sessionmaker[AsyncSession],
    acknowledged: bool,
) -> None:
    bulletin_id = await publish(client, province, text_bulletin(AN_GIANG, priority="emergency"))
    if acknowledged:
        async with sessionmaker() as session:
            await session.execute(update(Delivery).values(status=DeliveryStatus.acked))
            await session.commit()
    before = len(await outbox_events(sessionmaker))
    first, cap = timedelta(seconds=60), timedelta(seconds=600)

    async def redrive(after: timedelta) -> int:
        async with sessionmaker() as session:
            # Never heard from and with no push URL: the emergency follows the backoff.
            reconciler = Reconciler(session, first, cap, repush=REPUSH, offline_after=OFFLINE)
            count = await reconciler.redrive(utcnow() + after)
            await session.commit()
            return count

    assert await redrive(timedelta(seconds=30)) == 0  # not yet due
    expected = 0 if acknowledged else 2
    assert await redrive(timedelta(seconds=61)) == expected
    events = (await outbox_events(sessionmaker))[before:]
    assert len(events) == expected
    assert all(e.payload["type"] == "emergency" for e in events)
    assert all(e.payload["bulletin"]["id"] == bulletin_id for e in events)
    # Told again just now: the next time is twice the wait away.
    assert await redrive(timedelta(seconds=61 + 100)) == 0
    assert await redrive(timedelta(seconds=61 + 121)) == expected


async def test_ended_deliveries_are_not_announced_again(
    client: AsyncClient, province: dict[str, Any], sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    bulletin_id = await publish(client, province, text_bulletin(AN_GIANG))
    await act(client, bulletin_id, "revoke", province["editor"], reason="hết hiệu lực")
    async with sessionmaker() as session:
        reconciler = Reconciler(
            session,
            timedelta(seconds=1),
            timedelta(seconds=1),
            repush=REPUSH,
            offline_after=OFFLINE,
        )
        assert await reconciler.redrive(utcnow() + timedelta(hours=1)) == 0


async def _settle() -> None:
    """Let the in-process bus hand over what was published."""
    for _ in range(20):
        await asyncio.sleep(0.02)
