"""Server-sent events: a connected device hears at once of what concerns it, and only that; a
device that comes back is told what it missed.

ASGITransport buffers whole responses, so the streams are read from the app served by uvicorn,
with its lifespan: the in-process bus and the worker's relay, as on the embedded default."""

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from httpx import AsyncClient, Response
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from nguon.app import create_app
from nguon.areas.sources import AreaRecord
from nguon.dispatch.events import ENDPOINT_EVENTS
from nguon.identity.roles import Role
from nguon.kit.bus import Record
from nguon.kit.db import json_text
from nguon.kit.outbox import Outbox, event_json
from nguon.kit.settings import Settings
from nguon.push.sse import QUEUE_EVENTS, RETRY_MILLISECONDS, EventStreams
from tests.bulletins.test_workflow import act, text_bulletin
from tests.conftest import AN_GIANG, MakeEndpoint, MakeKey, MakeUser, communes_of, free_port
from tests.dispatch.test_deliveries import publish
from tests.processes import ApiProcess, Process, kafka_environment
from tests.serving import serving
from tests.tansu import Broker

EVENTS = "/api/v1/device/events"
# How long a test waits for what it expects before it fails (an upper bound, not a measure).
WAIT_SECONDS = 5


@dataclass(frozen=True, slots=True)
class Hub:
    app: FastAPI | None  # None: the hub runs as separate processes
    http: AsyncClient


@pytest.fixture
async def parties(
    make_user: MakeUser, make_endpoint: MakeEndpoint, areas: list[AreaRecord]
) -> dict[str, Any]:
    """A radio in each of two communes, and the province's publisher and editor."""
    commune_a, commune_b = communes_of(areas, AN_GIANG)[:2]
    return {
        "a": commune_a,
        "b": commune_b,
        "radio_a": await make_endpoint("A-RADIO", "radio", commune_a),
        "radio_b": await make_endpoint("B-RADIO", "radio", commune_b),
        "publisher": await make_user("sse.publisher", Role.publisher, AN_GIANG),
        "editor": await make_user("sse.editor", Role.editor, AN_GIANG),
    }


@pytest.fixture
async def hub(settings: Settings, parties: dict[str, Any]) -> AsyncIterator[Hub]:
    """The app served on a free port, its lifespan running."""
    app = create_app(settings.model_copy(update={"relay_poll_seconds": 0.05}))
    port = free_port()
    async with (
        serving(app, port, timeout_graceful_shutdown=5),
        AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=WAIT_SECONDS) as http,
    ):
        yield Hub(app, http)


@pytest.fixture
async def kafka_hub(
    database_url: str, tansu: Broker, tmp_path: Path, parties: dict[str, Any]
) -> AsyncIterator[Hub]:
    """The production shape: an API process and a worker, apart, talking through Kafka."""
    api = ApiProcess(free_port(), kafka_environment(database_url, tansu, tmp_path / "api"))
    worker = Process(["worker"], kafka_environment(database_url, tansu, tmp_path / "worker"))
    api.start()
    worker.start()
    try:
        async with AsyncClient(base_url=api.base_url, timeout=WAIT_SECONDS) as http:
            yield Hub(None, http)
    finally:
        api.stop()
        worker.stop()


@dataclass(frozen=True, slots=True)
class Message:
    id: int
    event: str
    data: dict[str, Any]


class EventReader:
    """Reads a text/event-stream as a client does, one message at a time."""

    def __init__(self, response: Response) -> None:
        self.lines = response.aiter_lines()

    async def fields(self) -> dict[str, str]:
        """The fields of the next message; comments (the keepalives) are skipped."""
        fields: dict[str, str] = {}
        async with asyncio.timeout(WAIT_SECONDS):
            async for line in self.lines:
                if not line:
                    if fields:
                        return fields
                elif not line.startswith(":"):
                    name, _, value = line.partition(":")
                    value = value.removeprefix(" ")
                    fields[name] = f"{fields[name]}\n{value}" if name in fields else value
        raise AssertionError(f"the stream ended; it had sent {fields}")

    async def message(self) -> Message:
        fields = await self.fields()
        return Message(int(fields["id"]), fields["event"], json.loads(fields["data"]))


