"""Operating hours are a province's rule per endpoint profile, not one hub-wide setting."""

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from httpx import AsyncClient
from sqlalchemy import select

from nguon.areas.sources import AreaRecord
from nguon.endpoints.windows import WEEKDAYS
from nguon.identity.roles import Role
from nguon.kit.db import create_engine
from nguon.kit.migrate import upgrade_on
from nguon.rules.models import BroadcastRule
from tests.bulletins.test_workflow import act, text_bulletin
from tests.conftest import (
    AN_GIANG,
    LAI_CHAU,
    LONG_STANDING,
    MakeEndpoint,
    MakeUser,
    communes_of,
    districts_of,
)

PROBLEM = "application/problem+json"

# The seeded regulations' rules, as the migration keeps them.
AN_GIANG_BORDER_GATE = {"profile": "border_gate", "daily_hours": 8, "morning_hours": 4,
                        "afternoon_hours": 4}  # fmt: skip
LAI_CHAU_DISPLAY = {"daily_hours": 6, "morning_hours": 3, "afternoon_hours": 3}


def every_day(*spans: str) -> dict[str, list[str]]:
    return {day: list(spans) for day in WEEKDAYS}


def display(code: str, commune: str, profile: str, **fields: Any) -> dict[str, Any]:
    return {"code": code, "name": code, "kind": "display", "profile": profile, "area": commune,
            **fields}  # fmt: skip


def lai_chau_commune(areas: list[AreaRecord]) -> str:
    return communes_of(areas, districts_of(areas, LAI_CHAU)[0])[0]


async def set_rule(client: AsyncClient, admin: dict[str, str], **rule: Any) -> dict[str, Any]:
    response = await client.put("/api/v1/rules/hours", json=rule, headers=admin)
    assert response.status_code == 200, response.text
    return dict(response.json())


async def test_migration_seeds_an_giang_and_lai_chau_rules(tmp_path: Path) -> None:
    """An Giang 000/004 Điều 4.3 (border gates 8 h a day, 07-11 and 14-18) and Lai Châu 001
    Điều 8.1 (public displays 6 h, 3 h morning and 3 h afternoon) come with the schema."""
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'fresh.db'}")
    async with engine.begin() as connection:
        await connection.run_sync(upgrade_on)
    async with engine.connect() as connection:
        rows = await connection.execute(
            select(
                BroadcastRule.province_code,
                BroadcastRule.profile,
                BroadcastRule.daily_hours,
                BroadcastRule.morning_hours,
                BroadcastRule.afternoon_hours,
            ).order_by(BroadcastRule.province_code, BroadcastRule.profile)
        )
        seeded = [tuple(row) for row in rows]
    await engine.dispose()
    assert seeded == [
        ("12", "border_gate", 6, 3, 3),
        ("12", "eboard", 6, 3, 3),
        ("91", "border_gate", 8, 4, 4),
    ]


async def test_an_giang_border_gate_must_cover_eight_hours(
    client: AsyncClient, make_user: MakeUser, areas: list[AreaRecord]
) -> None:
    """An Giang 000 Điều 4.3: "Thời gian hoạt động đủ 08 giờ/ngày" for border-gate clusters,
    where the hub-wide setting asks only 6 h."""
    admin = await make_user("ag.admin", Role.admin, AN_GIANG)
    await set_rule(client, admin, province=AN_GIANG, **AN_GIANG_BORDER_GATE)
    commune = communes_of(areas, AN_GIANG)[0]
    seven_hours = every_day("07:00-11:00", "14:00-17:00")
    refused = await client.post(
        "/api/v1/endpoints",
        json=display("AG-GATE", commune, "border_gate", windows=seven_hours),
        headers=admin,
    )
    assert refused.status_code == 422, refused.text
    assert refused.headers["content-type"] == PROBLEM
    assert "at least 8 h every day" in refused.json()["detail"]
    created = await client.post(
        "/api/v1/endpoints", json=display("AG-GATE", commune, "border_gate"), headers=admin
    )
    assert created.status_code == 201, created.text  # the default 07-11, 14-18 is 8 h
    # Lai Châu's rule is its own: the same seven hours are enough there.
    lc_admin = await make_user("lc.admin", Role.admin, LAI_CHAU)
    await set_rule(client, lc_admin, profile="border_gate", **LAI_CHAU_DISPLAY)
    elsewhere = await client.post(
        "/api/v1/endpoints",
        json=display("LC-GATE", lai_chau_commune(areas), "border_gate", windows=seven_hours),
        headers=lc_admin,
    )
    assert elsewhere.status_code == 201, elsewhere.text


