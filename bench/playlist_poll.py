"""Unchanged playlist polls against a bare ASGI app, both served by uvicorn in the same run.

Sets up PostgreSQL (NGUON_BENCH_DATABASE_URL, default the local `nguon_bench` database, which
is created when missing and whose `public` schema is replaced) with An Giang, ENDPOINTS
e-boards and a dozen bulletins on air for them, then serves:

- the hub (`nguon serve`, one process) and polls `GET /api/v1/device/playlist` with each
  endpoint's key and the ETag it was given, so every answer is a 304;
- a bare ASGI app returning a fixed body, on the same uvicorn settings (the baseline).

CONNECTIONS keep-alive connections poll for SECONDS each; prints requests/s, p50 and p99 for
both and the hub's rate as a ratio of the baseline (target: >= 0.4).
Run: `.venv/bin/python bench/playlist_poll.py [connections] [seconds]`.
"""

import asyncio
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from nguon.app import create_app
from nguon.areas.models import Area
from nguon.areas.service import AreaService
from nguon.areas.sources import current_units
from nguon.bulletins.schemas import BulletinCreate
from nguon.bulletins.service import BulletinService
from nguon.endpoints.repository import EndpointRepository
from nguon.endpoints.schemas import EndpointCreate
from nguon.endpoints.service import EndpointService
from nguon.endpoints.windows import DEFAULT_WINDOWS, DisplayProfile, EndpointKind
from nguon.identity.credentials import ApiKeyHasher, TokenCodec
from nguon.identity.principal import AreaScope, Principal
from nguon.identity.roles import Role
from nguon.identity.service import IdentityService
from nguon.kit.db import create_engine, create_sessionmaker
from nguon.kit.migrate import upgrade
from nguon.kit.settings import Settings

SECRET = "benchmark-secret-of-sufficient-length"
# The province editor the benchmarks that act through the API sign in as.
BENCH_EDITOR = ("bench.editor", "bench-editor-password")
DEFAULT_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/nguon_bench"
ENDPOINTS = 200
BULLETINS = 12

BARE_APP = """
BODY = b'{"items": []}'

async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"application/json"), (b"content-length", b"13"),
                            (b"etag", b'"1.bare"')]})
    await send({"type": "http.response.body", "body": BODY})
"""


def hub_environment(url: str, scratch: str) -> dict[str, str]:
    """The settings a served hub reads: the bench database, a scratch data dir, quiet logs."""
    return {
        **os.environ,
        "NGUON_DATABASE_URL": url,
        "NGUON_SECRET_KEY": SECRET,
        "NGUON_DATA_DIR": scratch,
        "NGUON_LOG_LEVEL": "warning",
    }


def serve_hub(port: int, env: dict[str, str]) -> subprocess.Popen[bytes]:
    command = [str(Path(sys.executable).parent / "nguon"), "serve", "--port", str(port)]
    return serve(command, port, env)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def ensure_database(url: str) -> None:
    plain = url.replace("postgresql+asyncpg", "postgresql")
    base, _slash, name = plain.rpartition("/")
    admin = await asyncpg.connect(f"{base}/postgres")
    try:
        if not await admin.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name):
            await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    connection = await asyncpg.connect(plain)
    try:
        await connection.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
    finally:
        await connection.close()


async def operator_of(session: AsyncSession) -> tuple[Principal, IdentityService]:
    """The console operator (an admin of the whole country) and the identity service."""
    root = await AreaService(session).national_root()
    operator = Principal("system", 0, "bench", Role.admin, AreaScope.of(root))
    return operator, IdentityService(
        session, TokenCodec(SECRET, "nguon", 900), ApiKeyHasher(SECRET)
    )


async def an_giang(
    session: AsyncSession,
) -> tuple[Principal, IdentityService, Area, list[Area]]:
    """An Giang loaded: the console operator, the identity service, the province, its communes."""
    areas = AreaService(session)
    await areas.import_records(current_units(["91"]))
    operator, identity = await operator_of(session)
    province = await areas.get_by_code("91")
    return operator, identity, province, list(await areas.repository.children(province, None))


def spread_endpoints(
    communes: list[Area], count: int, code: str, kind: EndpointKind, profile: DisplayProfile | None
) -> list[dict[str, Any]]:
    """`count` enabled endpoints of a kind spread over the communes, with their default
    windows, as rows for `EndpointRepository.add_many` (codes `{code}-00000` on)."""
    windows = DEFAULT_WINDOWS[(kind, profile)]
    return [
        {
            "code": f"{code}-{number:05d}",
            "name": f"{kind.value} {number}",
            "kind": kind,
            "profile": profile,
            "area_id": communes[number % len(communes)].id,
            "area_code": communes[number % len(communes)].code,
            "area_path": communes[number % len(communes)].path,
            "languages": ["vi"],
            "windows": windows,
            "enabled": True,
        }
        for number in range(count)
    ]


async def province_fleet(
    settings: Settings, count: int, code: str, kind: EndpointKind, profile: DisplayProfile | None
) -> None:
    """An Giang with `count` endpoints of a kind spread over its communes, and the bench
    editor of the province; committed."""
    app = create_app(settings)
    async with app.state.sessionmaker() as session:
        operator, identity, _province, communes = await an_giang(session)
        await EndpointRepository(session).add_many(
            spread_endpoints(communes, count, code, kind, profile)
        )
        await identity.create_user(operator, *BENCH_EDITOR, Role.editor, "91")
        await session.commit()
    await app.state.engine.dispose()


