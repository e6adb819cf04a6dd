"""Devices report in: their status, and the playlist they hold."""

import asyncio
from datetime import timedelta
from typing import Any

import pytest
from httpx import AsyncClient
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from nguon.areas.sources import AreaRecord
from nguon.endpoints.models import Endpoint, EndpointHeartbeat
from nguon.endpoints.service import held_version
from nguon.identity.roles import Role
from nguon.kit.db import utcnow
from tests.bulletins.test_workflow import act, text_bulletin
from tests.conftest import AN_GIANG, MakeEndpoint, MakeUser, communes_of

PROBLEM = "application/problem+json"
BULLETIN = "0123456789abcdef0123456789abcdef"


@pytest.fixture
async def admin(make_user: MakeUser, areas: list[AreaRecord]) -> dict[str, str]:
    return await make_user("heartbeat.admin", Role.admin, AN_GIANG)


@pytest.fixture
def commune(areas: list[AreaRecord]) -> str:
    return communes_of(areas, AN_GIANG)[0]


async def beat(client: AsyncClient, device: dict[str, str], **fields: Any) -> Any:
    response = await client.post(
        "/api/v1/device/heartbeat", json={"status": "ok", **fields}, headers=device
    )
    assert response.status_code == 200, response.text
    return response.json()


async def endpoint(client: AsyncClient, admin: dict[str, str], code: str) -> Any:
    response = await client.get(f"/api/v1/endpoints/{code}", headers=admin)
    assert response.status_code == 200, response.text
    return response.json()


async def listed(client: AsyncClient, admin: dict[str, str], state: str) -> list[str]:
    response = await client.get("/api/v1/endpoints", params={"state": state}, headers=admin)
    assert response.status_code == 200, response.text
    return [item["code"] for item in response.json()["items"]]


def etag(version: int) -> str:
    return f'"{version}.9f86d081884c7d659a2feaa0"'


async def test_the_last_heartbeat_is_kept_and_shown(
    client: AsyncClient, admin: dict[str, str], make_endpoint: MakeEndpoint, commune: str
) -> None:
    device = await make_endpoint("HB-RADIO", "radio", commune)
    before = await endpoint(client, admin, "HB-RADIO")
    assert (before["last_heartbeat"], before["online"], before["stale"]) == (None, False, False)
    version = before["playlist_version"]

    answer = await beat(
        client,
        device,
        volume=70,
        current_item=BULLETIN,
        playlist_etag=etag(version),
        message="loa ấp 2 rè",
    )
    assert (answer["stale"], answer["playlist_version"]) == (False, version)

    shown = await endpoint(client, admin, "HB-RADIO")
    assert shown["last_heartbeat"] == {
        "received_at": answer["received_at"],
        "status": "ok",
        "volume": 70,
        "current_item": BULLETIN,
        "playlist_etag": etag(version),
        "message": "loa ấp 2 rè",
    }
    assert (shown["online"], shown["stale"]) == (True, False)

    # One row per endpoint: the next heartbeat replaces the last.
    await beat(client, device, status="fault", message="mất điện lưới, chạy ắc quy")
    me = await client.get("/api/v1/device/me", headers=device)
    assert me.status_code == 200
    last = me.json()["last_heartbeat"]
    assert (last["status"], last["volume"], last["current_item"]) == ("fault", None, None)
    assert last["message"] == "mất điện lưới, chạy ắc quy"
    assert me.json()["playlist_version"] == version


async def test_a_devices_first_heartbeats_arriving_together_are_all_taken(
    client: AsyncClient, admin: dict[str, str], make_endpoint: MakeEndpoint, commune: str
) -> None:
    """A device back on the network sends the heartbeats it queued at once; none is refused
    for racing the others to create its record, and one of them is the last word kept."""
    device = await make_endpoint("HB-BURST", "radio", commune)
    volumes = range(10, 70, 10)
    await asyncio.gather(*(beat(client, device, volume=volume) for volume in volumes))
    shown = await endpoint(client, admin, "HB-BURST")
    assert shown["online"] is True
    assert shown["last_heartbeat"]["volume"] in volumes


