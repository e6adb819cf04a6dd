"""Uptime history: heartbeats compacted into online seconds per hour, reported per endpoint and
commune over local days, "to" included (Đắk Nông 002 Điều 16.5; An Giang 004 Điều 6.10)."""

from datetime import UTC, datetime, timedelta

import pytest
from httpx import AsyncClient
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from nguon.areas.sources import AreaRecord
from nguon.dispatch.slots import LOCAL
from nguon.endpoints.models import Endpoint, EndpointUptime
from nguon.endpoints.uptime import online_seconds_by_hour
from nguon.identity.roles import Role
from nguon.kit.db import utcnow
from tests.conftest import AN_GIANG, MakeEndpoint, MakeUser, communes_of
from tests.endpoints.test_heartbeat import beat
from tests.incidents.test_auto_open import silence

OFFLINE_AFTER = timedelta(seconds=180)


@given(
    start=st.datetimes(
        min_value=datetime(2026, 1, 1), max_value=datetime(2027, 1, 1), timezones=st.just(UTC)
    ),
    gap=st.integers(min_value=1, max_value=10_000),
)
def test_the_time_between_close_heartbeats_is_credited_once_to_the_hours_it_spans(
    start: datetime, gap: int
) -> None:
    """Đắk Nông 002 Điều 16.5: time online counts once, in the hours it fell in."""
    start = start.replace(microsecond=0)
    spans = online_seconds_by_hour(start, start + timedelta(seconds=gap), OFFLINE_AFTER)
    if gap > OFFLINE_AFTER.total_seconds():
        assert spans == {}
        return
    assert sum(spans.values()) == gap
    assert all(0 < seconds <= 3600 for seconds in spans.values())
    assert all(hour.minute == hour.second == 0 for hour in spans)


def test_a_first_heartbeat_credits_nothing() -> None:
    assert online_seconds_by_hour(None, datetime.now(UTC), OFFLINE_AFTER) == {}


@pytest.fixture
def communes(areas: list[AreaRecord]) -> list[str]:
    return communes_of(areas, AN_GIANG)[:2]


async def test_uptime_per_endpoint_and_commune_over_local_days(
    client: AsyncClient,
    sessionmaker: async_sessionmaker[AsyncSession],
    make_user: MakeUser,
    make_endpoint: MakeEndpoint,
    communes: list[str],
) -> None:
    """An Giang 004 Điều 6.10: the department sees how long each endpoint and commune
    operated; a gap longer than NGUON_ENDPOINT_OFFLINE_SECONDS is not online."""
    viewer = await make_user("uptime.viewer", Role.viewer, AN_GIANG)
    steady = await make_endpoint("UP-STEADY", "radio", communes[0])
    patchy = await make_endpoint("UP-PATCHY", "radio", communes[0])
    await make_endpoint("UP-SILENT", "radio", communes[1])
    # Registered two hours ago: their time counts from then (or from today's midnight).
    async with sessionmaker() as session:
        await session.execute(update(Endpoint).values(created_at=utcnow() - timedelta(hours=2)))
        await session.commit()
    await beat(client, steady)
    await silence(sessionmaker, "UP-STEADY", 120)
    await beat(client, steady)  # 120 s online
    await beat(client, patchy)
    await silence(sessionmaker, "UP-PATCHY", 3600)
    await beat(client, patchy)  # an hour's silence: offline, nothing credited
    async with sessionmaker() as session:
        rows = await session.scalar(select(func.count()).select_from(EndpointUptime))
    # Compacted: the hour (or two, across an hour's end) of one endpoint, not a row per beat.
    assert rows in (1, 2)

    today = datetime.now(LOCAL).date().isoformat()
    answer = await client.get(
        "/api/v1/stats/uptime", params={"from": today, "to": today}, headers=viewer
    )
    assert answer.status_code == 200, answer.text
    report = answer.json()
    online = {item["code"]: item["seconds_online"] for item in report["endpoints"]}
    assert (online["UP-SILENT"], online["UP-PATCHY"]) == (0, 0)
    assert 119 <= online["UP-STEADY"] <= 121
    [first, second] = report["communes"]
    assert (first["code"], first["endpoints"]) == (communes[0], 2)
    counted = {item["code"]: item["seconds_counted"] for item in report["endpoints"]}
    assert counted["UP-STEADY"] == counted["UP-PATCHY"] > 120
    assert first["uptime"] == pytest.approx(
        120 / (counted["UP-STEADY"] + counted["UP-PATCHY"]), abs=0.01
    )
    assert (second["code"], second["uptime"]) == (communes[1], 0)

    yesterday = (datetime.now(LOCAL).date() - timedelta(days=1)).isoformat()
    before = await client.get(
        "/api/v1/stats/uptime", params={"from": yesterday, "to": yesterday}, headers=viewer
    )
    assert all(item["seconds_online"] == 0 for item in before.json()["endpoints"])
    backwards = await client.get(
        "/api/v1/stats/uptime", params={"from": today, "to": yesterday}, headers=viewer
    )
    assert backwards.status_code == 422
    assert "before it ends" in backwards.json()["detail"]
