"""Nothing is lost: a worker killed in the middle of a fan-out, or a broker that restarts
empty, still ends with every delivery made, and made once.

These run the real thing: PostgreSQL, a Tansu broker, `nguon worker` as its own process, and a
vendor gateway receiving the webhooks. The API side runs in the test, as a separate process
would."""

import asyncio
import os
from collections import Counter
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from httpx import AsyncClient
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from nguon.areas.models import Area
from nguon.areas.sources import AreaRecord
from nguon.dispatch.models import Delivery, DeliveryStatus
from nguon.endpoints.repository import EndpointRepository
from nguon.endpoints.windows import DEFAULT_WINDOWS, DisplayProfile, EndpointKind
from nguon.identity.roles import Role
from nguon.kit.bus import KafkaBus, KafkaOptions
from nguon.kit.outbox import OutboxRelay
from nguon.kit.settings import Settings
from nguon.worker import bus_topics
from tests.bulletins.test_workflow import act, text_bulletin
from tests.conftest import AN_GIANG, MakeUser, communes_of
from tests.gateway import Gateway
from tests.processes import Process, kafka_environment
from tests.tansu import Broker

ENDPOINTS = 2_000
pytestmark = pytest.mark.skipif(
    not os.environ.get("NGUON_TEST_DATABASE_URL"), reason="runs on PostgreSQL (.ci/run does)"
)


@pytest.fixture
async def fleet(
    sessionmaker: async_sessionmaker[AsyncSession], areas: list[AreaRecord], gateway: Gateway
) -> None:
    """ENDPOINTS e-boards over An Giang's communes, all behind the vendor's gateway."""
    await gateway.start()
    codes = communes_of(areas, AN_GIANG)
    async with sessionmaker() as session:
        communes = (await session.scalars(select(Area).where(Area.code.in_(codes)))).all()
        windows = DEFAULT_WINDOWS[(EndpointKind.display, DisplayProfile.eboard)]
        await EndpointRepository(session).add_many(
            [
                {
                    "code": f"GW-{n:05d}",
                    "name": f"E-board {n}",
                    "kind": EndpointKind.display,
                    "profile": DisplayProfile.eboard,
                    "area_id": communes[n % len(communes)].id,
                    "area_code": communes[n % len(communes)].code,
                    "area_path": communes[n % len(communes)].path,
                    "languages": ["vi"],
                    "windows": windows,
                    "push_url": gateway.url,
                    "enabled": True,
                }
                for n in range(ENDPOINTS)
            ],
        )
        await session.commit()


@pytest.fixture
def worker(database_url: str, tansu: Broker, tmp_path: Path) -> Iterator[Process]:
    """`nguon worker`, quick to re-announce and to retry, so that the tests are short."""
    environment = kafka_environment(
        database_url,
        tansu,
        tmp_path / "worker",
        redrive_seconds="3",
        reconcile_seconds="0.5",
        push_timeout_seconds="2",
        push_retry_seconds="0.2",
        push_retry_max_seconds="2",
    )
    process = Process(["worker"], environment)
    yield process
    process.stop()


async def publish_emergency(client: AsyncClient, make_user: MakeUser, title: str) -> str:
    publisher = await make_user(f"p.{title}", Role.publisher, AN_GIANG)
    editor = await make_user(f"e.{title}", Role.editor, AN_GIANG)
    body = text_bulletin(AN_GIANG, priority="emergency", title=title)
    created = await client.post("/api/v1/bulletins", json=body, headers=publisher)
    bulletin_id = str(created.json()["id"])
    await act(client, bulletin_id, "submit", publisher)
    approved = await act(client, bulletin_id, "approve", editor)
    assert approved.status_code == 200, approved.text
    return bulletin_id


async def acknowledged(sessionmaker: async_sessionmaker[AsyncSession], bulletin_id: str) -> int:
    async with sessionmaker() as session:
        count = await session.scalar(
            select(func.count())
            .select_from(Delivery)
            .where(Delivery.bulletin_id == bulletin_id, Delivery.status == DeliveryStatus.acked)
        )
        return int(count or 0)


async def until(condition: Any, seconds: float = 120) -> None:
    async with asyncio.timeout(seconds):
        while True:
            if await condition():
                return
            await asyncio.sleep(0.05)


def made_once(gateway: Gateway, bulletin_id: str) -> Counter[str]:
    """How many times the gateway applied this bulletin, by endpoint."""
    return Counter(
        notification["endpoint"]
        for notification in gateway.received.values()
        if notification["bulletin"]["id"] == bulletin_id
    )


async def test_a_worker_killed_mid_fan_out_loses_nothing_and_doubles_nothing(
    client: AsyncClient,
    make_user: MakeUser,
    sessionmaker: async_sessionmaker[AsyncSession],
    fleet: None,
    gateway: Gateway,
    worker: Process,
) -> None:
    worker.start()
    bulletin_id = await publish_emergency(client, make_user, "kill")

    async def some_arrived() -> bool:
        return len(gateway.requests) >= ENDPOINTS // 10

    await until(some_arrived)
    worker.kill()
    assert await acknowledged(sessionmaker, bulletin_id) < ENDPOINTS  # killed mid-way
    worker.start()

    async def all_acknowledged() -> bool:
        return await acknowledged(sessionmaker, bulletin_id) == ENDPOINTS

    await until(all_acknowledged)
    applied = made_once(gateway, bulletin_id)
    assert len(applied) == ENDPOINTS
    assert set(applied.values()) == {1}


async def test_a_broker_that_restarts_empty_loses_nothing(
    client: AsyncClient,
    make_user: MakeUser,
    sessionmaker: async_sessionmaker[AsyncSession],
    settings: Settings,
    fleet: None,
    gateway: Gateway,
    worker: Process,
    tansu: Broker,
) -> None:
    # Events that reached the broker before it lost them: relayed here, with no worker yet.
    lost = await publish_emergency(client, make_user, "lost")
    kafka_settings = settings.model_copy(update={"kafka_bootstrap": tansu.bootstrap})
    bus = KafkaBus(
        KafkaOptions(tansu.bootstrap, partitions=4, replication_factor=1,
                     idempotent_producer=False),
        list(bus_topics(kafka_settings).values()),
    )  # fmt: skip
    await bus.start()
    relay = OutboxRelay(
        sessionmaker,
        bus,
        bus_topics(kafka_settings),
        poll_seconds=0.1,
        retention=timedelta(hours=kafka_settings.outbox_retention_hours),
    )
    while await relay.publish_pending():
        pass
    await bus.stop()
    tansu.restart_empty()

    # And a broker that dies in the middle of the next fan-out, with the worker running.
    worker.start()
    during = await publish_emergency(client, make_user, "during")
    await asyncio.sleep(0.3)
    tansu.restart_empty()

    async def all_acknowledged() -> bool:
        return all(
            [
                await acknowledged(sessionmaker, lost) == ENDPOINTS,
                await acknowledged(sessionmaker, during) == ENDPOINTS,
            ]
        )

    await until(all_acknowledged)
    for bulletin_id in (lost, during):
        applied = made_once(gateway, bulletin_id)
        assert len(applied) == ENDPOINTS
        assert set(applied.values()) == {1}
    async with sessionmaker() as session:
        redriven = await session.scalar(
            select(func.count())
            .select_from(Delivery)
            .where(Delivery.bulletin_id == lost, Delivery.drives > 0)
        )
    assert redriven == ENDPOINTS  # the reconciler, not the lost events, made them
