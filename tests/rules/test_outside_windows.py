"""Ad hoc and important-event postings play on e-boards outside their windows without being
emergencies (Decision 002 Điều 10.2, Lai Châu 001 Điều 8.2)."""

from httpx import AsyncClient

from nguon.areas.sources import AreaRecord
from nguon.identity.roles import Role
from tests.bulletins.test_workflow import act, text_bulletin
from tests.conftest import LAI_CHAU, MakeEndpoint, MakeUser, communes_of, districts_of
from tests.dispatch.test_playlist import preview, titles, tomorrow

PROBLEM = "application/problem+json"


async def test_an_ad_hoc_posting_plays_on_e_boards_at_its_time_while_the_window_is_closed(
    client: AsyncClient, make_user: MakeUser, make_endpoint: MakeEndpoint, areas: list[AreaRecord]
) -> None:
    """002 Điều 10.2: "Ngoài khung giờ trên, bảng tin điện tử công cộng đăng phát trong
    trường hợp khẩn cấp, đột xuất hoặc khi diễn ra các sự kiện quan trọng"; radios keep their
    windows (Điều 10.1)."""
    commune = communes_of(areas, districts_of(areas, LAI_CHAU)[0])[0]
    await make_endpoint("AH-BOARD", "display", commune, profile="eboard")
    await make_endpoint("AH-RADIO", "radio", commune)
    publisher = await make_user("ah.publisher", Role.publisher, LAI_CHAU)
    editor = await make_user("ah.editor", Role.editor, LAI_CHAU)
    at_noon = {"type": "once", "at": tomorrow(12).isoformat()}
    event = text_bulletin(LAI_CHAU, title="event", priority="priority", schedule=at_noon,
                          valid_from=tomorrow(3).isoformat())  # fmt: skip
    plain = text_bulletin(LAI_CHAU, title="plain", priority="priority", schedule=at_noon,
                          valid_from=tomorrow(3).isoformat())  # fmt: skip

    refused = await client.post(
        "/api/v1/bulletins", json={**event, "outside_windows": True}, headers=publisher
    )
    assert refused.status_code == 403, refused.text
    assert refused.headers["content-type"] == PROBLEM
    assert "Only editors" in refused.json()["detail"]

    ids = {}
    for body in (event, plain):
        created = await client.post("/api/v1/bulletins", json=body, headers=publisher)
        assert created.status_code == 201, created.text
        ids[body["title"]] = created.json()["id"]
    flagged = await client.patch(
        f"/api/v1/bulletins/{ids['event']}", json={"outside_windows": True}, headers=editor
    )
    assert flagged.status_code == 200, flagged.text
    assert flagged.json()["outside_windows"] is True
    cleared = await client.patch(
        f"/api/v1/bulletins/{ids['event']}", json={"outside_windows": False}, headers=publisher
    )
    assert cleared.status_code == 403, cleared.text
    for bulletin_id in ids.values():
        await act(client, bulletin_id, "submit", publisher)
        approved = await act(client, bulletin_id, "approve", editor)
        assert approved.status_code == 200, approved.text

    people = {"editor": editor}
    noon = await preview(client, people, "AH-BOARD", tomorrow(12, 5))
    assert noon["window"]["open"] is False  # the e-board's windows are 05-07 and 17-22
    assert titles(noon["items"]) == ["event"]
    assert noon["items"][0]["outside_windows"] is True
    assert noon["items"][0]["priority"] == "priority"  # not made an emergency
    # The plain bulletin waits for the evening window; the radio plays neither at noon.
    evening = await preview(client, people, "AH-BOARD", tomorrow(17, 5))
    assert "plain" in titles(evening["items"])
    assert evening["items"][titles(evening["items"]).index("plain")]["outside_windows"] is False
    radio = await preview(client, people, "AH-RADIO", tomorrow(12, 5))
    assert radio["items"] == []
