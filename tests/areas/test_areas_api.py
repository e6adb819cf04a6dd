"""The hierarchy over the API: current and legacy units side by side."""

from datetime import date

from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from nguon.areas.levels import AreaLevel
from nguon.areas.service import AreaService
from nguon.areas.sources import AreaRecord
from nguon.identity.roles import Role
from tests.conftest import AN_GIANG, LAI_CHAU, MakeUser, communes_of, districts_of


async def test_roots_and_children(
    client: AsyncClient, make_user: MakeUser, areas: list[AreaRecord]
) -> None:
    viewer = await make_user("area.viewer", Role.viewer, AN_GIANG)
    roots = await client.get("/api/v1/areas", headers=viewer)
    assert [(a["code"], a["level"]) for a in roots.json()["items"]] == [("VN", "central")]
    provinces = await client.get("/api/v1/areas", params={"parent": "VN"}, headers=viewer)
    by_code = {a["code"]: a for a in provinces.json()["items"]}
    assert set(by_code) == {AN_GIANG, LAI_CHAU}
    assert by_code[AN_GIANG]["children"] == len(communes_of(areas, AN_GIANG))
    assert by_code[LAI_CHAU]["valid_until"] == "2025-06-30"
    communes = await client.get("/api/v1/areas", params={"parent": AN_GIANG}, headers=viewer)
    items = communes.json()["items"]
    assert [a["code"] for a in items] == communes_of(areas, AN_GIANG)
    assert {a["level"] for a in items} == {"commune"}


async def test_legacy_three_tiers(
    client: AsyncClient, make_user: MakeUser, areas: list[AreaRecord]
) -> None:
    viewer = await make_user("legacy.viewer", Role.viewer, AN_GIANG)
    district = districts_of(areas, LAI_CHAU)[0]
    commune = communes_of(areas, district)[0]
    detail = await client.get(f"/api/v1/areas/{commune}", headers=viewer)
    assert detail.status_code == 200
    body = detail.json()
    assert [a["code"] for a in body["ancestors"]] == ["VN", LAI_CHAU, district]
    assert [a["level"] for a in body["ancestors"]] == ["central", "province", "district"]
    assert body["parent"]["code"] == district
    listed = await client.get("/api/v1/areas", params={"parent": district}, headers=viewer)
    assert commune in [a["code"] for a in listed.json()["items"]]


async def test_a_code_names_a_unit_only_within_its_validity(
    client: AsyncClient,
    make_user: MakeUser,
    sessionmaker: async_sessionmaker[AsyncSession],
    areas: list[AreaRecord],
) -> None:
    # Today's Lai Châu holds the same code as the legacy one.
    async with sessionmaker() as session:
        today_lai_chau = AreaRecord(
            LAI_CHAU, "Tỉnh Lai Châu (2025)", AreaLevel.province, None, date(2025, 7, 1), None
        )
        await AreaService(session).import_records([today_lai_chau])
        await session.commit()
    viewer = await make_user("time.viewer", Role.viewer, AN_GIANG)
    today = await client.get(f"/api/v1/areas/{LAI_CHAU}", headers=viewer)
    before = await client.get(
        f"/api/v1/areas/{LAI_CHAU}", params={"at": "2024-05-01"}, headers=viewer
    )
    assert today.json()["name"] == "Tỉnh Lai Châu (2025)"
    assert today.json()["valid_from"] == "2025-07-01"
    assert before.json()["valid_until"] == "2025-06-30"
    assert before.json()["children"] == len(districts_of(areas, LAI_CHAU))
    gone = await client.get(
        f"/api/v1/areas/{AN_GIANG}", params={"at": "2020-01-01"}, headers=viewer
    )
    assert gone.status_code == 404
    assert "2020-01-01" in gone.json()["detail"]


async def test_unknown_code_is_not_found(client: AsyncClient, make_user: MakeUser) -> None:
    viewer = await make_user("nf.viewer", Role.viewer, AN_GIANG)
    response = await client.get("/api/v1/areas/99999", headers=viewer)
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    assert "99999" in response.json()["detail"]