@asynccontextmanager
async def listening(
    hub: Hub, key: dict[str, str], **resume: dict[str, str]
) -> AsyncIterator[EventReader]:
    """A device's open stream, once it is subscribed."""
    headers = {**key, **resume.get("headers", {})}
    params = resume.get("params", {})
    async with hub.http.stream("GET", EVENTS, headers=headers, params=params) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        assert response.headers["cache-control"] == "no-store"
        assert response.headers["x-accel-buffering"] == "no"
        events = EventReader(response)
        # The first thing sent; from then on nothing committed is missed.
        assert await events.fields() == {"retry": str(RETRY_MILLISECONDS)}
        yield events


async def test_a_connected_device_hears_an_emergency_and_its_revocation(
    hub: Hub, parties: dict[str, Any]
) -> None:
    radio = parties["radio_a"]
    async with listening(hub, radio) as events:
        emergency = text_bulletin(parties["a"], priority="emergency")
        bulletin_id = await publish(hub.http, parties, emergency)
        heard = await events.message()
        me = (await hub.http.get("/api/v1/device/me", headers=radio)).json()
        assert heard.event == "emergency"
        assert heard.data["id"] == heard.id
        assert heard.data["type"] == "emergency"
        assert heard.data["endpoint"] == "A-RADIO"
        assert heard.data["playlist_version"] == me["playlist_version"]
        assert heard.data["bulletin"]["id"] == bulletin_id
        assert heard.data["bulletin"]["priority"] == "emergency"

        revoked = await act(hub.http, bulletin_id, "revoke", parties["editor"], reason="Phát nhầm")
        assert revoked.status_code == 200, revoked.text
        revocation = await events.message()
        assert revocation.event == "revocation"
        assert revocation.data["bulletin"]["id"] == bulletin_id
        assert revocation.id > heard.id
        assert revocation.data["playlist_version"] > heard.data["playlist_version"]

    # A device that hung up is forgotten.
    assert hub.app is not None
    streams: EventStreams = hub.app.state.event_streams
    async with asyncio.timeout(WAIT_SECONDS):
        while True:
            if streams.connected == 0:
                break
            await asyncio.sleep(0.01)


async def test_with_kafka_a_device_hears_the_worker_relay_from_another_process(
    kafka_hub: Hub, parties: dict[str, Any]
) -> None:
    radio = parties["radio_a"]
    async with listening(kafka_hub, radio) as events:
        # The API process's broadcast consumer joins the topic from its end: give it a moment.
        await asyncio.sleep(2)
        emergency = text_bulletin(parties["a"], priority="emergency")
        bulletin_id = await publish(kafka_hub.http, parties, emergency)
        heard = await events.message()
        assert (heard.event, heard.data["bulletin"]["id"]) == ("emergency", bulletin_id)
        revoked = await act(
            kafka_hub.http, bulletin_id, "revoke", parties["editor"], reason="Phát nhầm"
        )
        assert revoked.status_code == 200, revoked.text
        revocation = await events.message()
        assert (revocation.event, revocation.data["bulletin"]["id"]) == ("revocation", bulletin_id)


async def test_a_device_hears_only_its_own_events(hub: Hub, parties: dict[str, Any]) -> None:
    async with listening(hub, parties["radio_b"]) as events:
        await publish(hub.http, parties, text_bulletin(parties["a"]))
        for_b = await publish(hub.http, parties, text_bulletin(parties["b"]))
        # Commune A's event came first: had it been sent here, it would be heard first.
        heard = await events.message()
        assert (heard.event, heard.data["endpoint"]) == ("publication", "B-RADIO")
        assert heard.data["bulletin"]["id"] == for_b


@pytest.mark.parametrize("via", ["header", "query"])
async def test_a_device_that_comes_back_is_told_what_it_missed_in_order(
    hub: Hub, parties: dict[str, Any], via: str
) -> None:
    radio = parties["radio_a"]
    async with listening(hub, radio) as events:
        await publish(hub.http, parties, text_bulletin(parties["a"]))
        last_seen = (await events.message()).id
    missed = [
        await publish(hub.http, parties, text_bulletin(parties["a"], title=f"Bản tin {n}"))
        for n in range(3)
    ]
    resume = (
        {"headers": {"Last-Event-ID": str(last_seen)}}
        if via == "header"
        else {"params": {"last_event_id": str(last_seen)}}
    )
    async with listening(hub, radio, **resume) as events:
        replayed = [await events.message() for _ in missed]
        assert [message.data["bulletin"]["id"] for message in replayed] == missed
        assert last_seen < replayed[0].id < replayed[1].id < replayed[2].id
        # Then live, without the replayed events again from the bus.
        live = await publish(hub.http, parties, text_bulletin(parties["a"]))
        heard = await events.message()
        assert heard.data["bulletin"]["id"] == live


