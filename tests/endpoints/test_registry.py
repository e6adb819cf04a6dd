"""The registry of radios and displays, and the keys they call the hub with."""

from typing import Any

import pytest
from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncEngine

from nguon.areas.sources import AreaRecord
from nguon.endpoints.windows import WEEKDAYS
from nguon.identity.roles import Role
from tests.bulletins.test_workflow import text_bulletin
from tests.commands import nguon
from tests.conftest import AN_GIANG, LAI_CHAU, MakeUser, communes_of, districts_of

PROBLEM = "application/problem+json"


@pytest.fixture
async def admin(make_user: MakeUser, areas: list[AreaRecord]) -> dict[str, str]:
    return await make_user("endpoint.admin", Role.admin, AN_GIANG)


def radio(commune: str, **fields: Any) -> dict[str, Any]:
    return {
        "code": "AG-RADIO-1",
        "name": "Cụm loa ấp 1",
        "kind": "radio",
        "area": commune,
        **fields,
    }


async def test_radio_gets_the_regulation_windows_and_a_working_key(
    client: AsyncClient, admin: dict[str, str], areas: list[AreaRecord]
) -> None:
    commune = communes_of(areas, AN_GIANG)[0]
    created = await client.post(
        "/api/v1/endpoints", json=radio(commune, latitude=10.38, longitude=105.43), headers=admin
    )
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["windows"]["mon"] == ["05:00-06:30", "17:00-18:30"]
    assert body["windows"]["sun"] == ["05:00-06:30", "17:00-18:30"]
    assert body["daily_hours"]["wed"] == 3.0
    assert (body["languages"], body["area"], body["enabled"]) == (["vi"], commune, True)
    device = {"X-Api-Key": body["api_key"]}
    me = await client.get("/api/v1/device/me", headers=device)
    assert me.status_code == 200
    assert me.json()["code"] == "AG-RADIO-1"
    assert "api_key" not in me.json()
    assert (await client.get("/api/v1/endpoints", headers=device)).status_code == 403


@pytest.mark.parametrize(
    ("profile", "monday", "hours"),
    [
        ("eboard", ["05:00-07:00", "17:00-22:00"], 7.0),
        ("border_gate", ["07:00-11:00", "14:00-18:00"], 8.0),
    ],
)
async def test_display_profiles_have_their_own_defaults(
    client: AsyncClient,
    admin: dict[str, str],
    areas: list[AreaRecord],
    profile: str,
    monday: list[str],
    hours: float,
) -> None:
    commune = communes_of(areas, AN_GIANG)[1]
    created = await client.post(
        "/api/v1/endpoints",
        json={
            "code": f"AG-{profile}",
            "name": "Bảng tin",
            "kind": "display",
            "profile": profile,
            "area": commune,
            "languages": ["vi", "en", "km"],
        },
        headers=admin,
    )
    assert created.status_code == 201, created.text
    assert created.json()["windows"]["sat"] == monday
    assert created.json()["daily_hours"]["sat"] == hours


BAD: list[tuple[str, dict[str, Any], int, str]] = [
    ("display without profile", {"kind": "display"}, 422, "needs a profile"),
    ("radio with profile", {"profile": "eboard"}, 422, "takes no display profile"),
    ("border gate short", {"kind": "display", "profile": "border_gate",
                           "windows": {d: ["07:00-10:00"] for d in WEEKDAYS}},
     422, "at least 6 h every day"),
    ("overlapping", {"windows": {"mon": ["05:00-07:00", "06:30-08:00"]}}, 422, "overlap"),
    ("bad span", {"windows": {"mon": ["5h-7h"]}}, 422, "HH:MM-HH:MM"),
    ("backwards span", {"windows": {"mon": ["07:00-05:00"]}}, 422, "must end after"),
    ("unknown day", {"windows": {"funday": ["05:00-06:00"]}}, 422, "Unknown weekday"),
    ("credentials in push url", {"push_url": "https://u:pw@gw.example/h"}, 422, "credentials"),
    ("ftp push url", {"push_url": "ftp://gw.example/hook"}, 422, "body.push_url"),
    ("code like an area", {"code": "30292"}, 422, "body.code"),
    ("province as area", {"area": AN_GIANG}, 422, "body.area"),
]  # fmt: skip


