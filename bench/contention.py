"""Concurrent writers against one `nguon serve` process, on the embedded SQLite file and on
PostgreSQL (NGUON_BENCH_DATABASE_URL, default the local `nguon_bench` database, created when
missing and whose `public` schema is replaced).

WRITERS keep-alive connections send state-changing requests for SECONDS, each kind in turn:
a new bulletin, a bulletin retried under an Idempotency-Key that the writers share (so that
retries race the first), a PATCH of an endpoint, a new key for an endpoint, a device
heartbeat, and refused ones (anonymous, invalid). Sign-ins are left out: each costs a CPU for
a good part of a second (Argon2), which would measure the hashing. Each request has its own
`X-Request-Id`. Then, for each backend, the script prints: requests and rate, 5xx (target 0),
p50 and p99 latency, how long /readyz takes right after the burst, and audit records written
for the requests against requests sent (target: equal).

Run: `.venv/bin/python bench/contention.py [writers] [seconds]`.
"""

import asyncio
import itertools
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from playlist_poll import (
    DEFAULT_URL,
    an_giang,
    ensure_database,
    free_port,
    hub_environment,
    percentile,
    serve_hub,
)
from sqlalchemy import func, select

from nguon.audit.models import AuditRecord
from nguon.endpoints.schemas import EndpointCreate
from nguon.endpoints.service import EndpointService
from nguon.identity.roles import Role
from nguon.kit.db import create_engine, create_sessionmaker
from nguon.kit.migrate import upgrade
from nguon.kit.settings import Settings

PASSWORD = "bench-password-long-enough"
ENDPOINTS = 8
# Retried bulletins sent under one Idempotency-Key before the next key (by different writers,
# at about the same time).
SAME_KEY_USES = 8
# How long the audit records of refused requests may take to be written after their answers.
AUDIT_SETTLE_SECONDS = 30


@dataclass
class Hub:
    port: int
    admin: dict[str, str]
    publisher: dict[str, str]
    devices: list[dict[str, str]]
    endpoint_codes: list[str]


@dataclass
class Tally:
    latencies: list[float] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)
    request_ids: set[str] = field(default_factory=set)
    failures: list[str] = field(default_factory=list)


async def prepare(settings: Settings) -> tuple[list[str], list[str]]:
    """An Giang, an admin and a publisher, ENDPOINTS radios; their codes and device keys."""
    engine = create_engine(settings.resolved_database_url)
    sessionmaker = create_sessionmaker(engine)
    codes, keys = [], []
    async with sessionmaker() as session:
        operator, identity, province, communes = await an_giang(session)
        for username, role in (("bench.admin", Role.admin), ("bench.publisher", Role.publisher)):
            await identity.create_user(operator, username, PASSWORD, role, province.code)
        endpoints = EndpointService(session, identity, settings)
        for number in range(ENDPOINTS):
            code = f"CONTEND-{number:02d}"
            body = EndpointCreate(
                code=code, name=f"Loa {number}", kind="radio", area=communes[number].code
            )
            _endpoint, key = await endpoints.create(operator, body)
            codes.append(code)
            keys.append(key.key)
        await session.commit()
    await engine.dispose()
    return codes, keys


async def sign_in(http: httpx.AsyncClient, username: str) -> dict[str, str]:
    response = await http.post(
        "/api/v1/auth/token", data={"username": username, "password": PASSWORD}
    )
    response.raise_for_status()
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def bulletin(title: str) -> dict[str, Any]:
    return {
        "title": title,
        "kind": "text",
        "body": "Nội dung bản tin thử tải.",
        "language": "vi",
        "category": "access_to_information",
        "priority": "normal",
        "targets": ["91"],
    }


def requests_of(hub: Hub, writer: int) -> Iterator[dict[str, Any]]:
    """The writer's requests, in turn; the endpoints whose keys are renewed are not the ones
    that send heartbeats (half each)."""
    half = len(hub.endpoint_codes) // 2
    own = hub.endpoint_codes[writer % half]
    renewed = hub.endpoint_codes[half + writer % half]
    device = hub.devices[writer % half]
    heartbeat = {"status": "idle", "volume": 50, "playlist_etag": None}
    kinds: list[dict[str, Any]] = [
        {"method": "POST", "url": "/api/v1/bulletins", "headers": hub.publisher},
        {"method": "POST", "url": "/api/v1/bulletins", "headers": hub.publisher, "same_key": 1},
        {
            "method": "PATCH",
            "url": f"/api/v1/endpoints/{own}",
            "headers": hub.admin,
            "json": {"name": f"Loa của người ghi {writer}"},
        },
        {"method": "POST", "url": f"/api/v1/endpoints/{renewed}/key", "headers": hub.admin},
        {"method": "POST", "url": "/api/v1/device/heartbeat", "headers": device, "json": heartbeat},
        {
            "method": "POST",
            "url": "/api/v1/endpoints",
            "json": {"code": "ANON", "name": "x", "kind": "radio", "area": "91"},
        },
        {"method": "POST", "url": "/api/v1/bulletins", "headers": hub.publisher, "json": {}},
    ]
    return itertools.cycle(kinds[writer % len(kinds) :] + kinds[: writer % len(kinds)])


