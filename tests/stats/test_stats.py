"""The statistics the province reports upward: what went on air, what played, and how fast
emergencies reached the endpoints."""

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from httpx import AsyncClient
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from nguon.areas.service import AreaService
from nguon.areas.sources import AreaRecord
from nguon.bulletins.models import Bulletin
from nguon.endpoints.models import Endpoint, EndpointHeartbeat
from nguon.identity.roles import Role
from nguon.kit.db import utcnow
from nguon.kit.settings import Settings
from nguon.stats.service import StatsService
from tests.bulletins.test_workflow import text_bulletin
from tests.conftest import (
    AN_GIANG,
    LAI_CHAU,
    LONG_STANDING,
    MakeEndpoint,
    MakeKey,
    MakeUser,
    communes_of,
    districts_of,
)
from tests.dispatch.test_queue import publish

PROBLEM = "application/problem+json"
RADIO_MINUTES_A_DAY = 180  # 05:00–06:30 and 17:00–18:30
EBOARD_MINUTES_A_DAY = 420  # 05:00–07:00 and 17:00–22:00


def name_of(areas: list[AreaRecord], code: str) -> str:
    return next(record.name for record in areas if record.code == code)


def at(moment: datetime) -> str:
    return moment.isoformat()


async def stats(client: AsyncClient, headers: dict[str, str], **params: str) -> dict[str, Any]:
    response = await client.get("/api/v1/stats", params=params, headers=headers)
    assert response.status_code == 200, response.text
    return dict(response.json())


async def played_lately(
    client: AsyncClient, device: dict[str, str], minutes_of: dict[str, int]
) -> None:
    """The device reports each bulletin played for its minutes, from 20 minutes ago."""
    now = datetime.now(UTC)
    plays = [
        {
            "id": f"lately-{bulletin_id}",
            "bulletin_id": bulletin_id,
            "started_at": at(now - timedelta(minutes=20)),
            "ended_at": at(now - timedelta(minutes=20 - minutes)),
            "outcome": "played",
        }
        for bulletin_id, minutes in minutes_of.items()
    ]
    reported = await client.post("/api/v1/device/plays", json={"plays": plays}, headers=device)
    assert reported.status_code == 200, reported.text


async def mark_exercise(sessionmaker: async_sessionmaker[AsyncSession], bulletin_id: str) -> None:
    """What a CAP Test or Exercise from the central system is stored as."""
    async with sessionmaker() as session:
        await session.execute(
            update(Bulletin).where(Bulletin.id == bulletin_id).values(exercise=True)
        )
        await session.commit()


@pytest.fixture
async def people(make_user: MakeUser, areas: list[AreaRecord]) -> dict[str, dict[str, str]]:
    commune = communes_of(areas, AN_GIANG)[0]
    return {
        "publisher": await make_user("stats.publisher", Role.publisher, AN_GIANG),
        "commune_publisher": await make_user("stats.commune", Role.publisher, commune),
        "editor": await make_user("stats.editor", Role.editor, AN_GIANG),
        "viewer": await make_user("stats.viewer", Role.viewer, AN_GIANG),
    }


