"""Derived files: what radio plays and what a console shows in a list."""

import asyncio
from dataclasses import dataclass
from pathlib import Path

from PIL import Image

from nguon.kit.errors import CorruptMedia
from nguon.kit.settings import Settings
from nguon.media import codec

BROADCAST = "broadcast"
THUMBNAIL = "thumbnail"
ORIGINAL = "original"


@dataclass(frozen=True, slots=True)
class RenditionFile:
    name: str
    path: Path
    content_type: str
    width: int | None = None
    height: int | None = None
    duration_s: float | None = None


async def broadcast_audio(source: Path, workdir: Path, settings: Settings) -> RenditionFile:
    """MP3, mono, the broadcast sample rate, loudness-normalised (EBU R128): every bulletin
    plays at the same level on the loudspeakers."""
    target = workdir / "broadcast.mp3"
    try:
        duration = await codec.off_loop(codec.broadcast_mp3, source, target, settings)
    except codec.Unreadable as exc:
        raise CorruptMedia(f"The audio cannot be made ready for radio: {exc}") from exc
    return RenditionFile(BROADCAST, target, "audio/mpeg", duration_s=duration)


async def image_thumbnail(source: Path, workdir: Path, settings: Settings) -> RenditionFile:
    target = workdir / "thumbnail.jpg"

    def make() -> tuple[int, int]:
        with Image.open(source) as image:
            image.thumbnail((settings.thumbnail_px, settings.thumbnail_px))
            flat = Image.new("RGB", image.size, "white")
            flat.paste(image.convert("RGBA"), mask=image.convert("RGBA").getchannel("A"))
            flat.save(target, "JPEG", quality=85)
            return flat.size

    width, height = await asyncio.to_thread(make)
    return RenditionFile(THUMBNAIL, target, "image/jpeg", width, height)