async def test_offline_lists_the_silent_endpoints(
    client: AsyncClient,
    admin: dict[str, str],
    make_endpoint: MakeEndpoint,
    commune: str,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    beating = await make_endpoint("HB-BEATING", "radio", commune)
    await make_endpoint("HB-SILENT", "radio", commune)
    long_ago = await make_endpoint("HB-LONG-AGO", "radio", commune)
    await beat(client, beating)
    await beat(client, long_ago)
    async with sessionmaker() as session:
        # The last word from this one came an hour ago, well past the default 180 s.
        silent_id = await session.scalar(select(Endpoint.id).where(Endpoint.code == "HB-LONG-AGO"))
        await session.execute(
            update(EndpointHeartbeat)
            .where(EndpointHeartbeat.endpoint_id == silent_id)
            .values(received_at=utcnow() - timedelta(hours=1))
        )
        await session.commit()

    assert await listed(client, admin, "offline") == ["HB-LONG-AGO", "HB-SILENT"]
    everything = await client.get("/api/v1/endpoints", headers=admin)
    online = {item["code"]: item["online"] for item in everything.json()["items"]}
    assert online == {"HB-BEATING": True, "HB-LONG-AGO": False, "HB-SILENT": False}


async def test_stale_lists_endpoints_that_hold_an_older_playlist(
    client: AsyncClient, admin: dict[str, str], make_endpoint: MakeEndpoint, commune: str
) -> None:
    device = await make_endpoint("HB-STALE", "radio", commune)
    await make_endpoint("HB-NEVER", "radio", commune)
    answer = await beat(client, device, playlist_etag='"0.abc"')
    assert answer["stale"] is True
    assert await listed(client, admin, "stale") == ["HB-STALE"]
    assert (await endpoint(client, admin, "HB-STALE"))["stale"] is True

    current = (await endpoint(client, admin, "HB-STALE"))["playlist_version"]
    answer = await beat(client, device, playlist_etag=f'W/"{current}.abc"')
    assert answer["stale"] is False
    assert await listed(client, admin, "stale") == []
    assert (await endpoint(client, admin, "HB-STALE"))["stale"] is False

    # A device that holds no playlist of ours is stale too.
    assert (await beat(client, device))["stale"] is True
    assert await listed(client, admin, "stale") == ["HB-STALE"]


async def test_holding_the_current_playlist_acknowledges_its_deliveries(
    client: AsyncClient,
    admin: dict[str, str],
    make_user: MakeUser,
    make_endpoint: MakeEndpoint,
    commune: str,
) -> None:
    device = await make_endpoint("HB-ACK", "radio", commune)
    publisher = await make_user("heartbeat.publisher", Role.publisher, AN_GIANG)
    editor = await make_user("heartbeat.editor", Role.editor, AN_GIANG)
    created = await client.post("/api/v1/bulletins", json=text_bulletin(commune), headers=publisher)
    assert created.status_code == 201, created.text
    bulletin_id = created.json()["id"]
    await act(client, bulletin_id, "submit", publisher)
    assert (await act(client, bulletin_id, "approve", editor)).status_code == 200

    async def status() -> str:
        response = await client.get(f"/api/v1/bulletins/{bulletin_id}/deliveries", headers=editor)
        assert response.status_code == 200, response.text
        (item,) = response.json()["items"]
        return str(item["status"])

    assert await status() == "pending"
    current = (await endpoint(client, admin, "HB-ACK"))["playlist_version"]
    await beat(client, device, playlist_etag=etag(current - 1))
    assert await status() == "pending"
    await beat(client, device, playlist_etag=etag(current))
    assert await status() == "acked"


async def test_changing_what_an_endpoint_plays_moves_its_playlist_on(
    client: AsyncClient, admin: dict[str, str], make_endpoint: MakeEndpoint, commune: str
) -> None:
    device = await make_endpoint("HB-PATCH", "radio", commune)
    version = (await endpoint(client, admin, "HB-PATCH"))["playlist_version"]
    await beat(client, device, playlist_etag=etag(version))

    renamed = await client.patch(
        "/api/v1/endpoints/HB-PATCH", json={"name": "Cụm loa chợ"}, headers=admin
    )
    assert renamed.status_code == 200, renamed.text
    assert renamed.json()["playlist_version"] == version

    windows = {"mon": ["05:00-06:00"], "fri": ["17:00-19:00"]}
    changed = await client.patch(
        "/api/v1/endpoints/HB-PATCH", json={"windows": windows}, headers=admin
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["playlist_version"] == version + 1
    shown = await endpoint(client, admin, "HB-PATCH")
    assert (shown["playlist_version"], shown["stale"]) == (version + 1, True)
    assert (await beat(client, device, playlist_etag=etag(version)))["stale"] is True

    switched_off = await client.patch(
        "/api/v1/endpoints/HB-PATCH", json={"enabled": False}, headers=admin
    )
    assert switched_off.json()["playlist_version"] == version + 2
    languages = await client.patch(
        "/api/v1/endpoints/HB-PATCH", json={"languages": ["vi", "km"]}, headers=admin
    )
    assert languages.json()["playlist_version"] == version + 3


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"status": "ok", "volume": 150}, "body.volume"),
        ({"status": "sleeping"}, "body.status"),
        ({"status": "ok", "current_item": "not-a-bulletin"}, "body.current_item"),
        ({"status": "ok", "playlist_etag": '"1.' + "a" * 100 + '"'}, "body.playlist_etag"),
        ({"status": "ok", "message": "x" * 501}, "body.message"),
        ({"status": "ok", "battery": 80}, "body.battery"),
        ({}, "body.status"),
    ],
    ids=["volume", "status", "current_item", "etag", "message", "unknown", "missing"],
)
async def test_bad_heartbeats_are_refused(
    client: AsyncClient,
    admin: dict[str, str],
    make_endpoint: MakeEndpoint,
    commune: str,
    body: dict[str, Any],
    field: str,
) -> None:
    device = await make_endpoint("HB-BAD", "radio", commune)
    response = await client.post("/api/v1/device/heartbeat", json=body, headers=device)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == PROBLEM
    assert field in {error["field"] for error in response.json()["errors"]}
    assert (await endpoint(client, admin, "HB-BAD"))["last_heartbeat"] is None


