"""Uploading media: decided from the bytes, checked by decoding, stored once per content."""

import asyncio
import hashlib
import io
import shutil
import struct
import zlib
from pathlib import Path

import av
import pytest
from httpx import ASGITransport, AsyncClient, Response
from PIL import Image
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from nguon.app import create_app
from nguon.identity.roles import Role
from nguon.kit.s3 import S3Storage
from nguon.kit.settings import Settings
from nguon.media import codec
from nguon.media.models import MediaObject
from tests.conftest import AN_GIANG, MakeUser

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "media"
PROBLEM = "application/problem+json"


def png_bytes(size: tuple[int, int] = (64, 48), mode: str = "RGBA") -> bytes:
    buffer = io.BytesIO()
    Image.new(mode, size, (200, 30, 30, 255) if mode == "RGBA" else 128).save(buffer, "PNG")
    return buffer.getvalue()


def image_bytes(format_: str) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), (10, 120, 200)).save(buffer, format_)
    return buffer.getvalue()


def png_bomb() -> bytes:
    """A valid PNG header claiming 100,000 × 100,000 pixels, with almost no data."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    header = struct.pack(">IIBBBBB", 100_000, 100_000, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00" * 1000))
        + chunk(b"IEND", b"")
    )


async def media_rows(sessionmaker: async_sessionmaker[AsyncSession]) -> int:
    async with sessionmaker() as session:
        return await session.scalar(select(func.count()).select_from(MediaObject)) or 0


def stored_files(settings: Settings) -> list[str]:
    """Every object the media storage holds, on either backend."""
    if settings.s3_endpoint:
        storage = S3Storage.from_settings(settings)
        return sorted(
            o.object_name for o in storage.client.list_objects(storage.bucket, recursive=True)
        )
    root = settings.data_dir / "media"
    return sorted(str(p) for p in root.rglob("*") if p.is_file() and p.name != ".ready")


async def fetch(client: AsyncClient, url: str, headers: dict[str, str]) -> Response:
    """GET a media URL as a device would: following the hub's redirect to object storage."""
    response = await client.get(url, headers=headers)
    if response.status_code != 307:
        return response
    assert response.headers["location"].startswith("http://127.0.0.1:")
    async with AsyncClient() as outside:
        extra = {"Range": headers["Range"]} if "Range" in headers else {}
        return await outside.get(response.headers["location"], headers=extra)


async def upload(
    client: AsyncClient, headers: dict[str, str], name: str, content: bytes, ctype: str = ""
) -> dict:  # type: ignore[type-arg]
    response = await client.post(
        "/api/v1/media",
        files={"file": (name, content, ctype or "application/octet-stream")},
        headers=headers,
    )
    return {"status": response.status_code, "headers": response.headers, "body": response.json()}


ACCEPTED = [
    ("tone.mp3", "audio", "audio/mpeg"),
    ("tone.m4a", "audio", "audio/mp4"),
    ("tone.ogg", "audio", "audio/ogg"),
    ("tone.wav", "audio", "audio/x-wav"),
    ("clip.mp4", "video", "video/mp4"),
    ("clip.webm", "video", "video/webm"),
]


@pytest.mark.parametrize(("name", "kind", "content_type"), ACCEPTED)
async def test_accepted_audio_and_video(
    client: AsyncClient, publisher: dict[str, str], name: str, kind: str, content_type: str
) -> None:
    content = (FIXTURES / name).read_bytes()
    result = await upload(client, publisher, name, content)
    assert result["status"] == 201, result["body"]
    media = result["body"]
    assert (media["kind"], media["content_type"]) == (kind, content_type)
    assert media["size"] == len(content)
    assert media["sha256"] == hashlib.sha256(content).hexdigest()
    assert media["duration_s"] == pytest.approx(
        {"tone.mp3": 3.0, "tone.wav": 1.0, "clip.mp4": 1.0, "clip.webm": 1.0}.get(name, 2.0),
        abs=0.15,
    )
    if kind == "video":
        assert (media["width"], media["height"]) == (160, 90)