async def test_lai_chau_displays_need_three_hours_each_morning_and_afternoon(
    client: AsyncClient, make_user: MakeUser, areas: list[AreaRecord]
) -> None:
    """Lai Châu 001 Điều 8.1: "tối thiểu 6 giờ/ngày (3 giờ buổi sáng và 3 giờ buổi chiều)";
    six hours mostly in the evening are refused, on registration and on a change."""
    admin = await make_user("lc.admin", Role.admin, LAI_CHAU)
    await set_rule(client, admin, profile="eboard", **LAI_CHAU_DISPLAY)
    commune = lai_chau_commune(areas)
    evening = every_day("06:00-08:00", "16:00-22:00")
    refused = await client.post(
        "/api/v1/endpoints", json=display("LC-BOARD", commune, "eboard", windows=evening),
        headers=admin,
    )  # fmt: skip
    assert refused.status_code == 422, refused.text
    assert "at least 3 h every morning" in refused.json()["detail"]
    assert "mon 2 h" in refused.json()["detail"]
    balanced = every_day("07:00-10:00", "17:00-20:00")
    created = await client.post(
        "/api/v1/endpoints", json=display("LC-BOARD", commune, "eboard", windows=balanced),
        headers=admin,
    )  # fmt: skip
    assert created.status_code == 201, created.text
    short_afternoon = await client.patch(
        "/api/v1/endpoints/LC-BOARD",
        json={"windows": every_day("06:00-10:00", "17:00-19:00")},
        headers=admin,
    )
    assert short_afternoon.status_code == 422, short_afternoon.text
    assert "at least 3 h every afternoon" in short_afternoon.json()["detail"]
    kept = await client.get("/api/v1/endpoints/LC-BOARD", headers=admin)
    assert kept.json()["windows"]["mon"] == ["07:00-10:00", "17:00-20:00"]


async def test_an_endpoint_registered_without_windows_meets_its_provinces_hours(
    client: AsyncClient, make_user: MakeUser, areas: list[AreaRecord]
) -> None:
    """Lai Châu 001 Điều 8.1 leaves the exact hours to the unit ("khung giờ phát cụ thể do cơ
    quan, đơn vị ... quyết định"): an e-board registered without windows gets a day that gives
    3 h each morning and afternoon, and so does one whose windows are reset; An Giang's
    e-boards, with no such rule, keep the defaults of 002 Điều 10.2."""
    admin = await make_user("lc.admin", Role.admin, LAI_CHAU)
    await set_rule(client, admin, profile="eboard", **LAI_CHAU_DISPLAY)
    created = await client.post(
        "/api/v1/endpoints", json=display("LC-DEFAULT", lai_chau_commune(areas), "eboard"),
        headers=admin,
    )  # fmt: skip
    assert created.status_code == 201, created.text
    assert created.json()["windows"]["mon"] == ["07:00-10:00", "13:30-16:30"]
    assert created.json()["daily_hours"]["sun"] == 6
    changed = await client.patch(
        "/api/v1/endpoints/LC-DEFAULT", json={"windows": every_day("06:00-10:00", "13:00-17:00")},
        headers=admin,
    )  # fmt: skip
    assert changed.json()["windows"]["mon"] == ["06:00-10:00", "13:00-17:00"]
    reset = await client.patch(
        "/api/v1/endpoints/LC-DEFAULT", json={"windows": None}, headers=admin
    )
    assert reset.status_code == 200, reset.text
    assert reset.json()["windows"]["mon"] == ["07:00-10:00", "13:30-16:30"]

    ag_admin = await make_user("ag.admin", Role.admin, AN_GIANG)
    board = await client.post(
        "/api/v1/endpoints", json=display("AG-DEFAULT", communes_of(areas, AN_GIANG)[0], "eboard"),
        headers=ag_admin,
    )  # fmt: skip
    assert board.status_code == 201, board.text
    assert board.json()["windows"]["mon"] == ["05:00-07:00", "17:00-22:00"]


async def test_rules_are_read_with_their_source_and_set_by_the_province_admin_only(
    client: AsyncClient, make_user: MakeUser, areas: list[AreaRecord]
) -> None:
    """Lai Châu 001 Điều 8.1 as data: the province's administrator sets it, the hub's
    settings answer for profiles without one, and nobody else may change it."""
    admin = await make_user("lc.admin", Role.admin, LAI_CHAU)
    await set_rule(client, admin, profile="border_gate", **LAI_CHAU_DISPLAY)
    district_admin = await make_user("lc.district", Role.admin, districts_of(areas, LAI_CHAU)[0])
    read = await client.get("/api/v1/rules/hours", headers=district_admin)
    assert read.status_code == 200, read.text
    by_profile = {item["profile"]: item for item in read.json()["items"]}
    assert by_profile["border_gate"] == {"province": LAI_CHAU, "profile": "border_gate",
                                         "source": "province", **LAI_CHAU_DISPLAY}  # fmt: skip
    assert by_profile["radio"]["source"] == "default"
    assert by_profile["radio"]["daily_hours"] == 0
    ag_admin = await make_user("ag.admin", Role.admin, AN_GIANG)
    editor = await make_user("lc.editor", Role.editor, LAI_CHAU)
    for who, status in ((district_admin, 403), (ag_admin, 403), (editor, 403)):
        refused = await client.put(
            "/api/v1/rules/hours",
            json={"province": LAI_CHAU, "profile": "border_gate", "daily_hours": 1},
            headers=who,
        )
        assert refused.status_code == status, refused.text
    back = await set_rule(client, admin, profile="border_gate", daily_hours=None)
    assert (back["source"], back["daily_hours"], back["morning_hours"]) == ("default", 6, None)


