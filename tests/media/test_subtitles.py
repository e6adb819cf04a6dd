"""Subtitles for display video: WebVTT and SRT files checked cue by cue, and the subtitle
streams a video carries inside itself."""

import pytest
from httpx import ASGITransport, AsyncClient
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from nguon.app import create_app
from nguon.identity.roles import Role
from nguon.kit.settings import Settings
from tests.conftest import AN_GIANG, MakeUser
from tests.media.test_upload import (
    FIXTURES,
    PROBLEM,
    fetch,
    media_rows,
    png_bytes,
    stored_files,
    upload,
)

VTT = (FIXTURES / "clip.vi.vtt").read_bytes()
SRT = (FIXTURES / "clip.en.srt").read_bytes()


async def test_webvtt_is_kept_and_served_as_it_came(
    client: AsyncClient, publisher: dict[str, str]
) -> None:
    stored = await upload(client, publisher, "lu-quet.vtt", VTT)
    assert stored["status"] == 201, stored["body"]
    media = stored["body"]
    assert (media["kind"], media["content_type"]) == ("subtitle", "text/vtt")
    assert media["duration_s"] == 1.0  # the last cue's end
    assert media["renditions"] == []
    served = await fetch(client, media["url"], publisher)
    assert served.content == VTT


async def test_srt_gets_a_webvtt_rendition(client: AsyncClient, publisher: dict[str, str]) -> None:
    stored = await upload(client, publisher, "flood.srt", SRT)
    assert stored["status"] == 201, stored["body"]
    media = stored["body"]
    assert (media["kind"], media["content_type"]) == ("subtitle", "application/x-subrip")
    (webvtt,) = media["renditions"]
    assert (webvtt["name"], webvtt["content_type"]) == ("webvtt", "text/vtt")
    served = await fetch(client, webvtt["url"], publisher)
    text = served.content.decode()
    assert text.startswith("WEBVTT")
    assert "00:00:00.500 --> 00:00:01.000\nLeave the stream banks now" in text


async def test_subtitles_are_known_by_content_without_a_name(
    client: AsyncClient, publisher: dict[str, str]
) -> None:
    stored = await upload(client, publisher, "upload", SRT)
    assert stored["status"] == 201, stored["body"]
    assert stored["body"]["content_type"] == "application/x-subrip"


CUE = "00:00:01.000 --> 00:00:02.000\nMột\n\n"
REFUSED = [
    ("vtt without cues", "empty.vtt", b"WEBVTT\n\n", 422, "holds no cue"),
    (
        "srt with a broken time",
        "broken.srt",
        b"1\n00:00:01,000 --> 00:00:02,000\nMot\n\n2\n00:00:0x,000 --> 00:00:03,000\nHai\n\n",
        422,
        "timing line after cue 1 does not parse: '00:00:0x,000 --> 00:00:03,000'",
    ),
    (
        "srt ending before it starts",
        "backwards.srt",
        b"1\n00:00:05,000 --> 00:00:03,000\nMot\n\n",
        422,
        "Cue 1 ends (0:00:03.000) before it starts (0:00:05.000)",
    ),
    (
        "vtt out of order",
        "order.vtt",
        ("WEBVTT\n\n00:00:05.000 --> 00:00:06.000\nHai\n\n" + CUE).encode(),
        422,
        "Cue 2 starts before the cue ahead of it",
    ),
    (
        "vtt past a day",
        "long.vtt",
        b"WEBVTT\n\n25:00:00.000 --> 25:00:01.000\nMot\n",
        422,
        "ends after 24 hours",
    ),
    (
        "srt not in UTF-8",
        "latin1.srt",
        "1\n00:00:01,000 --> 00:00:02,000\nCaf\u00e9\n\n".encode("latin-1"),
        422,
        "must be UTF-8 text; byte 35 is not",
    ),
    ("picture named vtt", "picture.vtt", png_bytes(), 415, "named as VTT subtitles"),
    (
        "vtt named srt",
        "named.srt",
        ("WEBVTT\n\n" + CUE).encode(),
        415,
        "VTT subtitles by its content but its name 'named.srt' says SRT",
    ),
]


@pytest.mark.parametrize(
    ("name", "content", "status", "detail"), [r[1:] for r in REFUSED], ids=[r[0] for r in REFUSED]
)
async def test_bad_subtitles_are_refused_and_nothing_is_stored(
    client: AsyncClient,
    publisher: dict[str, str],
    settings: Settings,
    sessionmaker: async_sessionmaker[AsyncSession],
    name: str,
    content: bytes,
    status: int,
    detail: str,
) -> None:
    refused = await upload(client, publisher, name, content)
    assert refused["status"] == status, refused["body"]
    assert refused["headers"]["content-type"] == PROBLEM
    assert detail in refused["body"]["detail"]
    assert await media_rows(sessionmaker) == 0
    assert stored_files(settings) == []


async def test_subtitles_over_their_limit_are_refused(
    settings: Settings, sessionmaker: async_sessionmaker[AsyncSession], make_user: MakeUser
) -> None:
    small = settings.model_copy(update={"media_max_subtitle_bytes": 100})
    app = create_app(small)
    async with AsyncClient(transport=ASGITransport(app=app), base_url="http://hub.test") as http:
        headers = await make_user("small.publisher", Role.publisher, AN_GIANG)
        refused = await upload(http, headers, "lu-quet.vtt", VTT)
    await app.state.engine.dispose()
    assert refused["status"] == 413, refused["body"]
    assert "The subtitle file is over 100 bytes" in refused["body"]["detail"]
    assert await media_rows(sessionmaker) == 0


@pytest.mark.parametrize(
    ("name", "codec"), [("clip-subtitled.mp4", "mov_text"), ("clip-subtitled.webm", "webvtt")]
)
async def test_embedded_subtitle_streams_are_found_at_upload(
    client: AsyncClient, publisher: dict[str, str], name: str, codec: str
) -> None:
    stored = await upload(client, publisher, name, (FIXTURES / name).read_bytes())
    assert stored["status"] == 201, stored["body"]
    assert stored["body"]["kind"] == "video"
    assert stored["body"]["subtitle_tracks"] == [
        {"stream_index": 1, "codec": codec, "language": "vi"}
    ]
    plain = await upload(client, publisher, "clip.mp4", (FIXTURES / "clip.mp4").read_bytes())
    assert plain["body"]["subtitle_tracks"] == []
