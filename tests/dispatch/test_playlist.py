"""A commune with one radio and one e-board: the queue, the chair's decisions, the playlists."""

import random
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote

import pytest
from httpx import AsyncClient

from nguon.areas.sources import AreaRecord
from nguon.dispatch.slots import LOCAL
from nguon.identity.roles import Role
from tests.bulletins.test_workflow import act, text_bulletin
from tests.conftest import LAI_CHAU, MakeEndpoint, MakeUser, communes_of, districts_of
from tests.dispatch.test_queue import publish


def tomorrow(hour: int, minute: int = 0) -> datetime:
    """A local wall-clock time tomorrow (Asia/Ho_Chi_Minh)."""
    day = datetime.now(LOCAL).date() + timedelta(days=1)
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=LOCAL)


async def commune_on_air(
    client: AsyncClient,
    make_user: MakeUser,
    make_endpoint: MakeEndpoint,
    areas: list[AreaRecord],
    prefix: str,
) -> dict[str, Any]:
    """Province, district, commune priority items, a normal and an emergency, published in
    shuffled order, all reaching the commune's radio and e-board; accounts and endpoints are
    named after `prefix`."""
    district = districts_of(areas, LAI_CHAU)[0]
    code = communes_of(areas, district)[0]
    radio = await make_endpoint(f"{prefix.upper()}-RADIO", "radio", code)
    board = await make_endpoint(f"{prefix.upper()}-BOARD", "display", code, profile="eboard")
    people = {
        "province": await make_user(f"{prefix}.province", Role.publisher, LAI_CHAU),
        "district": await make_user(f"{prefix}.district", Role.publisher, district),
        "commune": await make_user(f"{prefix}.commune", Role.publisher, code),
        "editor": await make_user(f"{prefix}.editor", Role.editor, LAI_CHAU),
        "chair": await make_user(f"{prefix}.chair", Role.commune_chair, code),
    }
    plan = [
        ("province", "editor", LAI_CHAU, "priority"),
        ("district", "editor", district, "priority"),
        ("commune", "chair", code, "priority"),
        ("normal", "editor", LAI_CHAU, "normal"),
        ("emergency", "editor", LAI_CHAU, "emergency"),
    ]
    random.Random(7).shuffle(plan)
    ids: dict[str, str] = {}
    for name, approver, origin, priority in plan:
        author = people["province" if name in {"normal", "emergency"} else name]
        # On air from 03:00 tomorrow, when every window is closed: the priority items then
        # share the next opening whatever the time of day the test runs at (inside an open
        # window each would play from the moment it went on air).
        body = text_bulletin(
            origin, title=name, priority=priority, valid_from=tomorrow(3).isoformat()
        )
        ids[name] = await publish(client, author, people[approver], body)
    return {"code": code, "radio": radio, "board": board, "ids": ids, **people}


@pytest.fixture
async def commune(
    client: AsyncClient, make_user: MakeUser, make_endpoint: MakeEndpoint, areas: list[AreaRecord]
) -> dict[str, Any]:
    return await commune_on_air(client, make_user, make_endpoint, areas, "pl")


async def queue(client: AsyncClient, commune: dict[str, Any], who: str = "chair") -> list[Any]:
    response = await client.get(f"/api/v1/communes/{commune['code']}/queue", headers=commune[who])
    assert response.status_code == 200, response.text
    return list(response.json()["items"])


async def preview(
    client: AsyncClient, commune: dict[str, Any], endpoint: str, at: datetime
) -> dict[str, Any]:
    response = await client.get(
        f"/api/v1/endpoints/{endpoint}/playlist?at={quote(at.isoformat())}",
        headers=commune["editor"],
    )
    assert response.status_code == 200, response.text
    assert response.headers["etag"]
    return dict(response.json())


def titles(items: list[Any]) -> list[str]:
    return [item["title"] for item in items]


def collisions(upcoming: list[Any]) -> list[list[Any]]:
    """The priority items of each slot of a playlist's offline cache, slot by slot."""
    by_slot: dict[str, list[Any]] = {}
    for item in upcoming:
        if item["priority"] == "priority":
            by_slot.setdefault(item["slot"], []).append(item)
    return list(by_slot.values())


async def test_queue_and_playlists_follow_the_regulation_order(
    client: AsyncClient, commune: dict[str, Any]
) -> None:
    items = await queue(client, commune)
    assert titles(items) == ["emergency", "province", "district", "commune", "normal"]
    assert [i["section"] for i in items] == [
        "emergency",
        "priority",
        "priority",
        "priority",
        "available",
    ]
    for item in items:
        assert {"bulletin_id", "priority", "level", "kind", "language", "title", "slot"} <= set(
            item
        )
    # Priority items wait for the radio's next window opening; all three share it.
    assert len({item["slot"] for item in items[1:4]}) == 1

    evening = await preview(client, commune, "PL-BOARD", tomorrow(18))
    assert evening["window"]["open"] is True
    assert titles(evening["items"]) == ["emergency", "province", "district", "commune", "normal"]
    noon = await preview(client, commune, "PL-BOARD", tomorrow(12))
    assert noon["window"]["open"] is False
    assert titles(noon["items"]) == ["emergency"]
    # What airs tonight is in the offline cache of the noon playlist.
    assert {"province", "district", "commune", "normal"} <= set(titles(noon["upcoming"]))

    # The radio plays a normal bulletin only once the chair has put it into the programme.
    radio = await preview(client, commune, "PL-RADIO", tomorrow(17, 30))
    assert titles(radio["items"]) == ["emergency", "province", "district", "commune"]


