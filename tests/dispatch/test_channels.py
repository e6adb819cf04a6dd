"""One bulletin, every channel: a radio gets its recording, a display its text, pictures and
subtitled video, and a bilingual display shows a bulletin and its variant as one item."""

import hashlib
from typing import Any

import pytest
from httpx import AsyncClient

from nguon.areas.sources import AreaRecord
from nguon.identity.roles import Role
from tests.bulletins.test_workflow import act, text_bulletin
from tests.conftest import AN_GIANG, MakeEndpoint, MakeUser, communes_of
from tests.dispatch.test_deliveries import deliveries, publish, upload_fixture
from tests.media.test_upload import fetch, png_bytes


@pytest.fixture
async def commune(
    client: AsyncClient, make_user: MakeUser, make_endpoint: MakeEndpoint, areas: list[AreaRecord]
) -> dict[str, Any]:
    """A commune with a Vietnamese radio, a bilingual radio and a vi+en e-board, each with
    its own key."""
    code = communes_of(areas, AN_GIANG)[0]
    return {
        "a": code,
        "radio": await make_endpoint("CH-RADIO", "radio", code),
        "radio_bilingual": await make_endpoint(
            "CH-RADIO-EN", "radio", code, languages=["vi", "en"]
        ),
        "board": await make_endpoint(
            "CH-BOARD", "display", code, profile="eboard", languages=["vi", "en"]
        ),
        "publisher": await make_user("channels.publisher", Role.publisher, AN_GIANG),
        "editor": await make_user("channels.editor", Role.editor, AN_GIANG),
    }


async def upload(client: AsyncClient, commune: dict[str, Any], name: str, content: bytes) -> str:
    response = await client.post(
        "/api/v1/media", files={"file": (name, content)}, headers=commune["publisher"]
    )
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def playing(client: AsyncClient, key: dict[str, str]) -> list[dict[str, Any]]:
    """What the endpoint holding the key is given to play now."""
    response = await client.get("/api/v1/device/playlist", headers=key)
    assert response.status_code == 200, response.text
    return list(response.json()["items"])


def emergency(code: str, **fields: Any) -> dict[str, Any]:
    """Emergencies play at once on every channel, whatever the windows and the programme."""
    return text_bulletin(code, **{"title": "Lũ quét", "priority": "emergency", **fields})


async def test_text_audio_and_picture_reach_each_channel_as_what_it_plays(
    client: AsyncClient, commune: dict[str, Any]
) -> None:
    audio = await upload_fixture(client, commune, "tone.mp3")
    picture = await upload(client, commune, "ban-do.png", png_bytes())
    bulletin_id = await publish(client, commune, emergency(commune["a"], media=[audio, picture]))
    (on_radio,) = await playing(client, commune["radio"])
    assert on_radio["bulletin_id"] == bulletin_id
    assert [m["id"] for m in on_radio["media"]] == [audio]
    assert on_radio["body"] is None  # the recording is what the radio plays
    (on_board,) = await playing(client, commune["board"])
    assert on_board["body"] == text_bulletin(commune["a"])["body"]
    assert [(m["id"], m["content_type"]) for m in on_board["media"]] == [(picture, "image/png")]
    assert await deliveries(client, commune, bulletin_id) == {
        "CH-BOARD": "sent",
        "CH-RADIO": "sent",
        "CH-RADIO-EN": "pending",  # reached, and not polled yet
    }


async def test_a_text_bulletin_without_a_recording_is_read_on_radio(
    client: AsyncClient, commune: dict[str, Any]
) -> None:
    picture = await upload(client, commune, "ban-do.png", png_bytes())
    await publish(client, commune, emergency(commune["a"], media=[picture]))
    (on_radio,) = await playing(client, commune["radio"])
    assert on_radio["body"] == text_bulletin(commune["a"])["body"]
    (spoken,) = on_radio["media"]  # its words read aloud, not the picture
    assert (spoken["speech"], spoken["content_type"]) == (True, "audio/mpeg")


async def test_a_video_bulletin_without_subtitles_cannot_be_submitted(
    client: AsyncClient, commune: dict[str, Any]
) -> None:
    video = await upload_fixture(client, commune, "clip.webm")
    created = await client.post(
        "/api/v1/bulletins",
        json=text_bulletin(commune["a"], kind="video", body=None, media=[video]),
        headers=commune["publisher"],
    )
    assert created.status_code == 201, created.text  # a draft may wait for its subtitles
    bulletin_id = created.json()["id"]
    refused = await act(client, bulletin_id, "submit", commune["publisher"])
    assert refused.status_code == 422, refused.text
    assert refused.headers["content-type"] == "application/problem+json"
    detail = refused.json()["detail"]
    assert f"Video {video} has no subtitles" in detail
    assert "Decision 002 Điều 7.2" in detail
    draft = await client.get(f"/api/v1/bulletins/{bulletin_id}", headers=commune["publisher"])
    assert draft.json()["status"] == "draft"
    subtitles = await upload_fixture(client, commune, "clip.vi.vtt")
    edited = await client.patch(
        f"/api/v1/bulletins/{bulletin_id}",
        json={"subtitles": [{"media": subtitles, "language": "vi"}]},
        headers=commune["publisher"],
    )
    assert edited.status_code == 200, edited.text
    assert edited.json()["subtitles"] == [{"media": subtitles, "language": "vi", "video": None}]
    submitted = await act(client, bulletin_id, "submit", commune["publisher"])
    assert submitted.status_code == 200, submitted.text


