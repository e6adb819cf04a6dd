"""A commune's radio queue, in the regulation's order of play."""

from typing import Any

from httpx import AsyncClient

from nguon.areas.sources import AreaRecord
from nguon.identity.roles import Role
from tests.bulletins.test_workflow import act, text_bulletin
from tests.conftest import LAI_CHAU, MakeEndpoint, MakeUser, communes_of, districts_of


async def publish(
    client: AsyncClient, author: dict[str, str], approver: dict[str, str], body: dict[str, Any]
) -> str:
    created = await client.post("/api/v1/bulletins", json=body, headers=author)
    assert created.status_code == 201, created.text
    bulletin_id = str(created.json()["id"])
    await act(client, bulletin_id, "submit", author)
    approved = await act(client, bulletin_id, "approve", approver)
    assert approved.status_code == 200, approved.text
    return bulletin_id


async def test_queue_follows_the_regulation_order(
    client: AsyncClient, make_user: MakeUser, make_endpoint: MakeEndpoint, areas: list[AreaRecord]
) -> None:
    district = districts_of(areas, LAI_CHAU)[0]
    commune, neighbour = communes_of(areas, district)[:2]
    await make_endpoint("LC-RADIO", "radio", commune)
    province_pub = await make_user("q.province", Role.publisher, LAI_CHAU)
    district_pub = await make_user("q.district", Role.publisher, district)
    commune_pub = await make_user("q.commune", Role.publisher, commune)
    editor = await make_user("q.editor", Role.editor, LAI_CHAU)
    chair = await make_user("q.chair", Role.commune_chair, commune)

    # Published in shuffled order.
    normal = await publish(
        client, province_pub, editor, text_bulletin(LAI_CHAU, title="Thông thường")
    )
    from_commune = await publish(
        client, commune_pub, chair, text_bulletin(commune, title="Xã", priority="priority")
    )
    from_province = await publish(
        client, province_pub, editor, text_bulletin(LAI_CHAU, title="Tỉnh", priority="priority")
    )
    emergency = await publish(
        client, commune_pub, chair, text_bulletin(commune, title="Khẩn", priority="emergency")
    )
    from_district = await publish(
        client, district_pub, editor, text_bulletin(district, title="Huyện", priority="priority")
    )
    elsewhere = await publish(
        client, district_pub, editor, text_bulletin(neighbour, title="Xã khác", priority="priority")
    )

    queue = await client.get(f"/api/v1/communes/{commune}/queue", headers=chair)
    assert queue.status_code == 200, queue.text
    items = queue.json()["items"]
    assert [i["bulletin_id"] for i in items] == [
        emergency,
        from_province,
        from_district,
        from_commune,
        normal,
    ]
    assert elsewhere not in {i["bulletin_id"] for i in items}
    assert [i["section"] for i in items] == [
        "emergency",
        "priority",
        "priority",
        "priority",
        "available",
    ]
    assert [i["level"] for i in items[1:4]] == ["province", "district", "commune"]

    await act(client, from_district, "revoke", editor, reason="Đã hủy")
    after = await client.get(f"/api/v1/communes/{commune}/queue", headers=editor)
    assert from_district not in {i["bulletin_id"] for i in after.json()["items"]}


async def test_a_chair_reads_only_the_own_communes_queue(
    client: AsyncClient, make_user: MakeUser, areas: list[AreaRecord]
) -> None:
    district = districts_of(areas, LAI_CHAU)[0]
    commune, neighbour = communes_of(areas, district)[:2]
    chair = await make_user("q.chair.a", Role.commune_chair, commune)
    assert (await client.get(f"/api/v1/communes/{commune}/queue", headers=chair)).status_code == 200
    refused = await client.get(f"/api/v1/communes/{neighbour}/queue", headers=chair)
    assert refused.status_code == 403
    assert refused.headers["content-type"] == "application/problem+json"
