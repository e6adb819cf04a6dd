"""The commune radio's queue with 100,000 bulletins in history, against the commune's profile.

Sets up PostgreSQL (NGUON_BENCH_DATABASE_URL, default the local `nguon_bench` database, which
is created when missing and whose `public` schema is replaced) with An Giang and:

- commune C (the province's first commune) with a radio and its chair, made through the
  services; RADIOS more radios in the other communes;
- HISTORY bulletins that have left the air (expired or revoked), spread over the communes and
  the province, each with its approved revision and ended deliveries: a commune's own go to
  its radios, the province's to C's radio and a few others;
- ON_AIR bulletins on air for C's radio (the province's and C's own, of every priority).

The bulk is written with batched INSERTs, not through the services. Then it serves the hub
(`nguon serve`, one process) and, signed in as C's chair on one keep-alive connection, times
`requests` (default 300) sequential `GET /api/v1/communes/{C}/queue` and as many
`GET /api/v1/communes/{C}` (a guarded route of the same shape that reads little: the
baseline), after WARM_UP of each.
Prints p50, p99 and mean for both and the queue's p99 as a ratio of the baseline's.
Run: `.venv/bin/python bench/commune_queue.py [requests]`.
"""

import asyncio
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import insert, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from nguon.areas.models import Area
from nguon.bulletins.enums import BulletinKind, BulletinStatus, Category, Priority
from nguon.bulletins.models import Bulletin, BulletinRevision
from nguon.bulletins.service import _content
from nguon.dispatch.models import Delivery, DeliveryStatus
from nguon.endpoints.models import Endpoint
from nguon.endpoints.repository import EndpointRepository
from nguon.endpoints.schemas import EndpointCreate
from nguon.endpoints.service import EndpointService
from nguon.endpoints.windows import DEFAULT_WINDOWS, EndpointKind, normalise
from nguon.identity.roles import Role
from nguon.kit.db import create_engine, create_sessionmaker
from nguon.kit.migrate import upgrade
from nguon.kit.settings import Settings
from nguon.kit.text import fold

sys.path.insert(0, str(Path(__file__).resolve().parent))
from playlist_poll import (
    DEFAULT_URL,
    an_giang,
    ensure_database,
    free_port,
    hub_environment,
    percentile,
    serve_hub,
)

PASSWORD = "benchmark-password"
HISTORY = 100_000
ON_AIR = 30
RADIOS = 200
PROVINCE_SHARE = 0.1  # of the history, what the province sent; the rest the communes' own
PROVINCE_FAN_OUT = 4  # radios besides C's that a historic province bulletin is delivered to
BATCH = 5_000
WARM_UP = 20
BODIES = (
    "Thông báo lịch cắt điện khu vực ấp Long Hòa từ 7 giờ đến 11 giờ sáng. ",
    "Tuyên truyền phòng chống dịch sốt xuất huyết, diệt lăng quăng, loăng quăng. ",
    "Cảnh báo triều cường, mưa lớn kèm dông lốc trên địa bàn tỉnh An Giang. ",
    "Hướng dẫn đăng ký tiêm chủng mở rộng cho trẻ em dưới 5 tuổi tại trạm y tế. ",
    "Kế hoạch xuống giống lúa vụ Đông Xuân theo lịch thời vụ của ngành nông nghiệp. ",
)


@dataclass(frozen=True, slots=True)
class Setup:
    """What `prepare` made: C's code and the counts."""

    commune: str
    radios: int
    deliveries: int


