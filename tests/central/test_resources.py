"""The audio of CAP alerts: inline or fetched from an allowed host, checked, then on radios."""

import hashlib
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any

import pytest
from httpx import AsyncClient, Response
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from nguon.kit.settings import Settings
from nguon.media.models import MediaObject
from tests.central.conftest import counts, playlist, refused
from tests.central.simulator import (
    Info,
    Resource,
    cap_digest,
    in_hours,
    inline,
    linked,
    message,
)
from tests.conftest import free_port
from tests.serving import serving

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "media"
MP3 = (FIXTURES / "tone.mp3").read_bytes()  # 24,494 bytes
OGG = (FIXTURES / "tone.ogg").read_bytes()  # 7,787 bytes
WAV = (FIXTURES / "tone.wav").read_bytes()
VIDEO = (FIXTURES / "clip.mp4").read_bytes()
ALLOWED_HOST = "127.0.0.1"


@pytest.fixture
def settings(settings: Settings, request: pytest.FixtureRequest) -> Settings:
    """Audio may come from this machine by its address (not as `localhost`); a test may change
    more settings by parametrizing this fixture."""
    allowed = {"central_resource_hosts": f"{ALLOWED_HOST}, media.example"}
    return settings.model_copy(update={**allowed, **getattr(request, "param", {})})


class AudioServer:
    """The central system's media server: files, redirects and failures at fixed paths."""

    def __init__(self) -> None:
        self.port = free_port()
        self.answers: dict[str, tuple[int, list[tuple[bytes, bytes]], bytes]] = {}
        self.requests: list[str] = []

    def url(self, path: str, host: str = ALLOWED_HOST) -> str:
        return f"http://{host}:{self.port}{path}"

    def serve(self, path: str, content: bytes) -> str:
        self.answers[path] = (200, [(b"content-type", b"application/octet-stream")], content)
        return self.url(path)

    def redirect(self, path: str, location: str) -> str:
        self.answers[path] = (302, [(b"location", location.encode())], b"")
        return self.url(path)

    def fail(self, path: str, status: int) -> str:
        self.answers[path] = (status, [], b"")
        return self.url(path)

    async def app(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        assert scope["type"] == "http"
        self.requests.append(scope["path"])
        status, headers, body = self.answers.get(scope["path"], (404, [], b""))
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})


@pytest.fixture
async def audio_server() -> AsyncIterator[AudioServer]:
    server = AudioServer()
    async with serving(server.app, server.port, lifespan="off", interface="asgi3"):
        yield server


async def send_audio(hub: dict[str, Any], *resources: Resource) -> Response:
    response: Response = await hub["central"].send(
        message(infos=(Info(expires=in_hours(6), resources=resources),))
    )
    return response


async def refuses_each(
    hub: dict[str, Any],
    status: int,
    answer: str,
    cases: Sequence[tuple[Sequence[Resource], str]],
) -> None:
    """Each message (an info with the resources) is refused with the answer, and a detail that
    says the given words."""
    for resources, said in cases:
        detail = await refused(await send_audio(hub, *resources), status, answer)
        assert said in detail, detail


NothingStays = Callable[[], Awaitable[None]]


@pytest.fixture
def nothing_stays(
    sessionmaker: async_sessionmaker[AsyncSession], settings: Settings
) -> NothingStays:
    """Checks that no bulletin, alert or media row, stored file or working directory is left."""

    async def check() -> None:
        assert await counts(sessionmaker) == (0, 0)
        async with sessionmaker() as session:
            assert await session.scalar(select(func.count()).select_from(MediaObject)) == 0
        stored = (settings.data_dir / "media").rglob("*")
        assert [path for path in stored if path.is_file() and path.name != ".ready"] == []
        assert list(settings.data_dir.glob("cap-*")) == []

    return check


async def bulletin(client: AsyncClient, hub: dict[str, Any], bulletin_id: str) -> dict[str, Any]:
    response = await client.get(f"/api/v1/bulletins/{bulletin_id}", headers=hub["admin"])
    assert response.status_code == 200, response.text
    return dict(response.json())


async def test_inline_audio_plays_on_radios_beside_the_text(
    client: AsyncClient, hub: dict[str, Any]
) -> None:
    # A map from a host nobody allowed: not audio, so not fetched and no refusal.
    picture = Resource(mime_type="image/png", uri="https://elsewhere.example/map.png")
    sent = await send_audio(hub, picture, inline(MP3))
    assert sent.status_code == 201, sent.text
    text_id, audio_id = sent.json()["alert"]["bulletins"]
    on_radio = {item["bulletin_id"]: item for item in await playlist(client, hub["radio"])}
    assert {i: item["kind"] for i, item in on_radio.items()} == {text_id: "text", audio_id: "audio"}
    [played] = on_radio[audio_id]["media"]
    assert played["url"].endswith("/broadcast")  # transcoded for radio like an upload
    assert [item["bulletin_id"] for item in await playlist(client, hub["board"])] == [text_id]

    text, audio = await bulletin(client, hub, text_id), await bulletin(client, hub, audio_id)
    assert [m["sha256"] for m in audio["media_details"]] == [hashlib.sha256(MP3).hexdigest()]
    shared = ("title", "body", "targets", "valid_from", "valid_until", "language", "category")
    shared += ("priority", "level", "exercise")
    assert {name: audio[name] for name in shared} == {name: text[name] for name in shared}


