"""An emergency's status per endpoint, and unconfirmed emergencies announced again to connected
endpoints at a constant interval until they leave the air."""

from datetime import timedelta
from typing import Any

import pytest
from httpx import AsyncClient
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from nguon.areas.sources import AreaRecord
from nguon.dispatch.reconciler import Reconciler
from nguon.identity.roles import Role
from nguon.kit.db import utcnow
from nguon.kit.outbox import OutboxEvent
from tests.bulletins.test_workflow import act, text_bulletin
from tests.conftest import LAI_CHAU, MakeEndpoint, MakeUser, communes_of, districts_of
from tests.dispatch.test_plays import play
from tests.dispatch.test_queue import publish

PROBLEM = "application/problem+json"


@pytest.fixture
async def district(
    client: AsyncClient, make_user: MakeUser, areas: list[AreaRecord]
) -> dict[str, Any]:
    """A district of Lai Châu with its people, and a commune of it for the endpoints."""
    home = districts_of(areas, LAI_CHAU)[0]
    commune = communes_of(areas, home)[0]
    return {
        "commune": commune,
        "publisher": await make_user("em.publisher", Role.publisher, home),
        "editor": await make_user("em.editor", Role.editor, home),
    }


async def emergency(client: AsyncClient, district: dict[str, Any], **overrides: Any) -> str:
    body = text_bulletin(district["commune"], priority="emergency", title="Lũ quét", **overrides)
    return await publish(client, district["publisher"], district["editor"], body)


async def fetch_playlist(client: AsyncClient, device: dict[str, str]) -> str:
    response = await client.get("/api/v1/device/playlist", headers=device)
    assert response.status_code == 200, response.text
    return response.headers["ETag"]


async def beat(client: AsyncClient, device: dict[str, str], **fields: Any) -> None:
    response = await client.post(
        "/api/v1/device/heartbeat", json={"status": "ok", **fields}, headers=device
    )
    assert response.status_code == 200, response.text


async def status_of(
    client: AsyncClient, bulletin_id: str, headers: dict[str, str], **params: Any
) -> dict[str, Any]:
    response = await client.get(
        f"/api/v1/emergencies/{bulletin_id}", params=params, headers=headers
    )
    assert response.status_code == 200, response.text
    return dict(response.json())


async def test_each_endpoint_shows_how_far_the_emergency_got(
    client: AsyncClient, district: dict[str, Any], make_endpoint: MakeEndpoint
) -> None:
    commune = district["commune"]
    fetching = await make_endpoint("E-FETCH", "radio", commune)
    beating = await make_endpoint("E-BEAT", "radio", commune)
    playing = await make_endpoint("E-PLAY", "radio", commune)
    await make_endpoint("E-SILENT", "radio", commune)
    # A display: radios get no Khmer text (the built-in speech engine has no Khmer voice).
    khmer = await make_endpoint("E-KHMER", "display", commune, profile="eboard", languages=["km"])
    original = await emergency(client, district)
    variant = await emergency(client, district, language="km", translation_of=original)

    await fetch_playlist(client, fetching)
    await beat(client, beating, playlist_etag=await fetch_playlist(client, beating))
    reported = await client.post(
        "/api/v1/device/plays",
        json={"plays": [play("em-1", original, minutes_ago=0)]},
        headers=playing,
    )
    assert reported.status_code == 200, reported.text
    await beat(client, khmer)  # online, but holding no playlist of ours

    answer = await status_of(client, original, district["editor"])
    assert answer["id"] == original
    assert [(b["id"], b["language"], b["translation_of"]) for b in answer["bulletins"]] == [
        (original, "vi", None),
        (variant, "km", original),
    ]
    assert all(b["status"] == "published" and b["revision"] == 1 for b in answer["bulletins"])
    assert all(b["on_air_at"] is not None for b in answer["bulletins"])
    assert answer["counts"] == {
        "targeted": 5,
        "delivered": 3,
        "acknowledged": 2,
        "played": 1,
        "pending": 2,
        "failed": 0,
        "ended": 0,
        "stragglers": 3,
        "stragglers_online": 1,
    }
    assert answer["stragglers"] == ["E-KHMER", "E-FETCH", "E-SILENT"]
    rows = {row["endpoint"]: row for row in answer["endpoints"]["items"]}
    assert {
        code: (
            row["status"],
            row["bulletin_id"] == variant,
            row["delivered_at"] is not None,
            row["acked_at"] is not None,
            row["played_at"] is not None,
            row["online"],
            row["last_seen"] is not None,
        )
        for code, row in rows.items()
    } == {
        "E-BEAT": ("acked", False, True, True, False, True, True),
        "E-FETCH": ("sent", False, True, False, False, False, False),
        "E-KHMER": ("pending", True, False, False, False, True, True),
        "E-PLAY": ("played", False, True, True, True, False, False),
        "E-SILENT": ("pending", False, False, False, False, False, False),
    }
    assert list(rows) == sorted(rows)
    assert answer["endpoints"]["next_cursor"] is None
    assert 0 <= answer["first_delivery_seconds"] <= answer["last_delivery_seconds"]
    assert 0 <= answer["first_acknowledgement_seconds"] <= answer["last_acknowledgement_seconds"]

    # Asked by a variant's id, the answer is the whole emergency's.
    by_variant = await status_of(client, variant, district["editor"])
    assert (by_variant["id"], by_variant["counts"]) == (original, answer["counts"])

    stragglers = await status_of(client, original, district["editor"], state="stragglers")
    assert [row["endpoint"] for row in stragglers["endpoints"]["items"]] == [
        "E-FETCH",
        "E-KHMER",
        "E-SILENT",
    ]

    pages: list[str] = []
    cursor = None
    while True:
        params = {"limit": 2} | ({"cursor": cursor} if cursor else {})
        page = (await status_of(client, original, district["editor"], **params))["endpoints"]
        pages.append(",".join(row["endpoint"] for row in page["items"]))
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert pages == ["E-BEAT,E-FETCH", "E-KHMER,E-PLAY", "E-SILENT"]


