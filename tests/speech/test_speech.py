"""Text bulletins read aloud for radio: made when sent for approval, seen by the editor,
played by radios once ready, and never a silent item."""

import hashlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from httpx import ASGITransport, AsyncClient

from nguon.app import create_app
from nguon.areas.sources import AreaRecord
from nguon.identity.roles import Role
from nguon.kit.settings import Settings
from nguon.media.codec import loudness
from tests.bulletins.test_workflow import act, text_bulletin
from tests.conftest import LAI_CHAU, MakeEndpoint, MakeUser, communes_of, districts_of
from tests.speech.service import TOKEN, SpeechProvider

TITLE = "Thông báo cắt điện"
BODY = "UBND xã thông báo: ngày 15/10/2026 từ 7:00 đến 14h30 cắt điện tại ấp 3."


@pytest.fixture
async def newsroom(
    make_user: MakeUser, make_endpoint: MakeEndpoint, areas: list[AreaRecord]
) -> dict[str, Any]:
    """A commune with a Vietnamese radio, a Khmer radio and a Khmer e-board; its publisher
    and the province's editor."""
    district = districts_of(areas, LAI_CHAU)[0]
    commune = communes_of(areas, district)[0]
    return {
        "commune": commune,
        "radio": await make_endpoint("R-VI", "radio", commune),
        "khmer_radio": await make_endpoint("R-KM", "radio", commune, languages=["km"]),
        "khmer_board": await make_endpoint(
            "B-KM", "display", commune, profile="eboard", languages=["km"]
        ),
        "publisher": await make_user("speech.publisher", Role.publisher, commune),
        "editor": await make_user("speech.editor", Role.editor, LAI_CHAU),
    }


async def submitted(client: AsyncClient, newsroom: dict[str, Any], **fields: Any) -> Any:
    body = text_bulletin(newsroom["commune"], title=TITLE, body=BODY, priority="priority")
    created = await client.post(
        "/api/v1/bulletins", json={**body, **fields}, headers=newsroom["publisher"]
    )
    assert created.status_code == 201, created.text
    answer = await act(client, created.json()["id"], "submit", newsroom["publisher"])
    assert answer.status_code == 200, answer.text
    return answer.json()


async def approved(client: AsyncClient, newsroom: dict[str, Any], bulletin_id: str) -> Any:
    answer = await act(client, bulletin_id, "approve", newsroom["editor"])
    assert answer.status_code == 200, answer.text
    return answer.json()


async def radio_items(client: AsyncClient, key: dict[str, str]) -> list[Any]:
    answer = await client.get("/api/v1/device/playlist", headers=key)
    assert answer.status_code == 200, answer.text
    playlist = answer.json()
    return [*playlist["items"], *playlist["upcoming"]]


async def played(client: AsyncClient, key: dict[str, str], bulletin_id: str) -> Any:
    """The radio's first item (it plays the bulletin at every window): the one bulletin."""
    items = await radio_items(client, key)
    assert items
    assert {item["bulletin_id"] for item in items} == {bulletin_id}
    return items[0]


async def test_an_approved_text_bulletin_reaches_the_radio_as_broadcast_speech(
    client: AsyncClient, newsroom: dict[str, Any], settings: Settings, tmp_path: Path
) -> None:
    sent = await submitted(client, newsroom)
    # The editor listens before approving.
    seen = await client.get(f"/api/v1/bulletins/{sent['id']}", headers=newsroom["editor"])
    (speech,) = seen.json()["speech"]
    assert (speech["language"], speech["status"], speech["engine"]) == ("vi", "ready", "espeak")
    assert speech["voice"] == "aav/vi"
    assert speech["media"]["content_type"] == "audio/mpeg"
    assert speech["media"]["duration_s"] > 3
    assert speech == sent["speech"][0]
    await approved(client, newsroom, sent["id"])

    item = await played(client, newsroom["radio"], sent["id"])
    assert (item["kind"], item["body"]) == ("text", BODY)
    (medium,) = item["media"]
    assert medium["speech"] is True
    assert medium["content_type"] == "audio/mpeg"
    assert medium["duration_s"] > 3
    assert medium["url"] == speech["media"]["url"]

    download = await client.get(medium["url"], headers=newsroom["radio"])
    assert download.status_code == 200
    assert len(download.content) == medium["size"]
    assert hashlib.sha256(download.content).hexdigest() == medium["sha256"]
    kept = tmp_path / "speech.mp3"
    kept.write_bytes(download.content)
    measured = loudness(kept).integrated_lufs
    assert abs(measured - settings.broadcast_loudness_lufs) <= 1.0