async def test_audio_at_an_allowed_host_is_fetched_and_checked(
    client: AsyncClient, hub: dict[str, Any], audio_server: AudioServer
) -> None:
    audio_server.serve("/tone.wav", WAV)
    # A redirect on the same host is followed.
    latest = audio_server.redirect("/latest.wav", "/tone.wav")
    sent = await send_audio(hub, linked(latest, WAV))
    assert sent.status_code == 201, sent.text
    assert audio_server.requests == ["/latest.wav", "/tone.wav"]
    _text_id, audio_id = sent.json()["alert"]["bulletins"]
    audio = await bulletin(client, hub, audio_id)
    assert [m["sha256"] for m in audio["media_details"]] == [hashlib.sha256(WAV).hexdigest()]
    assert audio_id in [item["bulletin_id"] for item in await playlist(client, hub["radio"])]


async def test_audio_from_any_other_host_is_refused_unfetched(
    hub: dict[str, Any], audio_server: AudioServer, nothing_stays: NothingStays
) -> None:
    audio_server.serve("/tone.mp3", MP3)
    # The same machine under another name, directly or through a redirect.
    elsewhere = audio_server.url("/tone.mp3", host="localhost")
    away = audio_server.redirect("/away.mp3", elsewhere)
    cases = [((linked(uri, MP3),), "localhost") for uri in (elsewhere, away)]
    await refuses_each(hub, 422, "resource-host-not-allowed", cases)
    assert audio_server.requests == ["/away.mp3"]
    await nothing_stays()


async def test_a_digest_mismatch_is_refused_before_anything_is_stored(
    hub: dict[str, Any], audio_server: AudioServer, nothing_stays: NothingStays
) -> None:
    served = audio_server.serve("/tone.mp3", MP3)
    wrong = cap_digest(OGG)
    cases = [
        ((resource,), cap_digest(MP3))
        for resource in (inline(MP3, digest=wrong), linked(served, MP3, digest=wrong))
    ]
    await refuses_each(hub, 422, "resource-digest-mismatch", cases)
    await nothing_stays()


@pytest.mark.parametrize("settings", [{"media_max_audio_bytes": 20_000}], indirect=True)
async def test_audio_over_the_limit_or_its_declared_size_is_refused(
    hub: dict[str, Any], audio_server: AudioServer, nothing_stays: NothingStays
) -> None:
    big = audio_server.serve("/tone.mp3", MP3)
    small = audio_server.serve("/tone.ogg", OGG)
    cases = (
        ((inline(MP3, size=None),), "over 20000 bytes, the most audio takes"),
        # Without a size, reading stops at the limit.
        ((Resource(uri=big),), "over 20000 bytes, the most audio takes"),
        # A declared size over the limit is not even fetched.
        ((linked(big, MP3),), "its size, 24494 bytes, is over 20000 bytes"),
        ((linked(small, OGG, size=1_000),), "over 1000 bytes, the size it declares"),
    )
    await refuses_each(hub, 422, "resource-too-large", cases)
    assert audio_server.requests == ["/tone.mp3", "/tone.ogg"]
    await nothing_stays()


async def test_audio_that_cannot_be_fetched_is_unavailable(
    hub: dict[str, Any], audio_server: AudioServer, nothing_stays: NothingStays
) -> None:
    broken = audio_server.fail("/tone.mp3", 500)
    nobody = f"http://{ALLOWED_HOST}:{free_port()}/tone.mp3"
    cases = [((Resource(uri=broken),), "answered 500"), ((Resource(uri=nobody),), "ConnectError")]
    await refuses_each(hub, 502, "resource-unavailable", cases)
    await nothing_stays()


async def test_what_is_not_good_audio_is_refused_and_nothing_stays(
    hub: dict[str, Any], nothing_stays: NothingStays
) -> None:
    truncated = WAV[: len(WAV) // 2]
    cases = (
        ((inline(VIDEO, mime_type="audio/mp4"),), "video/mp4"),
        # The good first audio was stored before the second failed to decode: it goes too.
        ((inline(MP3), inline(truncated, mime_type="audio/wav")), "truncated"),
        ((Resource(deref_uri="bm90IGF1ZGlv!"),), "not base64"),
        ((Resource(),), "derefUri or"),
    )
    await refuses_each(hub, 422, "resource-invalid", cases)
    await nothing_stays()


async def test_a_cancel_takes_the_text_and_the_audio_off_the_air(
    client: AsyncClient, hub: dict[str, Any]
) -> None:
    alert = message(infos=(Info(expires=in_hours(6), resources=(inline(OGG),)),))
    sent = await hub["central"].send(alert)
    assert sent.status_code == 201, sent.text
    on_air = sent.json()["alert"]["bulletins"]
    assert len(await playlist(client, hub["radio"])) == 2
    cancelled = await hub["central"].send(message(msg_type="Cancel", references=(alert,), infos=()))
    assert cancelled.status_code == 201, cancelled.text
    assert cancelled.json()["ended"] == on_air
    assert await playlist(client, hub["radio"]) == []
    for bulletin_id in on_air:
        assert (await bulletin(client, hub, bulletin_id))["status"] == "revoked"