async def test_only_editors_and_admins_who_see_the_bulletin_follow_it(
    client: AsyncClient,
    district: dict[str, Any],
    make_user: MakeUser,
    make_endpoint: MakeEndpoint,
    areas: list[AreaRecord],
) -> None:
    await make_endpoint("E-RADIO", "radio", district["commune"])
    bulletin_id = await emergency(client, district)
    path = f"/api/v1/emergencies/{bulletin_id}"
    elsewhere = districts_of(areas, LAI_CHAU)[1]

    admin = await make_user("em.admin", Role.admin, LAI_CHAU)
    assert (await status_of(client, bulletin_id, admin))["counts"]["targeted"] == 1
    for username, role, area in [
        ("em.viewer", Role.viewer, LAI_CHAU),
        ("em.chair", Role.commune_chair, district["commune"]),
    ]:
        refused = await client.get(path, headers=await make_user(username, role, area))
        assert refused.status_code == 403, refused.text
        assert refused.headers["content-type"] == PROBLEM
    assert (await client.get(path, headers=district["publisher"])).status_code == 403

    stranger = await make_user("em.stranger", Role.editor, elsewhere)
    hidden = await client.get(path, headers=stranger)
    assert hidden.status_code == 404, hidden.text
    assert hidden.headers["content-type"] == PROBLEM

    ordinary = await publish(
        client, district["publisher"], district["editor"], text_bulletin(district["commune"])
    )
    conflict = await client.get(f"/api/v1/emergencies/{ordinary}", headers=district["editor"])
    assert conflict.status_code == 409, conflict.text
    assert conflict.headers["content-type"] == PROBLEM
    assert "not an emergency" in conflict.json()["detail"]

    bad_cursor = await client.get(path, params={"cursor": "nope"}, headers=district["editor"])
    assert bad_cursor.status_code == 422


async def test_connected_endpoints_hear_an_unconfirmed_emergency_again_at_a_constant_interval(
    client: AsyncClient,
    district: dict[str, Any],
    make_endpoint: MakeEndpoint,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    commune = district["commune"]
    online = await make_endpoint("R-ONLINE", "radio", commune)
    await make_endpoint("R-OFFLINE", "radio", commune)
    await make_endpoint("R-PUSH", "radio", commune, push_url="https://gateway.example/hook")
    acked = await make_endpoint("R-ACKED", "radio", commune)
    bulletin_id = await emergency(client, district)
    await beat(client, online)  # heard from, holding no playlist of ours: not confirmed
    await beat(client, acked, playlist_etag=await fetch_playlist(client, acked))
    start = utcnow()

    async def announced_at(seconds: int) -> list[str]:
        """The endpoints the reconciler tells of the emergency at start + seconds."""
        async with sessionmaker() as session:
            before = await session.scalar(select(func.coalesce(func.max(OutboxEvent.id), 0)))
            reconciler = Reconciler(
                session,
                timedelta(seconds=60),
                timedelta(seconds=600),
                repush=timedelta(seconds=30),
                offline_after=timedelta(hours=1),
            )
            await reconciler.redrive(start + timedelta(seconds=seconds))
            await session.commit()
            events = (
                await session.scalars(select(OutboxEvent).where(OutboxEvent.id > before))
            ).all()
        assert all(event.payload["type"] == "emergency" for event in events)
        assert all(event.payload["bulletin"]["id"] == bulletin_id for event in events)
        return sorted(event.key for event in events)

    connected = ["R-ONLINE", "R-PUSH"]
    assert await announced_at(25) == []
    assert await announced_at(31) == connected
    assert await announced_at(55) == []
    assert await announced_at(62) == ["R-OFFLINE", *connected]  # its first backoff wait, 60 s
    assert await announced_at(93) == connected  # every 30 s, not doubling
    assert await announced_at(124) == connected
    assert await announced_at(155) == connected
    assert await announced_at(183) == ["R-OFFLINE"]  # its wait has doubled to 120 s

    shown = await status_of(client, bulletin_id, district["editor"])
    drives = {row["endpoint"]: row["drives"] for row in shown["endpoints"]["items"]}
    assert drives == {"R-ACKED": 0, "R-OFFLINE": 2, "R-ONLINE": 5, "R-PUSH": 5}

    revoked = await act(client, bulletin_id, "revoke", district["editor"], reason="Đã hết lũ")
    assert revoked.status_code == 200, revoked.text
    assert await announced_at(3600) == []
    after = await status_of(client, bulletin_id, district["editor"])
    assert (after["counts"]["ended"], after["counts"]["stragglers"], after["stragglers"]) == (
        4,
        0,
        [],
    )