async def editor_headers(http: httpx.AsyncClient) -> dict[str, str]:
    """The bench editor's bearer token, signed in through the API."""
    username, password = BENCH_EDITOR
    token = await http.post("/api/v1/auth/token", data={"username": username, "password": password})
    return {"Authorization": f"Bearer {token.json()['access_token']}"}


async def prepare(settings: Settings) -> list[str]:
    """An Giang with ENDPOINTS e-boards and BULLETINS text bulletins on air; the keys."""
    engine = create_engine(settings.resolved_database_url)
    sessionmaker = create_sessionmaker(engine)
    keys: list[str] = []
    async with sessionmaker() as session:
        operator, identity, province, units = await an_giang(session)
        endpoints = EndpointService(session, identity, settings)
        communes = [unit.code for unit in units]
        for number in range(ENDPOINTS):
            body = EndpointCreate(
                code=f"BENCH-{number:05d}",
                name=f"E-board {number}",
                kind="display",
                profile="eboard",
                area=communes[number % len(communes)],
            )
            _endpoint, key = await endpoints.create(operator, body)
            keys.append(key.key)
        editor = Principal("system", 0, "bench", Role.editor, AreaScope.of(province))
        bulletins = BulletinService(session)
        for number in range(BULLETINS):
            fields = BulletinCreate(
                title=f"Bản tin {number}",
                kind="text",
                body="Nội dung bản tin " * 20,
                category="access_to_information",
                priority=["emergency", "priority", "normal"][number % 3],
                targets=["91"],
            )
            bulletin = await bulletins.create(editor, fields)
            await bulletins.submit(editor, bulletin.id)
            await bulletins.approve(editor, bulletin.id)
        await session.commit()
    await engine.dispose()
    return keys


def serve(command: list[str], port: int, env: dict[str, str]) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL)  # noqa: S603
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1)
            return process
        except httpx.TransportError:
            time.sleep(0.2)
    process.kill()
    raise SystemExit(f"{command[0]} did not come up on port {port}")


async def poll(
    port: int, requests: list[bytes], seconds: float, connections: int
) -> tuple[int, list[float]]:
    """Keep-alive connections sending the prepared requests round-robin; latencies in ms."""
    latencies: list[float] = []
    stop = time.perf_counter() + seconds

    async def connection(offset: int) -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        index = offset
        while time.perf_counter() < stop:
            started = time.perf_counter()
            writer.write(requests[index % len(requests)])
            head = await reader.readuntil(b"\r\n\r\n")
            length = 0
            for line in head.split(b"\r\n"):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":", 1)[1])
            if not head.startswith((b"HTTP/1.1 304", b"HTTP/1.1 200")):
                raise SystemExit(f"unexpected answer: {head[:80]!r}")
            if length:
                await reader.readexactly(length)
            latencies.append((time.perf_counter() - started) * 1000)
            index += connections
        writer.close()

    await asyncio.gather(*(connection(n) for n in range(connections)))
    return len(latencies), latencies


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def request_bytes(port: int, key: str, etag: str) -> bytes:
    return (
        f"GET /api/v1/device/playlist HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        f"X-Api-Key: {key}\r\nIf-None-Match: {etag}\r\n\r\n"
    ).encode()


def measure(name: str, port: int, requests: list[bytes], seconds: float, conns: int) -> float:
    asyncio.run(poll(port, requests, 2, conns))  # warm-up
    count, latencies = asyncio.run(poll(port, requests, seconds, conns))
    rate = count / seconds
    p50, p99 = percentile(latencies, 0.5), percentile(latencies, 0.99)
    print(f"{name:<34} {rate:9.0f} req/s   p50 {p50:6.2f} ms   p99 {p99:6.2f} ms")
    return rate


def main() -> None:
    connections = int(sys.argv[1]) if len(sys.argv) > 1 else 32
    seconds = float(sys.argv[2]) if len(sys.argv) > 2 else 10
    url = os.environ.get("NGUON_BENCH_DATABASE_URL", DEFAULT_URL)
    asyncio.run(ensure_database(url))
    with tempfile.TemporaryDirectory() as scratch:
        env = hub_environment(url, scratch)
        settings = Settings(data_dir=Path(scratch), database_url=url)
        upgrade(url)
        keys = asyncio.run(prepare(settings))
        hub_port, bare_port = free_port(), free_port()
        bare_file = Path(scratch) / "bare_app.py"
        bare_file.write_text(BARE_APP)
        hub = serve_hub(hub_port, env)
        bare = serve(
            [
                sys.executable, "-m", "uvicorn", "bare_app:app", "--port", str(bare_port),
                "--no-access-log", "--log-level", "warning", "--app-dir", scratch,
            ],
            bare_port,
            env,
        )  # fmt: skip
        try:
            etags = [
                httpx.get(
                    f"http://127.0.0.1:{hub_port}/api/v1/device/playlist",
                    headers={"X-Api-Key": key},
                ).headers["etag"]
                for key in keys
            ]
            hub_requests = [
                request_bytes(hub_port, key, etag) for key, etag in zip(keys, etags, strict=True)
            ]
            print(f"{ENDPOINTS} endpoints, {connections} connections, {seconds:g} s each")
            bare_rate = measure(
                "bare ASGI app (baseline)",
                bare_port,
                [request_bytes(bare_port, "-", '"1.bare"')],
                seconds,
                connections,
            )
            hub_rate = measure(
                "hub: unchanged playlist poll (304)", hub_port, hub_requests, seconds, connections
            )
            print(f"ratio hub/bare: {hub_rate / bare_rate:.2f} (target >= 0.40)")
        finally:
            for process in (hub, bare):
                process.terminate()
                process.wait(timeout=10)


if __name__ == "__main__":
    main()
