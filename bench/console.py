"""The console's main pages against the JSON routes that give the same data, with 10,000
bulletins in history.

Sets up PostgreSQL (NGUON_BENCH_DATABASE_URL, default the local `nguon_bench` database, whose
`public` schema is replaced) as `bench/commune_queue.py` does, with HISTORY bulletins, plus an
editor and an admin of the province. Then it serves the hub (`nguon serve`, one process), signs
each person in twice (the console's form, and a bearer token for the API) and, for each page,
makes `requests` (default 200) sequential requests of the page and of its JSON route, after
WARM_UP of each, alternating the two so both see the same machine.

The figure is the hub's own working time (its `Server-Timing` header), not the time on the wire.
Prints p50 and p95 for each pair and the page's p95 as a ratio of its JSON route's (the goal is
at most 1.5).
Run: `.venv/bin/python bench/console.py [requests]`.
"""

import asyncio
import os
import sys
import tempfile
import time
from pathlib import Path

import httpx

from nguon.identity.roles import Role
from nguon.kit.db import create_engine, create_sessionmaker
from nguon.kit.migrate import upgrade
from nguon.kit.settings import Settings

sys.path.insert(0, str(Path(__file__).resolve().parent))
from commune_queue import PASSWORD, prepare
from playlist_poll import (
    DEFAULT_URL,
    ensure_database,
    free_port,
    hub_environment,
    operator_of,
    percentile,
    serve_hub,
)

HISTORY = 10_000
WARM_UP = 10
GOAL = 1.5


async def add_people(settings: Settings) -> None:
    """The province's editor and admin, beside the commune chair `prepare` made."""
    engine = create_engine(settings.resolved_database_url)
    async with create_sessionmaker(engine)() as session:
        operator, identity = await operator_of(session)
        await identity.create_user(operator, "bench.editor", PASSWORD, Role.editor, "91")
        await identity.create_user(operator, "bench.admin", PASSWORD, Role.admin, "91")
        await session.commit()
    await engine.dispose()


def console_client(base: str, username: str) -> httpx.Client:
    client = httpx.Client(base_url=base, timeout=30)
    client.get("/console/sign-in").raise_for_status()
    answer = client.post(
        "/console/sign-in",
        data={
            "username": username,
            "password": PASSWORD,
            "csrf_token": client.cookies["nguon_csrf"],
            "next": "/console/",
        },
    )
    assert answer.status_code == 303, answer.text
    return client


def api_client(base: str, username: str) -> httpx.Client:
    client = httpx.Client(base_url=base, timeout=30)
    token = client.post("/api/v1/auth/token", data={"username": username, "password": PASSWORD})
    token.raise_for_status()
    client.headers["Authorization"] = f"Bearer {token.json()['access_token']}"
    return client


def working_ms(answer: httpx.Response) -> float:
    answer.raise_for_status()
    return float(answer.headers["server-timing"].split(";dur=")[1])


def compare(
    page: httpx.Client, api: httpx.Client, page_path: str, api_path: str, count: int
) -> tuple[list[float], list[float]]:
    for _ in range(WARM_UP):
        working_ms(page.get(page_path))
        working_ms(api.get(api_path))
    page_times, api_times = [], []
    for _ in range(count):
        page_times.append(working_ms(page.get(page_path)))
        api_times.append(working_ms(api.get(api_path)))
    return page_times, api_times


def main() -> None:
    requests = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    url = os.environ.get("NGUON_BENCH_DATABASE_URL", DEFAULT_URL)
    started = time.perf_counter()
    asyncio.run(ensure_database(url))
    with tempfile.TemporaryDirectory() as scratch:
        env = hub_environment(url, scratch)
        settings = Settings(data_dir=Path(scratch), database_url=url)
        upgrade(url)
        setup = asyncio.run(prepare(settings, HISTORY))
        asyncio.run(add_people(settings))
        port = free_port()
        hub = serve_hub(port, env)
        base = f"http://127.0.0.1:{port}"
        commune = setup.commune
        # (person, page, the JSON route with the same data)
        pairs = (
            ("bench.chair", "/console/commune", f"/api/v1/communes/{commune}/queue"),
            ("bench.editor", "/console/bulletins", "/api/v1/bulletins"),
            ("bench.editor", "/console/review", "/api/v1/bulletins?status=submitted"),
            ("bench.admin", "/console/endpoints", "/api/v1/endpoints"),
            ("bench.admin", "/console/audit", "/api/v1/audit"),
        )
        try:
            print(
                f"setup: {time.perf_counter() - started:.1f} s; {HISTORY:,} bulletins in history, "
                f"{setup.radios} radios, {setup.deliveries:,} deliveries"
            )
            print(f"{requests} requests of each page and of its JSON route, alternating")
            print(f"{'page':<22} {'JSON route':<38} {'p50':>8} {'p95':>8} {'JSON p95':>9} ratio")
            worst = 0.0
            for person, page_path, api_path in pairs:
                page, api = console_client(base, person), api_client(base, person)
                try:
                    page_times, api_times = compare(page, api, page_path, api_path, requests)
                finally:
                    page.close()
                    api.close()
                page_p95, api_p95 = percentile(page_times, 0.95), percentile(api_times, 0.95)
                ratio = page_p95 / api_p95
                worst = max(worst, ratio)
                print(
                    f"{page_path:<22} {api_path:<38} {percentile(page_times, 0.5):6.2f}ms "
                    f"{page_p95:6.2f}ms {api_p95:7.2f}ms {ratio:5.2f}"
                )
            print(f"worst ratio page/JSON p95: {worst:.2f} (goal ≤ {GOAL})")
        finally:
            hub.terminate()
            hub.wait(timeout=10)


if __name__ == "__main__":
    main()
