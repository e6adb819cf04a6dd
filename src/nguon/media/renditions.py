"""Derived files: what radio plays and what a console shows in a list."""

import asyncio
from dataclasses import dataclass
from pathlib import Path

from PIL import Image

from nguon.kit.settings import Settings
from nguon.media.tools import MediaTools

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


async def broadcast_audio(
    source: Path, workdir: Path, tools: MediaTools, settings: Settings
) -> RenditionFile | None:
    """MP3, mono, fixed sample rate, loudness-normalised (EBU R128 `loudnorm`): every bulletin
    plays at the same level on the loudspeakers. None when ffmpeg is missing."""
    if not tools.ffmpeg:
        return None
    target = workdir / "broadcast.mp3"
    await tools.convert(
        "-i", str(source),
        "-map", "0:a:0",
        "-ac", "1",
        "-ar", str(settings.broadcast_sample_rate),
        "-af", f"loudnorm=I={settings.broadcast_loudness_lufs}:TP=-1.5:LRA=11",
        "-c:a", "libmp3lame",
        "-b:a", f"{settings.broadcast_bitrate_kbps}k",
        str(target),
    )  # fmt: skip
    return RenditionFile(BROADCAST, target, "audio/mpeg")


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
