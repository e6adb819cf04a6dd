"""A database that is away or busy is answered 503 with Retry-After, never 500, and the hub
recovers by itself when it returns."""

import asyncio
import contextlib
from collections.abc import AsyncIterator

import asyncpg
import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from nguon.app import create_app
from nguon.areas.sources import AreaRecord
from nguon.audit.models import AuditRecord
from nguon.endpoints.models import Endpoint
from nguon.identity.roles import Role
from nguon.kit.settings import Settings
from tests.conftest import AN_GIANG, POSTGRES_URL, MakeEndpoint, MakeUser, communes_of, free_port
from tests.serving import serving

PROBLEM = "application/problem+json"
# Long enough for a refused request's audit record to be stored once the database is back.
SHUTDOWN_SECONDS = 30


def assert_unavailable(response: httpx.Response) -> None:
    assert response.status_code == 503, response.text
    assert response.headers["content-type"] == PROBLEM
    assert int(response.headers["retry-after"]) > 0


class Proxy:
    """A TCP relay in front of the database that can refuse connections and cut live ones,
    as a database host that restarts or drops off the network does."""

    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.port = free_port()
        self.server: asyncio.Server | None = None
        self.pipes: set[asyncio.StreamWriter] = set()

    async def start(self) -> None:
        self.server = await asyncio.start_server(self._relay, "127.0.0.1", self.port)

    async def stop(self) -> None:
        """Refuse new connections and cut the live ones."""
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()
            self.server = None
        for writer in list(self.pipes):
            writer.close()
        self.pipes.clear()

    async def _relay(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        upstream_reader, upstream_writer = await asyncio.open_connection(*self.target)
        self.pipes |= {writer, upstream_writer}

        async def pipe(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
            with contextlib.suppress(OSError):
                while data := await source.read(65536):
                    sink.write(data)
                    await sink.drain()
            sink.close()

        await asyncio.gather(pipe(reader, upstream_writer), pipe(upstream_reader, writer))


@pytest.fixture
async def proxied_app(
    settings: Settings, engine: AsyncEngine
) -> AsyncIterator[tuple[FastAPI, Proxy]]:
    assert POSTGRES_URL is not None
    url = make_url(POSTGRES_URL)
    proxy = Proxy(url.host or "127.0.0.1", url.port or 5432)
    await proxy.start()
    proxied = url.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
    application = create_app(settings.model_copy(update={"database_url": proxied}))
    await application.state.storage.ensure_ready()
    yield application, proxy
    await application.state.engine.dispose()
    await proxy.stop()


async def audit_records(
    sessionmaker: async_sessionmaker[AsyncSession], request_id: str, status: int
) -> int:
    async with sessionmaker() as session:
        found = await session.scalar(
            select(func.count())
            .select_from(AuditRecord)
            .where(AuditRecord.request_id == request_id, AuditRecord.status == status)
        )
    return found or 0


@pytest.mark.skipif(not POSTGRES_URL, reason="an embedded SQLite database cannot go away")
async def test_a_database_that_refuses_connections_is_503_and_the_hub_recovers(
    proxied_app: tuple[FastAPI, Proxy],
    make_user: MakeUser,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    application, proxy = proxied_app
    admin = await make_user("loss.admin", Role.admin, AN_GIANG)
    port = free_port()
    async with (
        serving(application, port, timeout_graceful_shutdown=SHUTDOWN_SECONDS),
        httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=60) as http,
    ):
        assert (await http.get("/api/v1/users", headers=admin)).status_code == 200
        await proxy.stop()  # the pool's connections are cut, new ones refused
        assert_unavailable(await http.get("/api/v1/users", headers=admin))
        assert_unavailable(
            await http.post(
                "/api/v1/auth/token",
                data={"username": "loss.admin", "password": "whatever-pw"},
                headers={"X-Request-Id": "while-away"},
            )
        )
        assert (await http.get("/readyz")).status_code == 503
        await proxy.start()
        assert (await http.get("/api/v1/users", headers=admin)).status_code == 200
        assert (await http.get("/readyz")).status_code == 200
    # The refused sign-in is recorded once the database is back (the server stops only once
    # its requests are done).
    assert await audit_records(sessionmaker, "while-away", 503) == 1


@pytest.mark.skipif(not POSTGRES_URL, reason="pg_terminate_backend is PostgreSQL's")
async def test_a_connection_killed_mid_request_is_503_and_the_next_request_succeeds(
    app: FastAPI,
    make_user: MakeUser,
    make_endpoint: MakeEndpoint,
    sessionmaker: async_sessionmaker[AsyncSession],
    areas: list[AreaRecord],
) -> None:
    admin = await make_user("kill.admin", Role.admin, AN_GIANG)
    await make_endpoint("KILL-BOARD", "display", communes_of(areas, AN_GIANG)[0], profile="eboard")
    assert POSTGRES_URL is not None
    database = await asyncpg.connect(POSTGRES_URL.replace("postgresql+asyncpg", "postgresql"))
    transport = httpx.ASGITransport(app=app)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://hub.test") as http:
            # The endpoint's row is held, so the request's UPDATE waits in the middle of its
            # transaction: its connection is killed there.
            holder = database.transaction()
            await holder.start()
            await database.execute("SELECT 1 FROM endpoints WHERE code = 'KILL-BOARD' FOR UPDATE")
            patch = asyncio.create_task(
                http.patch("/api/v1/endpoints/KILL-BOARD", json={"name": "Đổi"}, headers=admin)
            )
            waiting = None
            while waiting is None:
                await asyncio.sleep(0.05)
                waiting = await database.fetchval(
                    "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                    "AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()"
                )
            await database.execute("SELECT pg_terminate_backend($1)", waiting)
            await holder.rollback()
            assert_unavailable(await patch)
            again = await http.patch(
                "/api/v1/endpoints/KILL-BOARD", json={"name": "Đổi"}, headers=admin
            )
            assert again.status_code == 200, again.text
    finally:
        await database.close()


async def test_a_write_that_waits_longer_than_the_lock_timeout_is_503_and_audited_later(
    settings: Settings,
    engine: AsyncEngine,
    make_user: MakeUser,
    make_endpoint: MakeEndpoint,
    sessionmaker: async_sessionmaker[AsyncSession],
    areas: list[AreaRecord],
) -> None:
    admin = await make_user("wait.admin", Role.admin, AN_GIANG)
    await make_endpoint("WAIT-BOARD", "display", communes_of(areas, AN_GIANG)[0], profile="eboard")
    impatient = create_app(settings.model_copy(update={"database_lock_timeout_seconds": 0.5}))
    port = free_port()
    async with (
        serving(impatient, port, timeout_graceful_shutdown=SHUTDOWN_SECONDS),
        httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=60) as http,
    ):
        # Another writer holds the endpoint's row (PostgreSQL) or the write lock (SQLite).
        async with engine.connect() as holder:
            await holder.execute(text("UPDATE endpoints SET name = name WHERE code = 'WAIT-BOARD'"))
            refused = await http.patch(
                "/api/v1/endpoints/WAIT-BOARD",
                json={"name": "Không kịp"},
                headers={**admin, "X-Request-Id": "waited-too-long"},
            )
            assert_unavailable(refused)
            await holder.rollback()
        answered = await http.patch(
            "/api/v1/endpoints/WAIT-BOARD", json={"name": "Kịp"}, headers=admin
        )
        assert answered.status_code == 200, answered.text
    async with sessionmaker() as session:
        name = await session.scalar(select(Endpoint.name).where(Endpoint.code == "WAIT-BOARD"))
    assert name == "Kịp"
    # Recorded once the other writer let go (the server stops only once its requests are done).
    assert await audit_records(sessionmaker, "waited-too-long", 503) == 1