async def test_only_devices_send_heartbeats(
    client: AsyncClient, admin: dict[str, str], make_endpoint: MakeEndpoint, commune: str
) -> None:
    refused = await client.post("/api/v1/device/heartbeat", json={"status": "ok"}, headers=admin)
    assert refused.status_code == 403
    assert refused.headers["content-type"] == PROBLEM


@pytest.mark.parametrize(
    ("etag_header", "version"),
    [
        ('"7.9f86d081"', 7),
        ('W/"7.9f86d081"', 7),
        ("7.9f86d081", 7),
        ('"12"', None),
        ('"x7.9f86d081"', None),
        ('"٧.9f86d081"', None),  # a digit, but not an ASCII one
        ('"99999999999.9f86d081"', None),  # beyond any version the hub can hold
        ("", None),
        (None, None),
    ],
)
def test_the_held_version_is_read_from_the_playlist_etag(
    etag_header: str | None, version: int | None
) -> None:
    assert held_version(etag_header) == version


@pytest.mark.parametrize("field", ["name", "languages", "enabled"])
async def test_a_null_for_a_field_that_needs_a_value_is_refused_and_changes_nothing(
    client: AsyncClient,
    admin: dict[str, str],
    make_endpoint: MakeEndpoint,
    commune: str,
    field: str,
) -> None:
    await make_endpoint("HB-NULL", "radio", commune)
    before = await endpoint(client, admin, "HB-NULL")
    refused = await client.patch("/api/v1/endpoints/HB-NULL", json={field: None}, headers=admin)
    assert refused.status_code == 422, refused.text
    assert refused.json()["errors"][0]["field"] == f"body.{field}"
    assert await endpoint(client, admin, "HB-NULL") == before
