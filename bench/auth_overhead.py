"""What the access guard costs a request.

Serves the app in process (ASGI, no network) on a scratch SQLite file, or on the PostgreSQL
database named by NGUON_BENCH_DATABASE_URL (its `public` schema is replaced), and times three
requests of the same shape:

- `GET /healthz`: no guard, no database (the baseline);
- `GET /api/v1/areas/{code}` with a bearer token;
- the same with an `X-Api-Key`.

Prints the mean per request and each as a ratio of the baseline measured in the same run.
Run: `.venv/bin/python bench/auth_overhead.py [requests]`.
"""

import asyncio
import os
import sys
import tempfile
import time
from pathlib import Path

from httpx import ASGITransport, AsyncClient
from pydantic import SecretStr
from sqlalchemy import text

from nguon.app import create_app
from nguon.areas.service import AreaService
from nguon.areas.sources import current_units
from nguon.identity.credentials import ApiKeyHasher, TokenCodec
from nguon.identity.principal import AreaScope, Principal
from nguon.identity.roles import Role
from nguon.identity.service import IdentityService
from nguon.kit.db import create_engine
from nguon.kit.migrate import upgrade
from nguon.kit.settings import Settings

PASSWORD = "benchmark-password"
SECRET = "benchmark-secret-of-sufficient-length"


async def prepare(settings: Settings) -> dict[str, str]:
    app = create_app(settings)
    async with app.state.sessionmaker() as session:
        areas = AreaService(session)
        await areas.import_records(current_units(["91"]))
        root = await areas.national_root()
        operator = Principal("system", 0, "bench", Role.admin, AreaScope.of(root))
        identity = IdentityService(session, TokenCodec(SECRET, "nguon", 900), ApiKeyHasher(SECRET))
        await identity.create_user(operator, "bench.viewer", PASSWORD, Role.viewer, "91")
        _stored, new_key = await identity.create_key(operator, "bench", Role.integration, "91")
        await session.commit()
    await app.state.engine.dispose()
    return {"X-Api-Key": new_key.key}


async def timed(client: AsyncClient, path: str, headers: dict[str, str], count: int) -> float:
    for _ in range(min(50, count)):  # warm-up
        assert (await client.get(path, headers=headers)).status_code == 200
    started = time.perf_counter()
    for _ in range(count):
        await client.get(path, headers=headers)
    return (time.perf_counter() - started) / count


async def measure(settings: Settings, count: int) -> tuple[float, float, float]:
    key_headers = await prepare(settings)
    app = create_app(settings)
    async with AsyncClient(transport=ASGITransport(app=app), base_url="http://bench") as client:
        login = await client.post(
            "/api/v1/auth/token", data={"username": "bench.viewer", "password": PASSWORD}
        )
        bearer = {"Authorization": f"Bearer {login.json()['access_token']}"}
        baseline = await timed(client, "/healthz", {}, count)
        with_token = await timed(client, "/api/v1/areas/91", bearer, count)
        with_key = await timed(client, "/api/v1/areas/91", key_headers, count)
    await app.state.engine.dispose()
    return baseline, with_token, with_key


async def replace_schema(url: str) -> None:
    engine = create_engine(url)
    async with engine.begin() as connection:
        await connection.execute(text("DROP SCHEMA public CASCADE"))
        await connection.execute(text("CREATE SCHEMA public"))
    await engine.dispose()


def main(count: int) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        url = os.environ.get("NGUON_BENCH_DATABASE_URL") or f"sqlite+aiosqlite:///{scratch}/b.db"
        if url.startswith("postgresql"):
            asyncio.run(replace_schema(url))
        upgrade(url)
        settings = Settings(
            data_dir=Path(scratch),
            database_url=url,
            secret_key=SecretStr(SECRET),
            log_level="error",
        )
        baseline, with_token, with_key = asyncio.run(measure(settings, count))
    backend = "postgresql" if url.startswith("postgresql") else "sqlite"
    print(f"backend: {backend}, {count} requests each, in-process ASGI")
    for label, value in (
        ("GET /healthz (baseline)", baseline),
        ("GET /api/v1/areas/91, bearer token", with_token),
        ("GET /api/v1/areas/91, X-Api-Key", with_key),
    ):
        print(f"{label:40} {value * 1e3:8.3f} ms/request  {value / baseline:6.2f}x baseline")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 500)