async def test_bulletins_are_counted_by_kind_priority_level_category_and_source(
    client: AsyncClient, people: dict[str, dict[str, str]], areas: list[AreaRecord]
) -> None:
    commune = communes_of(areas, AN_GIANG)[0]
    publisher, editor = people["publisher"], people["editor"]
    await publish(client, publisher, editor, text_bulletin(AN_GIANG))
    await publish(
        client,
        publisher,
        editor,
        text_bulletin(commune, priority="priority", category="disaster_fire_epidemic"),
    )
    await publish(
        client,
        people["commune_publisher"],
        editor,
        text_bulletin(commune, priority="emergency", category="disaster_fire_epidemic"),
    )
    # Not on air: a draft, and a bulletin submitted but not approved.
    await client.post("/api/v1/bulletins", json=text_bulletin(AN_GIANG), headers=publisher)
    submitted = await client.post(
        "/api/v1/bulletins", json=text_bulletin(AN_GIANG), headers=publisher
    )
    await client.post(f"/api/v1/bulletins/{submitted.json()['id']}/submit", headers=publisher)

    report = await stats(client, people["viewer"])
    counted = report["bulletins"]
    assert counted["total"] == 3
    assert counted["exercises"] == 0
    assert counted["by_kind"] == {
        "text": 3,
        "audio": 0,
        "image": 0,
        "infographic": 0,
        "video": 0,
    }
    assert counted["by_priority"] == {"emergency": 1, "priority": 1, "normal": 1}
    assert counted["by_level"] == {"central": 0, "province": 2, "district": 0, "commune": 1}
    assert counted["by_category"]["disaster_fire_epidemic"] == 2
    assert counted["by_category"]["access_to_information"] == 1
    assert sum(counted["by_category"].values()) == 3
    assert counted["by_source"] == [
        {"code": AN_GIANG, "name": name_of(areas, AN_GIANG), "bulletins": 2},
        {"code": commune, "name": name_of(areas, commune), "bulletins": 1},
    ]

    # Counted where they came from: the commune's own report has only its own bulletin.
    of_commune = await stats(client, people["viewer"], area=commune)
    assert of_commune["area"] == {
        "code": commune,
        "name": name_of(areas, commune),
        "level": "commune",
    }
    assert of_commune["bulletins"]["total"] == 1
    assert of_commune["bulletins"]["by_priority"]["emergency"] == 1

    # Counted when they went on air: a period that ended before has none.
    now = datetime.now(UTC)
    before = await stats(
        client, people["viewer"], **{"from": at(now - timedelta(days=3)), "to": at(now)}
    )
    assert before["bulletins"]["total"] == 3
    earlier = await stats(
        client,
        people["viewer"],
        **{"from": at(now - timedelta(days=3)), "to": at(now - timedelta(days=2))},
    )
    assert earlier["bulletins"]["total"] == 0
    assert earlier["bulletins"]["by_source"] == []


async def test_played_minutes_come_from_plays_clipped_to_the_period(
    client: AsyncClient,
    people: dict[str, dict[str, str]],
    make_endpoint: MakeEndpoint,
    areas: list[AreaRecord],
) -> None:
    commune, neighbour = communes_of(areas, AN_GIANG)[:2]
    radio = await make_endpoint("ST-RADIO", "radio", commune, registered_at=LONG_STANDING)
    await make_endpoint(
        "ST-EBOARD", "display", commune, profile="eboard", registered_at=LONG_STANDING
    )
    await make_endpoint("ST-NEIGHBOUR", "radio", neighbour, registered_at=LONG_STANDING)
    bulletin = await publish(client, people["publisher"], people["editor"], text_bulletin(AN_GIANG))
    now = datetime.now(UTC).replace(microsecond=0)
    start, end = now - timedelta(hours=25), now - timedelta(hours=1)

    def play(client_id: str, begins: datetime, minutes: int, outcome: str) -> dict[str, Any]:
        return {
            "id": client_id,
            "bulletin_id": bulletin,
            "started_at": at(begins),
            "ended_at": at(begins + timedelta(minutes=minutes)),
            "outcome": outcome,
        }

    reported = await client.post(
        "/api/v1/device/plays",
        json={
            "plays": [
                play("across-start", start - timedelta(minutes=5), 9, "played"),  # 4 inside
                play("inside", now - timedelta(hours=10), 3, "played"),
                play("cut-short", now - timedelta(hours=9), 2, "interrupted"),
                play("failed", now - timedelta(hours=8), 5, "failed"),  # nothing aired
                play("across-end", end - timedelta(minutes=6), 7, "played"),  # 6 inside
                play("after", now - timedelta(minutes=30), 3, "played"),
            ]
        },
        headers=radio,
    )
    assert reported.status_code == 200, reported.text

    report = await stats(client, people["viewer"], **{"from": at(start), "to": at(end)})
    broadcast = report["broadcast"]
    by_code = {row["code"]: row for row in broadcast["endpoints"]}
    assert by_code["ST-RADIO"]["played_minutes"] == pytest.approx(15, abs=0.01)
    assert by_code["ST-RADIO"]["required_minutes"] == pytest.approx(RADIO_MINUTES_A_DAY)
    assert by_code["ST-RADIO"]["ratio"] == pytest.approx(15 / RADIO_MINUTES_A_DAY, abs=1e-4)
    assert (by_code["ST-RADIO"]["commune_code"], by_code["ST-RADIO"]["commune_name"]) == (
        commune,
        name_of(areas, commune),
    )
    assert by_code["ST-EBOARD"]["played_minutes"] == 0
    assert by_code["ST-EBOARD"]["required_minutes"] == pytest.approx(EBOARD_MINUTES_A_DAY)
    assert by_code["ST-NEIGHBOUR"]["ratio"] == 0

    communes = {row["code"]: row for row in broadcast["communes"]}
    assert communes[commune]["endpoints"] == 2
    assert communes[commune]["played_minutes"] == pytest.approx(15, abs=0.01)
    assert communes[commune]["required_minutes"] == pytest.approx(
        RADIO_MINUTES_A_DAY + EBOARD_MINUTES_A_DAY
    )
    assert communes[neighbour]["played_minutes"] == 0
    assert broadcast["played_minutes"] == pytest.approx(15, abs=0.01)
    assert broadcast["required_minutes"] == pytest.approx(
        2 * RADIO_MINUTES_A_DAY + EBOARD_MINUTES_A_DAY
    )

    # The neighbour's own report sees none of the commune's endpoints.
    of_neighbour = await stats(
        client, people["viewer"], area=neighbour, **{"from": at(start), "to": at(end)}
    )
    assert [row["code"] for row in of_neighbour["broadcast"]["endpoints"]] == ["ST-NEIGHBOUR"]
    assert of_neighbour["broadcast"]["played_minutes"] == 0