async def test_displays_get_each_videos_subtitle_tracks_by_language(
    client: AsyncClient, commune: dict[str, Any]
) -> None:
    plain = await upload_fixture(client, commune, "clip.mp4")
    embedded = await upload_fixture(client, commune, "clip-subtitled.webm")
    vietnamese = await upload_fixture(client, commune, "clip.vi.vtt")
    english = await upload_fixture(client, commune, "clip.en.srt")
    await publish(
        client,
        commune,
        emergency(
            commune["a"],
            kind="video",
            body=None,
            media=[plain, embedded],
            subtitles=[
                {"media": vietnamese, "language": "vi", "video": plain},
                {"media": english, "language": "en", "video": plain},
            ],
        ),
    )
    (on_board,) = await playing(client, commune["board"])
    by_id = {media["id"]: media["subtitles"] for media in on_board["media"]}
    vtt, srt = by_id[plain]
    assert (vtt["language"], vtt["url"], vtt["stream_index"]) == (
        "vi",
        f"/api/v1/media/{vietnamese}",
        None,
    )
    # An SRT file reaches displays as its WebVTT rendition.
    assert (srt["language"], srt["url"], srt["content_type"]) == (
        "en",
        f"/api/v1/media/{english}/webvtt",
        "text/vtt",
    )
    served = await fetch(client, srt["url"], commune["board"])
    assert served.status_code == 200
    assert served.content.decode().startswith("WEBVTT")
    assert srt["sha256"] == hashlib.sha256(served.content).hexdigest()
    assert by_id[embedded] == [
        {"language": "vi", "url": None, "content_type": None, "sha256": None, "stream_index": 1}
    ]
    # Video is for displays: the radio has nothing of it, not even its subtitle files.
    assert await playing(client, commune["radio"]) == []
    refused = await client.get(f"/api/v1/media/{vietnamese}", headers=commune["radio"])
    assert refused.status_code == 404


SUBTITLE_REFUSALS = [
    ("subtitle file in media", "in_media", "is a subtitle file; name it in subtitles"),
    ("audio as subtitles", "audio", "in subtitles is audio, not a subtitle file"),
    ("which of two videos", "two_videos", "name no video and the bulletin carries 2 videos"),
    ("a video not carried", "elsewhere", "which is not among the bulletin's media"),
]


@pytest.mark.parametrize(
    ("case", "detail"), [r[1:] for r in SUBTITLE_REFUSALS], ids=[r[0] for r in SUBTITLE_REFUSALS]
)
async def test_subtitles_must_name_a_subtitle_file_for_a_video_of_the_bulletin(
    client: AsyncClient, commune: dict[str, Any], case: str, detail: str
) -> None:
    video = await upload_fixture(client, commune, "clip.webm")
    other = await upload_fixture(client, commune, "clip.mp4")
    subtitles = await upload_fixture(client, commune, "clip.vi.vtt")
    audio = await upload_fixture(client, commune, "tone.mp3")
    fields = {
        "in_media": {"media": [video, subtitles]},
        "audio": {"media": [video], "subtitles": [{"media": audio, "language": "vi"}]},
        "two_videos": {
            "media": [video, other],
            "subtitles": [{"media": subtitles, "language": "vi"}],
        },
        "elsewhere": {
            "media": [video],
            "subtitles": [{"media": subtitles, "language": "vi", "video": other}],
        },
    }[case]
    refused = await client.post(
        "/api/v1/bulletins",
        json=text_bulletin(commune["a"], kind="video", **fields),
        headers=commune["publisher"],
    )
    assert refused.status_code == 422, refused.text
    assert detail in refused.json()["detail"]


async def test_a_bilingual_display_shows_a_bulletin_and_its_variant_as_one_item(
    client: AsyncClient, commune: dict[str, Any]
) -> None:
    original = await publish(client, commune, emergency(commune["a"]))
    variant = await publish(
        client,
        commune,
        emergency(
            commune["a"],
            language="en",
            title="Flash flood",
            body="Leave the stream banks now.",
            translation_of=original,
        ),
    )
    (on_board,) = await playing(client, commune["board"])
    assert (on_board["bulletin_id"], on_board["language"]) == (original, "vi")
    assert on_board["translations"] == [
        {
            "bulletin_id": variant,
            "revision": 1,
            "language": "en",
            "title": "Flash flood",
            "body": "Leave the stream banks now.",
        }
    ]
    # Radios keep one item per language.
    on_radio = await playing(client, commune["radio_bilingual"])
    assert sorted((item["language"], item["translations"]) for item in on_radio) == [
        ("en", []),
        ("vi", []),
    ]
    # The variant was given to the display too: its delivery counts it.
    assert (await deliveries(client, commune, variant))["CH-BOARD"] == "sent"
