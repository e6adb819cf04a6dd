"""What holding the advertising limit adds to a province-wide approval.

Sets up PostgreSQL (NGUON_BENCH_DATABASE_URL, default the local `nguon_bench_advertising`
database, whose `public` schema is replaced) with An Giang and ENDPOINTS e-boards, and, for
each run, times in process (ASGI, no network) `POST /api/v1/bulletins/{id}/approve` as an
editor of:

- baseline: a text bulletin of public information to the whole province (ENDPOINTS
  deliveries and endpoint events);
- advert: a text advertisement to the whole province, which also reads every advertisement
  on air to those endpoints (one more each run: run n judges ENDPOINTS × n rows) and checks
  each endpoint's days against the limit.

Prints each with the advert's ratio to the baseline.
Run: `.venv/bin/python bench/advertising_limit.py [runs]`.
"""

import asyncio
import os
import sys
import time
from pathlib import Path
from typing import Any

from httpx import ASGITransport, AsyncClient
from playlist_poll import SECRET, editor_headers, ensure_database, province_fleet
from pydantic import SecretStr

from nguon.app import create_app
from nguon.endpoints.windows import DisplayProfile, EndpointKind
from nguon.kit.migrate import upgrade
from nguon.kit.settings import Settings

ENDPOINTS = 10_000
DEFAULT_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/nguon_bench_advertising"


async def approval_seconds(http: AsyncClient, headers: dict[str, str], category: str) -> float:
    body: dict[str, Any] = {
        "title": f"Bench {category}",
        "kind": "text",
        "body": "Nội dung",
        "language": "vi",
        "category": category,
        "priority": "normal",
        "targets": ["91"],
    }
    created = await http.post("/api/v1/bulletins", json=body, headers=headers)
    bulletin_id = created.json()["id"]
    await http.post(f"/api/v1/bulletins/{bulletin_id}/submit", headers=headers)
    started = time.perf_counter()
    approved = await http.post(f"/api/v1/bulletins/{bulletin_id}/approve", headers=headers)
    seconds = time.perf_counter() - started
    if approved.status_code != 200:
        raise SystemExit(f"the approval was refused: {approved.text[:300]}")
    return seconds


async def run(settings: Settings, runs: int) -> None:
    app = create_app(settings)
    transport = ASGITransport(app=app)
    async with AsyncClient(transport=transport, base_url="http://hub.bench", timeout=300) as http:
        headers = await editor_headers(http)
        for number in range(runs):
            baseline = await approval_seconds(http, headers, "access_to_information")
            advert = await approval_seconds(http, headers, "advertising")
            print(
                f"run {number + 1} ({ENDPOINTS} e-boards, {number + 1} adverts on air): "
                f"public information {baseline:.3f} s; advert {advert:.3f} s "
                f"({advert / baseline:.2f}x)"
            )
    await app.state.engine.dispose()


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 3
    url = os.environ.get("NGUON_BENCH_DATABASE_URL", DEFAULT_URL)
    asyncio.run(ensure_database(url))
    upgrade(url)
    settings = Settings(
        database_url=url,
        data_dir=Path("var/bench-advertising").resolve(),
        secret_key=SecretStr(SECRET),
        log_level="warning",
    )
    asyncio.run(
        province_fleet(settings, ENDPOINTS, "ADV", EndpointKind.display, DisplayProfile.eboard)
    )
    asyncio.run(run(settings, runs))


if __name__ == "__main__":
    main()