async def test_the_chair_programmes_normal_items_into_radio_slots(
    client: AsyncClient, commune: dict[str, Any]
) -> None:
    normal = commune["ids"]["normal"]
    path = f"/api/v1/communes/{commune['code']}/programme"
    slot = tomorrow(17, 15)
    added = await client.post(
        path,
        json={"items": [{"bulletin_id": normal, "slot": slot.isoformat()}]},
        headers=commune["chair"],
    )
    assert added.status_code == 200, added.text
    assert [e["bulletin_id"] for e in added.json()["items"]] == [normal]

    radio = await preview(client, commune, "PL-RADIO", tomorrow(17, 30))
    assert titles(radio["items"]) == ["emergency", "province", "district", "commune", "normal"]
    assert datetime.fromisoformat(radio["items"][-1]["slot"]) == slot
    items = await queue(client, commune)
    assert items[-1]["section"] == "programme"

    # Outside the windows, in the past, a priority item, another commune's chair: refused.
    for bad_slot, bulletin in (
        (tomorrow(12), normal),
        (tomorrow(17) - timedelta(days=2), normal),
        (tomorrow(17, 20), commune["ids"]["province"]),
    ):
        refused = await client.post(
            path,
            json={"items": [{"bulletin_id": bulletin, "slot": bad_slot.isoformat()}]},
            headers=commune["chair"],
        )
        assert refused.status_code == 422, refused.text
        assert refused.headers["content-type"] == "application/problem+json"
    editor_try = await client.post(
        path,
        json={"items": [{"bulletin_id": normal, "slot": tomorrow(17, 20).isoformat()}]},
        headers=commune["editor"],
    )
    assert editor_try.status_code == 403

    entry = added.json()["items"][0]["id"]
    removed = await client.delete(f"{path}/{entry}", headers=commune["chair"])
    assert removed.status_code == 204
    radio = await preview(client, commune, "PL-RADIO", tomorrow(17, 30))
    assert "normal" not in titles(radio["items"])


async def test_the_chairs_reorder_changes_only_colliding_priority_items(
    client: AsyncClient, commune: dict[str, Any]
) -> None:
    ids = commune["ids"]
    path = f"/api/v1/communes/{commune['code']}/queue/order"
    wanted = [ids["commune"], ids["province"], ids["district"]]
    ordered = await client.put(path, json={"bulletin_ids": wanted}, headers=commune["chair"])
    assert ordered.status_code == 200, ordered.text
    expected = ["emergency", "commune", "province", "district", "normal"]
    assert titles(ordered.json()["items"]) == expected
    assert titles(await queue(client, commune, "editor")) == expected
    radio = await preview(client, commune, "PL-RADIO", tomorrow(17, 30))
    assert titles(radio["items"]) == ["emergency", "commune", "province", "district"]
    # The e-board is not the chair's programme: it keeps the regulation's order.
    board = await preview(client, commune, "PL-BOARD", tomorrow(18))
    assert titles(board["items"])[1:4] == ["province", "district", "commune"]
    # The radio's offline cache plays each slot's collision in the chair's order too, in the
    # editors' preview and in what the device itself is given (which looks a day ahead of
    # now: every slot it holds, whatever the time of day the test runs at).
    noon = await preview(client, commune, "PL-RADIO", tomorrow(12))
    device = await client.get("/api/v1/device/playlist", headers=commune["radio"])
    assert device.status_code == 200, device.text
    assert len(collisions(noon["upcoming"])) >= 1
    for upcoming in (noon["upcoming"], device.json()["upcoming"]):
        for collision in collisions(upcoming):
            assert titles(collision) == ["commune", "province", "district"]

    for stray in (ids["emergency"], ids["normal"]):
        refused = await client.put(
            path, json={"bulletin_ids": [stray, ids["province"]]}, headers=commune["chair"]
        )
        assert refused.status_code == 422
        assert set(refused.json()["movable"]) == set(wanted)
    assert titles(await queue(client, commune)) == expected

    cleared = await client.put(path, json={"bulletin_ids": []}, headers=commune["chair"])
    assert titles(cleared.json()["items"]) == [
        "emergency",
        "province",
        "district",
        "commune",
        "normal",
    ]