async def test_only_an_endpoint_key_opens_a_stream(
    client: AsyncClient, parties: dict[str, Any], make_key: MakeKey
) -> None:
    # Refusals are answered before any stream starts, so ASGITransport serves them whole.
    async with asyncio.timeout(WAIT_SECONDS):
        for headers in ({}, {"X-Api-Key": "nguon_not-a-key"}):
            refused = await client.get(EVENTS, headers=headers)
            assert refused.status_code == 401
            assert refused.headers["content-type"] == "application/problem+json"
        vendor = await make_key("vendor", Role.integration, AN_GIANG)
        forbidden = await client.get(EVENTS, headers=vendor)
        assert forbidden.status_code == 403
        assert forbidden.headers["content-type"] == "application/problem+json"
        for resume in (
            {"headers": {"Last-Event-ID": "yesterday"}},
            {"headers": {"Last-Event-ID": "-1"}},
            {"params": {"last_event_id": "1.5"}},
        ):
            headers = {**parties["radio_a"], **resume.get("headers", {})}
            invalid = await client.get(EVENTS, headers=headers, params=resume.get("params", {}))
            assert invalid.status_code == 422, invalid.text
            assert invalid.headers["content-type"] == "application/problem+json"
            assert "last" in invalid.json()["detail"].lower()


def payload(version: int, endpoint: str = "A-RADIO") -> dict[str, Any]:
    return {
        "type": "playlist",
        "endpoint": endpoint,
        "playlist_version": version,
        "bulletin": None,
        "at": "2026-01-01T00:00:00+00:00",
    }


def record(event_id: int, endpoint: str = "A-RADIO") -> Record:
    """An event as the relay puts it on the bus."""
    body = event_json(event_id, json_text(payload(event_id, endpoint)))
    return Record("nguon.endpoint-events", endpoint, body.encode())


async def test_a_device_too_far_behind_is_let_go_to_come_back(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    streams = EventStreams(keepalive_seconds=15)
    stream = streams.stream("A-RADIO", None, sessionmaker)
    assert (await anext(stream)).retry == RETRY_MILLISECONDS
    assert streams.connected == 1
    # The bus is never held up by a client: past the limit, the stream is closed instead.
    await streams.handle([record(n) for n in range(1, QUEUE_EVENTS + 2)])
    assert streams.connected == 0
    # It ends, so that the client reconnects with Last-Event-ID and is replayed.
    assert [message async for message in stream] == []


async def test_an_unreadable_record_is_passed_over(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    streams = EventStreams(keepalive_seconds=15)
    stream = streams.stream("A-RADIO", None, sessionmaker)
    await anext(stream)
    garbage = Record("nguon.endpoint-events", "A-RADIO", b"\xff not json")
    await streams.handle([garbage, record(7, "B-RADIO"), record(8)])
    message = await anext(stream)
    assert (message.id, message.event) == ("8", "playlist")
    assert json.loads(str(message.data))["playlist_version"] == 8
    await stream.aclose()
    assert streams.connected == 0


async def test_a_replayed_event_is_not_sent_again_when_the_bus_brings_it(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    async with sessionmaker() as session:
        outbox = Outbox(session)
        await outbox.emit(ENDPOINT_EVENTS, [("A-RADIO", payload(1)), ("A-RADIO", payload(2))])
        await session.commit()
        first, second = [row.id for row in await outbox.since(ENDPOINT_EVENTS, "A-RADIO", 0, 10)]
    streams = EventStreams(keepalive_seconds=15)
    stream = streams.stream("A-RADIO", first, sessionmaker)
    await anext(stream)
    assert (await anext(stream)).id == str(second)
    # The relay publishes the event the replay sent, and then a new one.
    await streams.handle([record(second), record(second + 1)])
    assert (await anext(stream)).id == str(second + 1)
    await stream.aclose()