@pytest.mark.parametrize(
    ("format_", "content_type"),
    [("PNG", "image/png"), ("JPEG", "image/jpeg"), ("WEBP", "image/webp")],
)
async def test_accepted_images_get_a_thumbnail(
    client: AsyncClient, publisher: dict[str, str], format_: str, content_type: str
) -> None:
    result = await upload(client, publisher, f"board.{format_.lower()}", image_bytes(format_))
    assert result["status"] == 201, result["body"]
    media = result["body"]
    assert (media["kind"], media["content_type"], media["width"], media["height"]) == (
        "image",
        content_type,
        40,
        30,
    )
    (thumbnail,) = media["renditions"]
    assert thumbnail["name"] == "thumbnail"
    fetched = await fetch(client, thumbnail["url"], publisher)
    assert fetched.status_code == 200
    assert fetched.headers["content-type"] == "image/jpeg"
    assert Image.open(io.BytesIO(fetched.content)).size == (40, 30)


async def test_audio_gets_a_loudness_normalised_mono_broadcast_rendition(
    client: AsyncClient, publisher: dict[str, str], settings: Settings, tmp_path: Path
) -> None:
    result = await upload(client, publisher, "tin-bao-lu.m4a", (FIXTURES / "tone.m4a").read_bytes())
    (broadcast,) = result["body"]["renditions"]
    assert (broadcast["name"], broadcast["content_type"]) == ("broadcast", "audio/mpeg")
    assert broadcast["duration_s"] == pytest.approx(result["body"]["duration_s"], abs=0.1)
    fetched = await fetch(client, broadcast["url"], publisher)
    assert hashlib.sha256(fetched.content).hexdigest() == broadcast["sha256"]
    await assert_broadcast_mp3(fetched.content, settings, tmp_path)


async def assert_broadcast_mp3(content: bytes, settings: Settings, tmp_path: Path) -> None:
    """What radio plays: MP3, mono, the broadcast rate, at the broadcast loudness."""
    target = tmp_path / "broadcast.mp3"
    target.write_bytes(content)
    probe = codec.probe(target)
    assert [(s.kind, s.codec) for s in probe.streams] == [("audio", "mp3")]
    with av.open(str(target)) as container:
        stream = container.streams.audio[0]
        assert (stream.channels, stream.sample_rate) == (1, settings.broadcast_sample_rate)
    measured = await asyncio.to_thread(codec.loudness, target)
    assert measured.integrated_lufs == pytest.approx(settings.broadcast_loudness_lufs, abs=1.0)


async def test_same_content_twice_is_one_object(
    client: AsyncClient,
    publisher: dict[str, str],
    sessionmaker: async_sessionmaker[AsyncSession],
    settings: Settings,
) -> None:
    content = png_bytes()
    first = await upload(client, publisher, "a.png", content)
    files_after_first = stored_files(settings)
    second = await upload(client, publisher, "other-name.png", content)
    assert (first["status"], second["status"]) == (201, 200)
    assert first["body"]["id"] == second["body"]["id"]
    assert await media_rows(sessionmaker) == 1
    assert stored_files(settings) == files_after_first


async def test_original_is_served_with_range_support(
    client: AsyncClient, publisher: dict[str, str]
) -> None:
    content = png_bytes((300, 200))
    media = (await upload(client, publisher, "big.png", content))["body"]
    whole = await fetch(client, media["url"], publisher)
    assert whole.status_code == 200
    assert whole.content == content
    assert whole.headers["accept-ranges"] == "bytes"
    part = await fetch(client, media["url"], {**publisher, "Range": "bytes=10-29"})
    assert part.status_code == 206
    assert part.content == content[10:30]
    assert part.headers["content-range"] == f"bytes 10-29/{len(content)}"


def truncated(name: str, keep: float) -> bytes:
    content = (FIXTURES / name).read_bytes()
    return content[: int(len(content) * keep)]


REJECTED = [
    ("empty.mp3", lambda: b"", 422, "empty"),
    ("cut.png", lambda: png_bytes((300, 200))[:400], 422, "truncated or corrupt"),
    ("cut.jpg", lambda: image_bytes("JPEG")[:300], 422, "truncated or corrupt"),
    ("picture.mp3", lambda: png_bytes(), 415, "its name 'picture.mp3' says audio"),
    ("archive.zip", lambda: b"PK\x03\x04" + b"\x00" * 200, 415, "application/zip"),
    ("setup.exe", lambda: b"MZ" + b"\x90" * 400, 415, "the hub takes MP3"),
    ("bomb.png", png_bomb, 422, "decompression bomb"),
    ("plain.txt", lambda: b"just some words, not media", 415, "unknown type"),
    # Decoding checks.
    ("cut.mp3", lambda: truncated("tone.mp3", 0.3), 422, "truncated"),
    ("cut.m4a", lambda: truncated("tone.m4a", 0.5), 422, "does not decode"),
    ("cut.wav", lambda: truncated("tone.wav", 0.4), 422, "truncated"),
    ("old.mp4", lambda: (FIXTURES / "clip-mpeg4.mp4").read_bytes(), 415, "must be h264"),
]