def bulletin_row(
    number: int,
    origin: Area,
    status: BulletinStatus,
    priority: Priority,
    valid_from: datetime,
    valid_until: datetime,
    rng: random.Random,
) -> dict[str, Any]:
    """A bulletin's columns as `BulletinService.create` and `approve` would leave them."""
    title = f"Bản tin {number}: {rng.choice(BODIES)[:40].strip()}"
    body = "".join(rng.choice(BODIES) for _ in range(4))
    ended = status in (BulletinStatus.expired, BulletinStatus.revoked)
    return {
        "id": uuid.UUID(int=rng.getrandbits(128)).hex,
        "title": title,
        "kind": BulletinKind.text,
        "body": body,
        "language": "vi",
        "category": rng.choice(list(Category)),
        "priority": priority,
        "sensitive": False,
        "valid_from": valid_from,
        "valid_until": valid_until,
        "schedule": None,
        "contributor": None,
        "translation_of": None,
        "targets": [origin.code],
        "media": [],
        "status": status,
        "level": origin.level,
        "origin_area_id": origin.id,
        "origin_area_code": origin.code,
        "origin_area_path": origin.path,
        "revision": 1,
        "on_air_revision": None if ended else 1,
        "search_text": fold(f"{title} {body}"),
        "created_by": "bench",
        "appraised_by": None,
        "decided_by": "bench",
        "reason": "Thu hồi" if status is BulletinStatus.revoked else None,
        "created_at": valid_from - timedelta(hours=2),
        "updated_at": valid_until if ended else valid_from,
    }


def revision_row(row: dict[str, Any]) -> dict[str, Any]:
    """Revision 1 as approved: the content `BulletinService.approve` freezes."""
    return {
        "bulletin_id": row["id"],
        "number": 1,
        "content": _content(Bulletin(**row)),
        "approved_by": "bench",
        "approved_at": row["created_at"] + timedelta(hours=1),
    }


def delivery_row(row: dict[str, Any], endpoint_id: int, status: DeliveryStatus) -> dict[str, Any]:
    return {
        "bulletin_id": row["id"],
        "endpoint_id": endpoint_id,
        "revision": 1,
        "status": status,
        "detail": None,
        "created_at": row["created_at"],
        "updated_at": row["updated_at"],
    }


async def insert_all(
    session: AsyncSession, model: type[Any], rows: Sequence[dict[str, Any]]
) -> None:
    for start in range(0, len(rows), BATCH):
        await session.execute(insert(model), rows[start : start + BATCH])


async def add_radios(
    session: AsyncSession, communes: Sequence[Area], now: datetime
) -> dict[int, list[int]]:
    """RADIOS radios spread over the communes other than C; their ids by area id."""
    windows = normalise(DEFAULT_WINDOWS[(EndpointKind.radio, None)])
    rows = []
    for number in range(RADIOS):
        area = communes[1 + number % (len(communes) - 1)]
        rows.append(
            {
                "code": f"BENCH-R{number:04d}",
                "name": f"Đài truyền thanh {number}",
                "kind": EndpointKind.radio,
                "profile": None,
                "area_id": area.id,
                "area_code": area.code,
                "area_path": area.path,
                "latitude": None,
                "longitude": None,
                "languages": ["vi"],
                "windows": windows,
                "push_url": None,
                "enabled": True,
                "created_at": now,
                "updated_at": now,
            }
        )
    await EndpointRepository(session).add_many(rows)
    found: dict[int, list[int]] = {}
    for endpoint_id, area_id in await session.execute(select(Endpoint.id, Endpoint.area_id)):
        found.setdefault(area_id, []).append(endpoint_id)
    return found