@pytest.mark.parametrize(
    ("rule", "where"),
    [
        ({"profile": "eboard", "daily_hours": 25}, "daily_hours"),
        ({"profile": "eboard", "daily_hours": 4, "morning_hours": 3, "afternoon_hours": 3},
         "exceed daily_hours"),
        ({"profile": "eboard", "daily_hours": None, "morning_hours": 3}, "need daily_hours"),
        ({"profile": "kiosk", "daily_hours": 4}, "profile"),
        ({"province": "12345", "profile": "eboard", "daily_hours": 4}, "province"),
    ],
)  # fmt: skip
async def test_bad_rules_are_refused(
    client: AsyncClient,
    make_user: MakeUser,
    areas: list[AreaRecord],
    rule: dict[str, Any],
    where: str,
) -> None:
    admin = await make_user("lc.admin", Role.admin, LAI_CHAU)
    refused = await client.put("/api/v1/rules/hours", json=rule, headers=admin)
    assert refused.status_code == 422, refused.text
    assert where in refused.text
    read = await client.get("/api/v1/rules/hours", headers=admin)
    assert {item["source"] for item in read.json()["items"]} == {"default"}


async def test_statistics_count_broadcast_time_against_the_province_rule(
    client: AsyncClient,
    make_user: MakeUser,
    make_endpoint: MakeEndpoint,
    areas: list[AreaRecord],
) -> None:
    """An Giang 000 Điều 4.3 (8 h a day at border gates) is what a border gate's broadcast
    time is reported against; a profile without a rule of the province's asks the setting."""
    admin = await make_user("ag.admin", Role.admin, AN_GIANG)
    await set_rule(client, admin, province=AN_GIANG, **AN_GIANG_BORDER_GATE)
    commune = communes_of(areas, AN_GIANG)[0]
    gate = await make_endpoint(
        "AG-GATE", "display", commune, profile="border_gate", registered_at=LONG_STANDING
    )
    await make_endpoint("AG-RADIO", "radio", commune, registered_at=LONG_STANDING)
    publisher = await make_user("ag.publisher", Role.publisher, AN_GIANG)
    editor = await make_user("ag.editor", Role.editor, AN_GIANG)
    appraiser = await make_user("ag.appraiser", Role.appraiser, AN_GIANG)
    created = await client.post(
        "/api/v1/bulletins", json=text_bulletin(AN_GIANG), headers=publisher
    )
    bulletin = created.json()["id"]
    await act(client, bulletin, "submit", publisher)
    await act(client, bulletin, "appraise", appraiser)  # it reaches a border gate (001 Điều 10.1a)
    assert (await act(client, bulletin, "approve", editor)).status_code == 200
    end = datetime.now(UTC).replace(microsecond=0)
    start = end - timedelta(days=2)
    played = await client.post(
        "/api/v1/device/plays",
        json={"plays": [{"id": "p1", "bulletin_id": bulletin, "outcome": "played",
                         "started_at": (end - timedelta(hours=3)).isoformat(),
                         "ended_at": (end - timedelta(hours=3, minutes=-48)).isoformat()}]},
        headers=gate,
    )  # fmt: skip
    assert played.status_code == 200, played.text
    report = await client.get(
        "/api/v1/stats",
        params={"from": start.isoformat(), "to": end.isoformat()},
        headers=editor,
    )
    assert report.status_code == 200, report.text
    broadcast = report.json()["broadcast"]
    by_code = {row["code"]: row for row in broadcast["endpoints"]}
    assert by_code["AG-GATE"]["minimum_minutes"] == 2 * 8 * 60
    assert by_code["AG-GATE"]["minimum_ratio"] == pytest.approx(48 / 960)
    assert (by_code["AG-RADIO"]["minimum_minutes"], by_code["AG-RADIO"]["minimum_ratio"]) == (
        0,
        None,
    )
    assert broadcast["minimum_minutes"] == 960
    assert broadcast["communes"][0]["minimum_minutes"] == 960