@pytest.mark.parametrize(
    ("name", "make", "status", "detail"), [pytest.param(*r, id=r[0]) for r in REJECTED]
)
async def test_bad_files_are_refused_and_leave_nothing(
    client: AsyncClient,
    publisher: dict[str, str],
    sessionmaker: async_sessionmaker[AsyncSession],
    settings: Settings,
    name: str,
    make: object,
    status: int,
    detail: str,
) -> None:
    result = await upload(client, publisher, name, make())  # type: ignore[operator]
    assert result["status"] == status, result["body"]
    assert result["headers"]["content-type"] == PROBLEM
    assert detail in result["body"]["detail"]
    assert await media_rows(sessionmaker) == 0
    assert stored_files(settings) == []
    assert not [p for p in settings.data_dir.iterdir() if p.name.startswith("upload-")]


async def test_oversize_file_for_its_kind_is_refused(
    settings: Settings, sessionmaker: async_sessionmaker[AsyncSession], make_user: MakeUser
) -> None:
    small = settings.model_copy(update={"media_max_image_bytes": 1000})
    app = create_app(small)
    async with AsyncClient(transport=ASGITransport(app=app), base_url="http://hub.test") as http:
        login_headers = await make_user("small.publisher", Role.publisher, AN_GIANG)
        result = await upload(http, login_headers, "big.png", png_bytes((300, 300), "RGBA"))
    await app.state.engine.dispose()
    assert result["status"] == 413
    assert "over 1000 bytes, the most image takes" in result["body"]["detail"]
    assert await media_rows(sessionmaker) == 0


async def test_without_ffmpeg_on_the_machine_audio_is_rendered_and_checked(
    client: AsyncClient,
    publisher: dict[str, str],
    settings: Settings,
    sessionmaker: async_sessionmaker[AsyncSession],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    no_ffmpeg = tmp_path / "bin"
    no_ffmpeg.mkdir()
    monkeypatch.setenv("PATH", str(no_ffmpeg))
    assert shutil.which("ffmpeg") is None
    assert shutil.which("ffprobe") is None

    cut = await upload(client, publisher, "cut.wav", truncated("tone.wav", 0.4))
    assert cut["status"] == 422, cut["body"]
    assert "truncated" in cut["body"]["detail"]
    assert await media_rows(sessionmaker) == 0
    assert stored_files(settings) == []

    result = await upload(client, publisher, "tone.mp3", (FIXTURES / "tone.mp3").read_bytes())
    assert result["status"] == 201, result["body"]
    assert result["body"]["duration_s"] == pytest.approx(3.0, abs=0.1)
    (broadcast,) = result["body"]["renditions"]
    assert broadcast["name"] == "broadcast"
    fetched = await fetch(client, broadcast["url"], publisher)
    await assert_broadcast_mp3(fetched.content, settings, tmp_path)


async def test_idempotency_key_on_upload(
    client: AsyncClient, publisher: dict[str, str], sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    headers = {**publisher, "Idempotency-Key": "upload-1"}
    first = await upload(client, headers, "a.png", png_bytes())
    again = await upload(client, headers, "a.png", png_bytes())
    assert (first["status"], again["status"]) == (201, 201)
    assert first["body"] == again["body"]
    other = await upload(client, headers, "b.png", png_bytes((10, 10)))
    assert other["status"] == 422
    assert "different request" in other["body"]["detail"]
    assert await media_rows(sessionmaker) == 1


async def test_the_form_must_hold_one_file_field(
    client: AsyncClient, publisher: dict[str, str], sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    wrong_field = await client.post(
        "/api/v1/media", files={"upload": ("a.png", png_bytes())}, headers=publisher
    )
    extra_field = await client.post(
        "/api/v1/media",
        files={"file": ("a.png", png_bytes())},
        data={"note": "hello"},
        headers=publisher,
    )
    not_multipart = await client.post("/api/v1/media", content=png_bytes(), headers=publisher)
    for response in (wrong_field, extra_field, not_multipart):
        assert response.status_code == 422, response.text
        assert response.headers["content-type"] == PROBLEM
        assert "'file'" in response.json()["detail"]
    assert await media_rows(sessionmaker) == 0