async def prepare(settings: Settings, history: int = HISTORY) -> Setup:
    """An Giang, C's radio and chair, the other radios, `history` bulletins that left the air
    and what is on air."""
    rng = random.Random(91)
    now = datetime.now(UTC)
    engine = create_engine(settings.resolved_database_url)
    sessionmaker = create_sessionmaker(engine)
    async with sessionmaker() as session:
        operator, identity, province, communes = await an_giang(session)
        commune = communes[0]
        radio, _key = await EndpointService(session, identity, settings).create(
            operator,
            EndpointCreate(code="BENCH-RADIO-C", name="Đài xã", kind="radio", area=commune.code),
        )
        await identity.create_user(
            operator, "bench.chair", PASSWORD, Role.commune_chair, commune.code
        )
        await session.flush()
        radios = await add_radios(session, communes, now)
        others = [i for ids in radios.values() for i in ids if i != radio.id]

        bulletins, revisions, deliveries = [], [], []
        for number in range(history):
            from_province = rng.random() < PROVINCE_SHARE
            origin = province if from_province else rng.choice(communes)
            status = BulletinStatus.revoked if rng.random() < 0.15 else BulletinStatus.expired
            priority = rng.choices(list(Priority), weights=(1, 4, 15))[0]
            valid_from = now - timedelta(days=rng.uniform(8, 730))
            row = bulletin_row(
                number, origin, status, priority, valid_from, valid_from + timedelta(days=7), rng
            )
            ended = DeliveryStatus(status.value)
            targets = (
                [radio.id, *rng.sample(others, PROVINCE_FAN_OUT)]
                if from_province
                else radios.get(origin.id, [])
            )
            bulletins.append(row)
            revisions.append(revision_row(row))
            deliveries.extend(delivery_row(row, target, ended) for target in targets)
        for number in range(ON_AIR):
            origin = province if number % 2 else commune
            priority = list(Priority)[number % 3]
            valid_from = now - timedelta(hours=rng.uniform(1, 48))
            row = bulletin_row(
                history + number,
                origin,
                BulletinStatus.published,
                priority,
                valid_from,
                now + timedelta(days=rng.uniform(2, 7)),
                rng,
            )
            targets = [radio.id, *others] if origin is province else [radio.id]
            bulletins.append(row)
            revisions.append(revision_row(row))
            deliveries.extend(delivery_row(row, t, DeliveryStatus.pending) for t in targets)
        await insert_all(session, Bulletin, bulletins)
        await insert_all(session, BulletinRevision, revisions)
        await insert_all(session, Delivery, deliveries)
        await session.commit()
        await session.execute(text("ANALYZE"))
        await session.commit()
    await engine.dispose()
    return Setup(commune.code, 1 + len(others), len(deliveries))


def timed(client: httpx.Client, path: str, count: int) -> tuple[list[float], httpx.Response]:
    """Latencies in ms of `count` sequential requests, after WARM_UP; the last answer."""
    for _ in range(WARM_UP):
        client.get(path).raise_for_status()
    latencies = []
    for _ in range(count):
        started = time.perf_counter()
        answer = client.get(path)
        latencies.append((time.perf_counter() - started) * 1000)
        answer.raise_for_status()
    return latencies, answer


def report(name: str, latencies: list[float]) -> float:
    p50, p99 = percentile(latencies, 0.5), percentile(latencies, 0.99)
    mean = statistics.fmean(latencies)
    print(f"{name:<30} p50 {p50:7.2f} ms   p99 {p99:7.2f} ms   mean {mean:7.2f} ms")
    return p99


def main() -> None:
    requests = int(sys.argv[1]) if len(sys.argv) > 1 else 300
    url = os.environ.get("NGUON_BENCH_DATABASE_URL", DEFAULT_URL)
    started = time.perf_counter()
    asyncio.run(ensure_database(url))
    with tempfile.TemporaryDirectory() as scratch:
        env = hub_environment(url, scratch)
        settings = Settings(data_dir=Path(scratch), database_url=url)
        upgrade(url)
        setup = asyncio.run(prepare(settings))
        port = free_port()
        hub = serve_hub(port, env)
        try:
            with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
                signed_in = client.post(
                    "/api/v1/auth/token", data={"username": "bench.chair", "password": PASSWORD}
                )
                signed_in.raise_for_status()
                client.headers["Authorization"] = f"Bearer {signed_in.json()['access_token']}"
                print(
                    f"setup: {time.perf_counter() - started:.1f} s; {HISTORY:,} bulletins in "
                    f"history, {ON_AIR} on air for commune {setup.commune}, {setup.radios} "
                    f"radios, {setup.deliveries:,} deliveries"
                )
                print(f"{requests} sequential requests each, one keep-alive connection")
                commune = f"/api/v1/communes/{setup.commune}"
                base_latencies, _profile = timed(client, commune, requests)
                queue_latencies, queue = timed(client, f"{commune}/queue", requests)
            on_air = len(queue.json()["items"])
            assert on_air == ON_AIR, f"the queue holds {on_air} bulletins, {ON_AIR} are on air"
            print(f"on air in the queue: {on_air}")
            base_p99 = report("commune profile (baseline)", base_latencies)
            queue_p99 = report("commune queue", queue_latencies)
            print(f"ratio queue/baseline p99: {queue_p99 / base_p99:.2f}")
        finally:
            hub.terminate()
            hub.wait(timeout=10)


if __name__ == "__main__":
    main()
