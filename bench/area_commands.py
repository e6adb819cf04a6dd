"""A province-wide cluster switch: `switch_off` to ENDPOINTS radios in one request, then pushed.

Sets up PostgreSQL (NGUON_BENCH_DATABASE_URL, default the local `nguon_bench_commands`
database, whose `public` schema is replaced) with An Giang and ENDPOINTS radios, and, for each
run, times in process (ASGI, no network, no worker running beside it):

- request: `POST /api/v1/commands` `{"command": "switch_off", "area": "91"}` as an editor,
  whose transaction stores ENDPOINTS commands, switches the radios off and moves their
  playlists (ENDPOINTS endpoint events);
- push: the command pusher's passes until every command is sent (ENDPOINTS `command` events
  written to the outbox; no webhooks);
- baseline: a province-wide playlist change, `EndpointEvents.changed` over the same radios
  (what any province-wide change of what endpoints play costs), in the same run.

Prints each with its ratio to the baseline. The next run switches them back on (`switch_on`).
Run: `.venv/bin/python bench/area_commands.py [runs]`.
"""

import asyncio
import os
import sys
import time
from pathlib import Path

from httpx import ASGITransport, AsyncClient
from playlist_poll import SECRET, editor_headers, ensure_database, province_fleet
from pydantic import SecretStr
from sqlalchemy import select

from nguon.app import create_app
from nguon.commands.pusher import CommandPusher
from nguon.dispatch.events import EndpointEvents
from nguon.endpoints.models import Endpoint
from nguon.endpoints.windows import EndpointKind
from nguon.kit.migrate import upgrade
from nguon.kit.settings import Settings

ENDPOINTS = 10_000
DEFAULT_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/nguon_bench_commands"


async def run(settings: Settings, runs: int) -> None:
    app = create_app(settings)
    pusher = CommandPusher(app.state.sessionmaker, settings)
    transport = ASGITransport(app=app)
    async with AsyncClient(transport=transport, base_url="http://hub.bench", timeout=300) as http:
        headers = await editor_headers(http)
        for number in range(runs):
            async with app.state.sessionmaker() as session:
                started = time.perf_counter()
                await EndpointEvents(session).changed(select(Endpoint.id))
                await session.commit()
                baseline = time.perf_counter() - started
            command = "switch_off" if number % 2 == 0 else "switch_on"
            started = time.perf_counter()
            sent = await http.post(
                "/api/v1/commands", json={"command": command, "area": "91"}, headers=headers
            )
            request = time.perf_counter() - started
            if sent.status_code != 201 or len(sent.json()["items"]) != ENDPOINTS:
                raise SystemExit(f"the command was not sent to every radio: {sent.text[:300]}")
            started = time.perf_counter()
            pushed = 0
            while pushed < ENDPOINTS:
                pushed += await pusher.push_due()
            push = time.perf_counter() - started
            print(
                f"run {number + 1} ({command} to {ENDPOINTS} radios): "
                f"baseline {baseline:.3f} s; request {request:.3f} s "
                f"({request / baseline:.1f}x); push {push:.3f} s ({push / baseline:.1f}x)"
            )
    await pusher.client.aclose()
    await app.state.engine.dispose()


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 3
    url = os.environ.get("NGUON_BENCH_DATABASE_URL", DEFAULT_URL)
    asyncio.run(ensure_database(url))
    upgrade(url)
    settings = Settings(
        database_url=url,
        data_dir=Path("var/bench-commands").resolve(),
        secret_key=SecretStr(SECRET),
        log_level="warning",
        command_expire_seconds=3600,
    )
    asyncio.run(province_fleet(settings, ENDPOINTS, "CMD", EndpointKind.radio, None))
    asyncio.run(run(settings, runs))


if __name__ == "__main__":
    main()