async def test_an_endpoint_owes_its_hours_from_its_registration(
    client: AsyncClient,
    people: dict[str, dict[str, str]],
    make_endpoint: MakeEndpoint,
    areas: list[AreaRecord],
) -> None:
    """002 Điều 10.1: the daily programmes are owed by a radio that stands; one set up in the
    middle of a period owes the windows from then on, one set up after it owes nothing."""
    commune = communes_of(areas, AN_GIANG)[0]
    monday = datetime(2026, 3, 2, tzinfo=UTC) - timedelta(hours=7)  # 00:00 in Hồ Chí Minh City
    await make_endpoint("ST-OLD", "radio", commune, registered_at=LONG_STANDING)
    # Registered on the Wednesday at noon: Wednesday's evening programme is owed, not its morning.
    await make_endpoint("ST-MIDWEEK", "radio", commune, registered_at=monday + timedelta(days=2.5))
    await make_endpoint("ST-LATER", "radio", commune, registered_at=monday + timedelta(days=30))
    week = await stats(
        client, people["viewer"], **{"from": at(monday), "to": at(monday + timedelta(days=7))}
    )
    broadcast = week["broadcast"]
    by_code = {row["code"]: row for row in broadcast["endpoints"]}
    evening = RADIO_MINUTES_A_DAY / 2  # 17:00-18:30 of 05:00-06:30 and 17:00-18:30
    assert by_code["ST-OLD"]["required_minutes"] == 7 * RADIO_MINUTES_A_DAY
    assert by_code["ST-MIDWEEK"]["required_minutes"] == evening + 4 * RADIO_MINUTES_A_DAY
    assert by_code["ST-LATER"]["required_minutes"] == 0
    assert by_code["ST-LATER"]["minimum_minutes"] == 0
    assert broadcast["required_minutes"] == 11 * RADIO_MINUTES_A_DAY + evening