@pytest.mark.parametrize(("case", "fields", "status", "detail"), BAD, ids=[b[0] for b in BAD])
async def test_bad_registrations_are_refused(
    client: AsyncClient,
    admin: dict[str, str],
    areas: list[AreaRecord],
    case: str,
    fields: dict[str, Any],
    status: int,
    detail: str,
) -> None:
    commune = communes_of(areas, AN_GIANG)[0]
    response = await client.post("/api/v1/endpoints", json=radio(commune, **fields), headers=admin)
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    assert detail in response.json()["detail"]
    listed = await client.get("/api/v1/endpoints", headers=admin)
    assert listed.json()["items"] == []


async def test_area_rules(
    client: AsyncClient, make_user: MakeUser, areas: list[AreaRecord]
) -> None:
    district_a, district_b = districts_of(areas, LAI_CHAU)[:2]
    district_admin = await make_user("district.admin", Role.admin, district_a)
    own = communes_of(areas, district_a)[0]
    other = communes_of(areas, district_b)[0]
    assert (
        await client.post("/api/v1/endpoints", json=radio(own), headers=district_admin)
    ).status_code == 201
    outside = await client.post(
        "/api/v1/endpoints", json=radio(other, code="LC-OTHER"), headers=district_admin
    )
    assert outside.status_code == 403
    again = await client.post("/api/v1/endpoints", json=radio(own), headers=district_admin)
    assert again.status_code == 409


async def test_update_and_key_renewal(
    client: AsyncClient, admin: dict[str, str], areas: list[AreaRecord]
) -> None:
    commune = communes_of(areas, AN_GIANG)[0]
    first_key = {"X-Api-Key": (
        await client.post("/api/v1/endpoints", json=radio(commune), headers=admin)
    ).json()["api_key"]}  # fmt: skip
    changed = await client.patch(
        "/api/v1/endpoints/AG-RADIO-1",
        json={"windows": {"mon": ["04:30-06:30"]}, "enabled": False, "languages": ["vi", "km"]},
        headers=admin,
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["windows"]["mon"] == ["04:30-06:30"]
    assert changed.json()["windows"]["tue"] == []
    assert (changed.json()["enabled"], changed.json()["languages"]) == (False, ["vi", "km"])
    renewed = await client.post("/api/v1/endpoints/AG-RADIO-1/key", headers=admin)
    second_key = {"X-Api-Key": renewed.json()["api_key"]}
    assert (await client.get("/api/v1/device/me", headers=first_key)).status_code == 401
    assert (await client.get("/api/v1/device/me", headers=second_key)).status_code == 200


async def test_bulletins_may_target_endpoints_of_their_area(
    client: AsyncClient, admin: dict[str, str], make_user: MakeUser, areas: list[AreaRecord]
) -> None:
    commune_a, commune_b = communes_of(areas, AN_GIANG)[:2]
    await client.post("/api/v1/endpoints", json=radio(commune_a), headers=admin)
    chair_publisher = await make_user("xa.pub", Role.publisher, commune_b)
    province_publisher = await make_user("tinh.pub", Role.publisher, AN_GIANG)
    ok = await client.post(
        "/api/v1/bulletins", json=text_bulletin("AG-RADIO-1"), headers=province_publisher
    )
    assert ok.status_code == 201, ok.text
    assert ok.json()["targets"] == ["AG-RADIO-1"]
    refused = await client.post(
        "/api/v1/bulletins", json=text_bulletin("AG-RADIO-1"), headers=chair_publisher
    )
    assert refused.status_code == 403
    assert "Cụm loa ấp 1" in refused.json()["detail"]


async def test_endpoint_from_the_console(
    engine: AsyncEngine, database_url: str, client: AsyncClient
) -> None:
    assert (
        nguon(database_url, "areas", "import", "--current", "--province", AN_GIANG).returncode == 0
    )
    commune = "30292"
    made = nguon(database_url, "endpoints", "create", "AG-BG-1", "--kind", "display",
                 "--profile", "border_gate", "--area", commune)  # fmt: skip
    assert made.returncode == 0, made.stderr
    assert "windows 07:00-11:00; 14:00-18:00" in made.stdout
    key = made.stdout.strip().splitlines()[-1]
    me = await client.get("/api/v1/device/me", headers={"X-Api-Key": key})
    assert me.status_code == 200
    assert me.json()["profile"] == "border_gate"
    refused = nguon(
        database_url, "endpoints", "create", "AG-X", "--kind", "display", "--area", commune
    )
    assert refused.returncode == 1
    assert refused.stderr.strip() == "error: A display needs a profile: eboard or border_gate."
