"""Unchanged polls are answered from memory; the memory never outlives a change."""

from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from nguon.app import create_app
from nguon.areas.sources import AreaRecord
from nguon.endpoints.models import Endpoint
from nguon.identity.roles import Role
from nguon.kit.changes import publish_changes
from nguon.kit.db import utcnow
from nguon.kit.settings import Settings
from tests.bulletins.test_workflow import text_bulletin
from tests.conftest import AN_GIANG, MakeEndpoint, MakeUser, communes_of
from tests.dispatch.test_queue import publish

PLAYLIST = "/api/v1/device/playlist"


@pytest.fixture
async def board(
    client: AsyncClient, make_user: MakeUser, make_endpoint: MakeEndpoint, areas: list[AreaRecord]
) -> dict[str, Any]:
    commune = communes_of(areas, AN_GIANG)[0]
    key = await make_endpoint("CACHE-BOARD", "display", commune, profile="eboard")
    people = {
        "publisher": await make_user("cache.publisher", Role.publisher, AN_GIANG),
        "editor": await make_user("cache.editor", Role.editor, AN_GIANG),
        "admin": await make_user("cache.admin", Role.admin, AN_GIANG),
    }
    await publish(
        client, people["publisher"], people["editor"], text_bulletin(AN_GIANG, priority="emergency")
    )
    return {"key": key, **people}


async def poll(client: AsyncClient, key: dict[str, str], etag: str | None = None) -> Any:
    headers = {**key, "If-None-Match": etag} if etag else key
    return await client.get(PLAYLIST, headers=headers)


async def test_a_replaced_key_gets_no_answer_from_memory(
    client: AsyncClient, board: dict[str, Any]
) -> None:
    etag = (await poll(client, board["key"])).headers["etag"]
    assert (await poll(client, board["key"], etag)).status_code == 304
    renewed = await client.post("/api/v1/endpoints/CACHE-BOARD/key", headers=board["admin"])
    assert renewed.status_code == 200, renewed.text
    old_key = await poll(client, board["key"], etag)
    assert old_key.status_code == 401
    assert old_key.headers["content-type"] == "application/problem+json"
    new_key = {"X-Api-Key": renewed.json()["api_key"]}
    assert (await poll(client, new_key, etag)).status_code == 304


async def test_a_switched_off_endpoint_is_told_at_once(
    client: AsyncClient, board: dict[str, Any]
) -> None:
    etag = (await poll(client, board["key"])).headers["etag"]
    switched = await client.patch(
        "/api/v1/endpoints/CACHE-BOARD", json={"enabled": False}, headers=board["admin"]
    )
    assert switched.status_code == 200, switched.text
    answer = await poll(client, board["key"], etag)
    assert answer.status_code == 200
    assert answer.json()["items"] == []


async def flash_flood(client: AsyncClient, board: dict[str, Any]) -> None:
    """A new emergency on the board: its playlist changes."""
    await publish(
        client,
        board["publisher"],
        board["editor"],
        text_bulletin(AN_GIANG, title="Lũ quét", priority="emergency"),
    )


@pytest.fixture
async def second_process(settings: Settings, engine: AsyncEngine) -> AsyncIterator[FastAPI]:
    """Another API process on the same database, with caches of its own."""
    application = create_app(settings)
    yield application
    await application.state.engine.dispose()


async def test_another_process_learns_a_change_from_the_database(
    client: AsyncClient, board: dict[str, Any], second_process: FastAPI
) -> None:
    transport = ASGITransport(app=second_process)
    async with AsyncClient(transport=transport, base_url="http://hub-2.test") as other:
        etag = (await poll(other, board["key"])).headers["etag"]
        assert (await poll(other, board["key"], etag)).status_code == 304
        since = utcnow() - timedelta(seconds=1)
        await flash_flood(client, board)
        state = second_process.state
        await publish_changes(state.sessionmaker, state.changes, state.change_sources, since)
        changed = await poll(other, board["key"], etag)
        assert changed.status_code == 200
        assert "Lũ quét" in {item["title"] for item in changed.json()["items"]}


async def test_a_change_heard_again_keeps_the_new_playlist_in_memory(
    client: AsyncClient, board: dict[str, Any], second_process: FastAPI
) -> None:
    """The sync loop reads each change on several passes (they overlap): after a province-wide
    emergency, ten thousand devices fetch the new playlist once, not once per pass."""
    state = second_process.state
    transport = ASGITransport(app=second_process)
    async with AsyncClient(transport=transport, base_url="http://hub-2.test") as other:
        since = utcnow() - timedelta(seconds=1)
        await flash_flood(client, board)
        await publish_changes(state.sessionmaker, state.changes, state.change_sources, since)
        fetched = await poll(other, board["key"])
        assert "Lũ quét" in {item["title"] for item in fetched.json()["items"]}
        async with state.sessionmaker() as session:
            endpoint_id = await session.scalar(
                select(Endpoint.id).where(Endpoint.code == "CACHE-BOARD")
            )
        assert endpoint_id is not None
        rendered = state.playlists.get(endpoint_id, utcnow())
        assert rendered is not None
        await publish_changes(state.sessionmaker, state.changes, state.change_sources, since)
        assert state.playlists.get(endpoint_id, utcnow()) is rendered
        assert (await poll(other, board["key"], fetched.headers["etag"])).status_code == 304


def poll_figures(metrics: str) -> tuple[float, float]:
    """Unchanged polls counted, and device polls timed, in the hub's request metrics."""
    samples = dict(line.rpartition(" ")[::2] for line in metrics.splitlines())
    route = f'method="GET",route="{PLAYLIST}"'
    counted = samples.get(f'nguon_http_requests_total{{{route},status="304"}}', "0")
    timed = samples.get(f"nguon_http_request_duration_seconds_count{{{route}}}", "0")
    return float(counted), float(timed)


async def test_unchanged_polls_carry_a_request_id_and_are_counted(
    client: AsyncClient, board: dict[str, Any]
) -> None:
    etag = (await poll(client, board["key"])).headers["etag"]
    before = poll_figures((await client.get("/metrics")).text)
    traced = await client.get(
        PLAYLIST, headers={**board["key"], "If-None-Match": etag, "X-Request-Id": "poll-7"}
    )
    assert traced.status_code == 304
    assert traced.headers["x-request-id"] == "poll-7"
    fresh_ids = set()
    for _ in range(3):
        unchanged = await poll(client, board["key"], etag)
        assert unchanged.status_code == 304
        assert len(unchanged.headers["x-request-id"]) == 32
        fresh_ids.add(unchanged.headers["x-request-id"])
    assert len(fresh_ids) == 3
    after = poll_figures((await client.get("/metrics")).text)
    assert (after[0] - before[0], after[1] - before[1]) == (4, 4)
