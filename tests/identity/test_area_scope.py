"""A role acts only inside its area's subtree."""

from httpx import AsyncClient

from nguon.areas.sources import AreaRecord
from nguon.identity.roles import Role
from tests.conftest import AN_GIANG, LAI_CHAU, MakeKey, MakeUser, communes_of, districts_of


async def test_commune_chair_sees_own_commune_only(
    client: AsyncClient, make_user: MakeUser, areas: list[AreaRecord]
) -> None:
    commune_a, commune_b = communes_of(areas, AN_GIANG)[:2]
    chair_a = await make_user("chair.a", Role.commune_chair, commune_a)
    own = await client.get(f"/api/v1/communes/{commune_a}", headers=chair_a)
    assert own.status_code == 200
    assert own.json()["area"]["code"] == commune_a
    assert [a["code"] for a in own.json()["ancestors"]] == ["VN", AN_GIANG]
    assert [s["username"] for s in own.json()["staff"]] == ["chair.a"]
    other = await client.get(f"/api/v1/communes/{commune_b}", headers=chair_a)
    assert other.status_code == 403
    assert other.headers["content-type"] == "application/problem+json"
    assert commune_b in other.json()["detail"]


async def test_district_publisher_cannot_act_on_another_district(
    client: AsyncClient, make_user: MakeUser, areas: list[AreaRecord]
) -> None:
    district_a, district_b = districts_of(areas, LAI_CHAU)[:2]
    publisher_a = await make_user("pub.district.a", Role.publisher, district_a)
    in_own = communes_of(areas, district_a)[0]
    in_other = communes_of(areas, district_b)[0]
    assert (await client.get(f"/api/v1/communes/{in_own}", headers=publisher_a)).status_code == 200
    refused = await client.get(f"/api/v1/communes/{in_other}", headers=publisher_a)
    assert refused.status_code == 403
    assert district_a in refused.json()["detail"]


async def test_province_editor_sees_every_commune_below(
    client: AsyncClient, make_user: MakeUser, areas: list[AreaRecord]
) -> None:
    editor = await make_user("editor.lc", Role.editor, LAI_CHAU)
    for district in districts_of(areas, LAI_CHAU)[:3]:
        commune = communes_of(areas, district)[0]
        response = await client.get(f"/api/v1/communes/{commune}", headers=editor)
        assert response.status_code == 200
        assert [a["code"] for a in response.json()["ancestors"]] == ["VN", LAI_CHAU, district]
    other_province = communes_of(areas, AN_GIANG)[0]
    assert (
        await client.get(f"/api/v1/communes/{other_province}", headers=editor)
    ).status_code == 403


async def test_integration_key_is_scoped_like_its_area(
    client: AsyncClient, make_key: MakeKey, areas: list[AreaRecord]
) -> None:
    district_a, district_b = districts_of(areas, LAI_CHAU)[:2]
    key = await make_key("district-cms", Role.integration, district_a)
    own = communes_of(areas, district_a)[0]
    other = communes_of(areas, district_b)[0]
    assert (await client.get(f"/api/v1/communes/{own}", headers=key)).status_code == 200
    assert (await client.get(f"/api/v1/communes/{other}", headers=key)).status_code == 403