async def test_required_minutes_of_a_day_are_the_windows_and_the_service_needs_no_request(
    client: AsyncClient,
    people: dict[str, dict[str, str]],
    make_endpoint: MakeEndpoint,
    areas: list[AreaRecord],
    sessionmaker: async_sessionmaker[AsyncSession],
    settings: Settings,
) -> None:
    commune = communes_of(areas, AN_GIANG)[0]
    await make_endpoint("ST-DAY-RADIO", "radio", commune, registered_at=LONG_STANDING)
    await make_endpoint(
        "ST-DAY-SHORT",
        "radio",
        commune,
        windows={day: ["06:00-06:45"] for day in ("mon", "sat")},
        registered_at=LONG_STANDING,
    )

    report = await stats(client, people["viewer"])
    period = report["period"]
    start, end = datetime.fromisoformat(period["from"]), datetime.fromisoformat(period["to"])
    assert end - start == timedelta(hours=24)
    assert report["area"]["code"] == AN_GIANG
    by_code = {row["code"]: row for row in report["broadcast"]["endpoints"]}
    assert by_code["ST-DAY-RADIO"]["required_minutes"] == RADIO_MINUTES_A_DAY
    assert by_code["ST-DAY-RADIO"]["played_minutes"] == 0
    assert by_code["ST-DAY-RADIO"]["ratio"] == 0

    # A radio that plays only on Mondays and Saturdays: one whole local Monday holds 45 minutes,
    # the Sunday before it none (and its ratio is then null: nothing was required).
    monday = datetime(2026, 3, 2, tzinfo=UTC) - timedelta(hours=7)  # 00:00 in Hồ Chí Minh City
    day = timedelta(days=1)
    on_monday = await stats(
        client, people["viewer"], **{"from": at(monday), "to": at(monday + day)}
    )
    short = {row["code"]: row for row in on_monday["broadcast"]["endpoints"]}["ST-DAY-SHORT"]
    assert (short["required_minutes"], short["ratio"]) == (45, 0)
    on_sunday = await stats(
        client, people["viewer"], **{"from": at(monday - day), "to": at(monday)}
    )
    short = {row["code"]: row for row in on_sunday["broadcast"]["endpoints"]}["ST-DAY-SHORT"]
    assert (short["required_minutes"], short["ratio"]) == (0, None)

    # The daily report to the central system is built without HTTP, from the same service.
    async with sessionmaker() as session:
        area = await AreaService(session).get_by_code(AN_GIANG)
        direct = await StatsService(session, settings).report(area, monday, monday + day, utcnow())
    answer = direct.model_dump(mode="json")
    assert [datetime.fromisoformat(answer["period"][edge]) for edge in ("from", "to")] == [
        monday,
        monday + day,
    ]
    del answer["generated_at"], on_monday["generated_at"]
    assert answer == on_monday