async def write(hub: Hub, writers: int, seconds: float) -> Tally:
    tally = Tally()
    numbers = itertools.count(1)
    same_key_uses = itertools.count()
    stop = time.perf_counter() + seconds
    limits = httpx.Limits(max_connections=writers, max_keepalive_connections=writers)

    async with httpx.AsyncClient(
        base_url=f"http://127.0.0.1:{hub.port}", timeout=120, limits=limits
    ) as http:

        async def writer(number: int) -> None:
            for kind in requests_of(hub, number):
                if time.perf_counter() >= stop:
                    return
                request_id = f"contend-{next(numbers)}"
                options = {key: value for key, value in kind.items() if key != "same_key"}
                headers = {**options.pop("headers", {}), "X-Request-Id": request_id}
                if kind.get("same_key"):
                    round_ = next(same_key_uses) // SAME_KEY_USES
                    headers["Idempotency-Key"] = f"contend-retry-{round_}"
                    options["json"] = bulletin(f"Bản tin gửi lại {round_}")
                elif options["url"] == "/api/v1/bulletins" and "json" not in options:
                    options["json"] = bulletin(f"Bản tin {request_id}")
                started = time.perf_counter()
                try:
                    response = await http.request(headers=headers, **options)
                except httpx.HTTPError as error:
                    tally.failures.append(f"{options['url']}: {error!r}")
                    continue
                tally.latencies.append((time.perf_counter() - started) * 1000)
                tally.statuses[response.status_code] += 1
                tally.request_ids.add(request_id)

        await asyncio.gather(*(writer(number) for number in range(writers)))
    return tally


async def audited(url: str, expected: int) -> int:
    """Audit records of the burst's requests, once every one has had time to be written."""
    engine = create_engine(url)
    sessionmaker = create_sessionmaker(engine)
    deadline = time.monotonic() + AUDIT_SETTLE_SECONDS
    try:
        while True:
            async with sessionmaker() as session:
                found = await session.scalar(
                    select(func.count())
                    .select_from(AuditRecord)
                    .where(AuditRecord.request_id.like("contend-%"))
                )
            if (found or 0) >= expected or time.monotonic() > deadline:
                return found or 0
            await asyncio.sleep(0.5)
    finally:
        await engine.dispose()


def run(name: str, url: str, writers: int, seconds: float) -> bool:
    with tempfile.TemporaryDirectory() as scratch:
        env = hub_environment(url, scratch)
        settings = Settings(data_dir=Path(scratch), database_url=url)
        upgrade(url)
        codes, keys = asyncio.run(prepare(settings))
        port = free_port()
        hub_process = serve_hub(port, env)
        try:
            base = f"http://127.0.0.1:{port}"
            with httpx.Client(base_url=base) as http:

                async def tokens() -> tuple[dict[str, str], dict[str, str]]:
                    async with httpx.AsyncClient(base_url=base) as client:
                        return (
                            await sign_in(client, "bench.admin"),
                            await sign_in(client, "bench.publisher"),
                        )

                admin, publisher = asyncio.run(tokens())
                devices = [{"X-Api-Key": key} for key in keys]
                hub = Hub(port, admin, publisher, devices, codes)
                tally = asyncio.run(write(hub, writers, seconds))
                started = time.perf_counter()
                ready = http.get("/readyz", timeout=120)
                ready_ms = (time.perf_counter() - started) * 1000
            requests = sum(tally.statuses.values())
            records = asyncio.run(audited(url, requests))
        finally:
            hub_process.terminate()
            try:
                hub_process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                print(f"{name}: the hub did not stop within 30 s of SIGTERM; killed")
                hub_process.kill()
                hub_process.wait()
    server_errors = sum(count for status, count in tally.statuses.items() if status >= 500)
    statuses = " ".join(f"{status}:{count}" for status, count in sorted(tally.statuses.items()))
    print(f"{name}: {writers} writers for {seconds:g} s")
    print(f"  requests          {requests} ({requests / seconds:.0f}/s)   answers {statuses}")
    print(f"  5xx               {server_errors} (target 0)")
    print(f"  transport errors  {len(tally.failures)} (target 0)")
    if tally.latencies:
        p50, p99 = percentile(tally.latencies, 0.5), percentile(tally.latencies, 0.99)
        print(f"  latency           p50 {p50:.1f} ms   p99 {p99:.1f} ms")
    print(f"  /readyz after     {ready.status_code} in {ready_ms:.1f} ms")
    print(f"  audit records     {records} for {requests} requests (target equal)")
    for failure in tally.failures[:5]:
        print(f"    {failure}")
    return server_errors == 0 and not tally.failures and records == requests


def main() -> None:
    writers = int(sys.argv[1]) if len(sys.argv) > 1 else 32
    seconds = float(sys.argv[2]) if len(sys.argv) > 2 else 10
    postgresql = os.environ.get("NGUON_BENCH_DATABASE_URL", DEFAULT_URL)
    asyncio.run(ensure_database(postgresql))
    with tempfile.TemporaryDirectory() as data:
        sqlite = f"sqlite+aiosqlite:///{Path(data) / 'nguon.db'}"
        results = [
            run("SQLite (embedded file)", sqlite, writers, seconds),
            run("PostgreSQL", postgresql, writers, seconds),
        ]
    if not all(results):
        raise SystemExit("contention targets missed")


if __name__ == "__main__":
    main()