async def test_the_device_polls_with_etags_and_sees_changes_at_once(
    client: AsyncClient, commune: dict[str, Any]
) -> None:
    # On air from now: the board holds it whatever the time of day (the fixture's items, on air
    # from 03:00 tomorrow, lie beyond the board's horizon between 03:00 and 05:00).
    today = await publish(
        client,
        commune["province"],
        commune["editor"],
        text_bulletin(LAI_CHAU, title="today", priority="priority"),
    )
    first = await client.get("/api/v1/device/playlist", headers=commune["board"])
    assert first.status_code == 200, first.text
    etag = first.headers["etag"]
    assert etag.startswith('"')
    assert etag.endswith('"')
    assert first.json()["endpoint"] == "PL-BOARD"

    unchanged = await client.get(
        "/api/v1/device/playlist", headers={**commune["board"], "If-None-Match": etag}
    )
    assert unchanged.status_code == 304
    assert unchanged.headers["etag"] == etag
    assert unchanged.content == b""

    # What the board was given counts as sent.
    deliveries = await client.get(
        f"/api/v1/bulletins/{today}/deliveries", headers=commune["editor"]
    )
    statuses = {d["endpoint"]: d["status"] for d in deliveries.json()["items"]}
    assert statuses == {"PL-BOARD": "sent", "PL-RADIO": "pending"}
    given = first.json()["items"] + first.json()["upcoming"]
    assert "today" in titles(given)

    await publish(
        client,
        commune["province"],
        commune["editor"],
        text_bulletin(LAI_CHAU, title="new", priority="emergency"),
    )
    changed = await client.get(
        "/api/v1/device/playlist", headers={**commune["board"], "If-None-Match": etag}
    )
    assert changed.status_code == 200
    assert changed.headers["etag"] != etag
    assert "new" in titles(changed.json()["items"])


async def test_a_revoked_bulletin_leaves_every_queue_and_playlist(
    client: AsyncClient, commune: dict[str, Any]
) -> None:
    before = await client.get("/api/v1/device/playlist", headers=commune["radio"])
    revoked = await act(
        client, commune["ids"]["province"], "revoke", commune["editor"], reason="Sai nội dung"
    )
    assert revoked.status_code == 200, revoked.text
    assert "province" not in titles(await queue(client, commune))
    for endpoint, at in (("PL-BOARD", tomorrow(18)), ("PL-RADIO", tomorrow(17, 30))):
        playlist = await preview(client, commune, endpoint, at)
        assert "province" not in titles(playlist["items"] + playlist["upcoming"])
    after = await client.get(
        "/api/v1/device/playlist",
        headers={**commune["radio"], "If-None-Match": before.headers["etag"]},
    )
    assert after.status_code == 200
    assert "province" not in titles(after.json()["items"] + after.json()["upcoming"])


async def test_an_emergency_being_edited_plays_its_approved_revision_until_the_next(
    client: AsyncClient, commune: dict[str, Any]
) -> None:
    emergency = commune["ids"]["emergency"]
    edited = await client.patch(
        f"/api/v1/bulletins/{emergency}",
        json={"title": "emergency, corrected"},
        headers=commune["province"],
    )
    assert edited.status_code == 200, edited.text
    assert edited.json()["status"] == "draft"
    for endpoint, at in (("PL-BOARD", tomorrow(23)), ("PL-RADIO", tomorrow(23))):
        playlist = await preview(client, commune, endpoint, at)
        assert "emergency" in titles(playlist["items"])
        assert "emergency, corrected" not in titles(playlist["items"] + playlist["upcoming"])
    await act(client, emergency, "submit", commune["province"])
    approved = await act(client, emergency, "approve", commune["editor"])
    assert approved.status_code == 200, approved.text
    playlist = await preview(client, commune, "PL-RADIO", tomorrow(23))
    assert "emergency, corrected" in titles(playlist["items"])
    assert "emergency" not in titles(playlist["items"])


async def test_previews_and_queues_are_guarded_by_area(
    client: AsyncClient, commune: dict[str, Any], make_user: MakeUser, areas: list[AreaRecord]
) -> None:
    other_district = districts_of(areas, LAI_CHAU)[1]
    outsider = await make_user("pl.outsider", Role.editor, other_district)
    refused = await client.get("/api/v1/endpoints/PL-BOARD/playlist", headers=outsider)
    assert refused.status_code == 403
    neighbour_chair = await make_user(
        "pl.neighbour", Role.commune_chair, communes_of(areas, other_district)[0]
    )
    refused = await client.get(f"/api/v1/communes/{commune['code']}/queue", headers=neighbour_chair)
    assert refused.status_code == 403
    person = await client.get("/api/v1/device/playlist", headers=commune["editor"])
    assert person.status_code == 403
    naive = await client.get(
        "/api/v1/endpoints/PL-BOARD/playlist?at=2026-11-25T18:00:00", headers=commune["editor"]
    )
    assert naive.status_code == 422
    assert naive.headers["content-type"] == "application/problem+json"