async def test_endpoints_are_counted_by_the_registry_rules(
    client: AsyncClient,
    people: dict[str, dict[str, str]],
    make_user: MakeUser,
    make_endpoint: MakeEndpoint,
    areas: list[AreaRecord],
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    commune = communes_of(areas, AN_GIANG)[0]
    admin = await make_user("stats.admin", Role.admin, AN_GIANG)
    current = await make_endpoint("ST-CURRENT", "radio", commune)
    behind = await make_endpoint("ST-BEHIND", "radio", commune)
    await make_endpoint("ST-NEVER", "radio", commune)
    switched_off = await make_endpoint("ST-OFF", "radio", commune, enabled=False)
    long_ago = await make_endpoint("ST-LONG-AGO", "radio", commune)
    lai_chau_commune = communes_of(areas, districts_of(areas, LAI_CHAU)[0])[0]
    await make_endpoint("ST-LAI-CHAU", "radio", lai_chau_commune)

    async def beat(device: dict[str, str], etag: str | None) -> None:
        response = await client.post(
            "/api/v1/device/heartbeat",
            json={"status": "ok", "playlist_etag": etag},
            headers=device,
        )
        assert response.status_code == 200, response.text

    version = (await client.get("/api/v1/endpoints/ST-CURRENT", headers=admin)).json()[
        "playlist_version"
    ]
    await beat(current, f'"{version}.abc"')
    await beat(behind, None)  # holds no playlist of ours: stale
    await beat(switched_off, None)  # stale only when enabled
    await beat(long_ago, f'"{version}.abc"')
    async with sessionmaker() as session:
        await session.execute(
            update(EndpointHeartbeat)
            .where(
                EndpointHeartbeat.endpoint_id
                == select(Endpoint.id).where(Endpoint.code == "ST-LONG-AGO").scalar_subquery()
            )
            .values(received_at=utcnow() - timedelta(hours=1))
        )
        await session.commit()

    counts = (await stats(client, people["viewer"]))["endpoints"]
    assert counts == {"total": 5, "enabled": 4, "online": 3, "stale": 1}
    registry = (await client.get("/api/v1/endpoints", headers=admin)).json()["items"]
    assert counts["online"] == sum(item["online"] for item in registry)
    assert counts["stale"] == sum(item["stale"] for item in registry)


async def test_an_emergency_shows_how_fast_it_reached_the_endpoints(
    client: AsyncClient,
    people: dict[str, dict[str, str]],
    make_endpoint: MakeEndpoint,
    areas: list[AreaRecord],
) -> None:
    commune, neighbour = communes_of(areas, AN_GIANG)[:2]
    first = await make_endpoint("ST-EM-FIRST", "radio", commune)
    last = await make_endpoint("ST-EM-LAST", "radio", neighbour)
    publisher, editor = people["publisher"], people["editor"]
    before_approval = utcnow()
    emergency = await publish(
        client,
        publisher,
        editor,
        text_bulletin(AN_GIANG, title="Lũ quét", priority="emergency"),
    )
    after_approval = utcnow()
    await publish(client, publisher, editor, text_bulletin(AN_GIANG))  # not an emergency

    async def delivered_at(code: str) -> datetime:
        response = await client.get(f"/api/v1/bulletins/{emergency}/deliveries", headers=editor)
        (item,) = [i for i in response.json()["items"] if i["endpoint"] == code]
        assert item["status"] == "sent"
        return datetime.fromisoformat(item["updated_at"])  # moved to sent when delivered

    def seconds_after(moment: datetime) -> Any:
        return pytest.approx((moment - on_air_at).total_seconds(), abs=0.001)

    (pending,) = (await stats(client, people["viewer"]))["emergencies"]
    on_air_at = datetime.fromisoformat(pending["on_air_at"])
    assert before_approval <= on_air_at <= after_approval
    assert pending == {
        "id": emergency,
        "title": "Lũ quét",
        "exercise": False,
        "on_air_at": pending["on_air_at"],
        "deliveries": 2,
        "delivered": 0,
        "acknowledged": 0,
        "first_delivery_seconds": None,
        "last_delivery_seconds": None,
        "all_delivered": False,
    }

    fetched = await client.get("/api/v1/device/playlist", headers=first)
    assert fetched.status_code == 200, fetched.text
    first_at = await delivered_at("ST-EM-FIRST")
    (halfway,) = (await stats(client, people["viewer"]))["emergencies"]
    assert (halfway["delivered"], halfway["all_delivered"]) == (1, False)
    assert halfway["first_delivery_seconds"] == seconds_after(first_at)
    assert halfway["last_delivery_seconds"] == seconds_after(first_at)

    await asyncio.sleep(0.05)  # the second device fetches later
    assert (await client.get("/api/v1/device/playlist", headers=last)).status_code == 200
    last_at = await delivered_at("ST-EM-LAST")
    acknowledged = await client.post(
        "/api/v1/device/heartbeat",
        json={"status": "ok", "playlist_etag": fetched.headers["etag"]},
        headers=first,
    )
    assert acknowledged.json()["stale"] is False
    (everywhere,) = (await stats(client, people["viewer"]))["emergencies"]
    assert (everywhere["deliveries"], everywhere["delivered"], everywhere["acknowledged"]) == (
        2,
        2,
        1,
    )
    assert everywhere["all_delivered"] is True
    assert everywhere["first_delivery_seconds"] == seconds_after(first_at)
    assert everywhere["last_delivery_seconds"] == seconds_after(last_at)
    assert everywhere["first_delivery_seconds"] < everywhere["last_delivery_seconds"]

    # Each area sees its own deliveries only.
    (in_neighbour,) = (await stats(client, people["viewer"], area=neighbour))["emergencies"]
    assert (in_neighbour["deliveries"], in_neighbour["delivered"]) == (1, 1)
    assert in_neighbour["first_delivery_seconds"] == seconds_after(last_at)
    elsewhere = await stats(client, people["viewer"], area=communes_of(areas, AN_GIANG)[2])
    assert elsewhere["emergencies"] == []


async def test_an_exercise_is_counted_apart_and_never_as_broadcast(
    client: AsyncClient,
    people: dict[str, dict[str, str]],
    make_endpoint: MakeEndpoint,
    areas: list[AreaRecord],
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    radio = await make_endpoint("ST-EX-RADIO", "radio", communes_of(areas, AN_GIANG)[0])
    publisher, editor = people["publisher"], people["editor"]
    real = await publish(client, publisher, editor, text_bulletin(AN_GIANG))
    drill = await publish(
        client,
        publisher,
        editor,
        text_bulletin(AN_GIANG, title="Diễn tập", priority="emergency"),
    )
    await mark_exercise(sessionmaker, drill)
    await played_lately(client, radio, {real: 4, drill: 10})

    report = await stats(client, people["viewer"])
    assert (report["bulletins"]["total"], report["bulletins"]["exercises"]) == (1, 1)
    assert report["bulletins"]["by_priority"] == {"emergency": 0, "priority": 0, "normal": 1}
    assert report["broadcast"]["played_minutes"] == pytest.approx(4, abs=0.01)
    (listed,) = report["emergencies"]
    assert (listed["id"], listed["exercise"]) == (drill, True)


async def test_the_area_must_lie_within_the_callers(
    client: AsyncClient, people: dict[str, dict[str, str]], make_user: MakeUser
) -> None:
    outside = await client.get("/api/v1/stats", params={"area": LAI_CHAU}, headers=people["viewer"])
    assert outside.status_code == 403
    assert outside.headers["content-type"] == PROBLEM
    assert LAI_CHAU in outside.json()["detail"]
    unknown = await client.get("/api/v1/stats", params={"area": "99999"}, headers=people["viewer"])
    assert unknown.status_code == 404
    assert "99999" in unknown.json()["detail"]
    lai_chau_viewer = await make_user("stats.lc.viewer", Role.viewer, LAI_CHAU)
    assert (await stats(client, lai_chau_viewer))["area"]["code"] == LAI_CHAU
    above = await client.get("/api/v1/stats", params={"area": AN_GIANG}, headers=lai_chau_viewer)
    assert above.status_code == 403


async def test_bad_periods_are_refused_with_a_problem(
    client: AsyncClient, people: dict[str, dict[str, str]]
) -> None:
    now = datetime.now(UTC)

    async def refused(**params: str) -> dict[str, Any]:
        response = await client.get("/api/v1/stats", params=params, headers=people["viewer"])
        assert response.status_code == 422, response.text
        assert response.headers["content-type"] == PROBLEM
        return dict(response.json())

    naive = await refused(**{"from": "2026-05-01T00:00:00", "to": at(now)})
    assert [error["field"] for error in naive["errors"]] == ["query.from"]
    assert "must say its time zone" in naive["detail"]
    backwards = await refused(**{"from": at(now), "to": at(now - timedelta(hours=1))})
    assert "must start before it ends" in backwards["detail"]
    empty = await refused(**{"from": at(now), "to": at(now)})
    assert "must start before it ends" in empty["detail"]
    future_start = await refused(**{"from": at(now + timedelta(hours=1))})  # `to` is now
    assert "must start before it ends" in future_start["detail"]
    too_long = await refused(**{"from": at(now - timedelta(days=367)), "to": at(now)})
    assert "at most 366 days" in too_long["detail"]
    a_year = await client.get(
        "/api/v1/stats",
        params={"from": at(now - timedelta(days=366)), "to": at(now)},
        headers=people["viewer"],
    )
    assert a_year.status_code == 200, a_year.text


async def test_readers_and_the_central_system_may_read_publishers_may_not(
    client: AsyncClient,
    people: dict[str, dict[str, str]],
    make_user: MakeUser,
    make_key: MakeKey,
) -> None:
    for role in (Role.admin, Role.editor, Role.appraiser):
        headers = await make_user(f"stats.reader.{role}", role, AN_GIANG)
        assert (await client.get("/api/v1/stats", headers=headers)).status_code == 200, role
    assert (await stats(client, people["viewer"]))["area"]["code"] == AN_GIANG
    central = await make_key("central-system", Role.central, "VN")
    assert (await stats(client, central, area=AN_GIANG))["area"]["code"] == AN_GIANG
    refused = await client.get("/api/v1/stats", headers=people["publisher"])
    assert refused.status_code == 403
    assert refused.headers["content-type"] == PROBLEM
    assert "this needs" in refused.json()["detail"]
    integration = await make_key("stats-integration", Role.integration, AN_GIANG)
    assert (await client.get("/api/v1/stats", headers=integration)).status_code == 403