async def test_khmer_has_no_voice_so_radios_get_nothing_and_displays_the_text(
    client: AsyncClient, newsroom: dict[str, Any]
) -> None:
    sent = await submitted(client, newsroom, language="km", title="ជូនដំណឹង", body="ជំរាបសួរ")
    (speech,) = sent["speech"]
    assert (speech["language"], speech["status"], speech["media"]) == ("km", "no_voice", None)
    assert "no voice for the language km" in speech["detail"]
    await approved(client, newsroom, sent["id"])

    assert await radio_items(client, newsroom["khmer_radio"]) == []
    shown = await played(client, newsroom["khmer_board"], sent["id"])
    assert (shown["body"], shown["media"]) == ("ជំរាបសួរ", [])


async def test_the_radio_key_reads_only_the_speech_it_was_given(
    client: AsyncClient, newsroom: dict[str, Any]
) -> None:
    sent = await submitted(client, newsroom)
    url = sent["speech"][0]["media"]["url"]
    assert (await client.get(url, headers=newsroom["radio"])).status_code == 404  # not on air
    await approved(client, newsroom, sent["id"])
    assert (await client.get(url, headers=newsroom["radio"])).status_code == 200
    assert (await client.get(url, headers=newsroom["khmer_radio"])).status_code == 404


async def test_the_same_text_again_uses_the_stored_speech(
    client: AsyncClient, newsroom: dict[str, Any]
) -> None:
    first = await submitted(client, newsroom)
    second = await submitted(client, newsroom)
    assert first["speech"][0]["media"] == second["speech"][0]["media"]


async def test_making_the_speech_again_keeps_the_stored_mp3(
    client: AsyncClient, newsroom: dict[str, Any]
) -> None:
    sent = await submitted(client, newsroom)
    answer = await client.post(
        f"/api/v1/bulletins/{sent['id']}/speech", headers=newsroom["publisher"]
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["speech"] == sent["speech"]


# --- a provider's speech service ---------------------------------------------------------------


@pytest.fixture
async def http_client(
    settings: Settings, provider: tuple[SpeechProvider, str]
) -> AsyncIterator[AsyncClient]:
    """The hub, speaking through the provider's service."""
    _service, url = provider
    speaking = Settings(
        **{
            **settings.model_dump(),
            "speech_engine": "http",
            "speech_url": url,
            "speech_token": TOKEN,
            "speech_timeout_seconds": 5,
        }
    )
    app = create_app(speaking)
    await app.state.storage.ensure_ready()
    transport = ASGITransport(app=app)
    async with AsyncClient(transport=transport, base_url="http://hub.test") as http:
        yield http
    await app.state.engine.dispose()


async def test_the_provider_reads_the_bulletin_and_the_radio_plays_it(
    http_client: AsyncClient, newsroom: dict[str, Any], provider: tuple[SpeechProvider, str]
) -> None:
    service, _url = provider
    sent = await submitted(http_client, newsroom)
    (speech,) = sent["speech"]
    assert (speech["status"], speech["engine"], speech["voice"]) == ("ready", "http", "vi")
    assert speech["media"]["duration_s"] == pytest.approx(2.0, abs=0.1)
    (request,) = service.received
    assert request["authorization"] == f"Bearer {TOKEN}"
    assert request["body"]["language"] == "vi"
    assert request["body"]["text"].startswith("thông báo cắt điện. uỷ ban nhân dân xã")
    await approved(http_client, newsroom, sent["id"])
    item = await played(http_client, newsroom["radio"], sent["id"])
    assert [m["speech"] for m in item["media"]] == [True]


async def test_a_language_the_provider_refuses_is_no_voice(
    http_client: AsyncClient, newsroom: dict[str, Any]
) -> None:
    sent = await submitted(http_client, newsroom, language="km", body="ជំរាបសួរ")
    (speech,) = sent["speech"]
    assert speech["status"] == "no_voice"
    assert "HTTP 422" in speech["detail"]


async def test_a_failing_provider_keeps_radios_silent_until_the_speech_is_made_again(
    http_client: AsyncClient, newsroom: dict[str, Any], provider: tuple[SpeechProvider, str]
) -> None:
    service, _url = provider
    service.failing = True
    sent = await submitted(http_client, newsroom)
    (speech,) = sent["speech"]
    assert (speech["status"], speech["media"]) == ("failed", None)
    assert "HTTP 500" in speech["detail"]
    on_air = await approved(http_client, newsroom, sent["id"])  # displays still get the text
    assert on_air["status"] == "published"
    assert await radio_items(http_client, newsroom["radio"]) == []

    service.failing = False
    again = await http_client.post(
        f"/api/v1/bulletins/{sent['id']}/speech", headers=newsroom["publisher"]
    )
    assert again.status_code == 200, again.text
    assert again.json()["speech"][0]["status"] == "ready"
    item = await played(http_client, newsroom["radio"], sent["id"])
    assert [m["speech"] for m in item["media"]] == [True]
