"""What an upload really is, decided from its bytes, and whether it is whole."""

import asyncio
import warnings
from dataclasses import dataclass
from pathlib import Path

import filetype
import mutagen
from PIL import Image, UnidentifiedImageError

from nguon.kit.errors import CorruptMedia, InvalidInput, PayloadTooLarge, UnsupportedMedia
from nguon.kit.settings import Settings
from nguon.media import codec, subtitles
from nguon.media.kinds import ACCEPTED_TYPES, EXTENSION_KINDS, MediaKind

SNIFF_BYTES = 8192
# A decode that stops this much short of the declared duration means a truncated file.
TRUNCATION_TOLERANCE = 0.9
VIDEO_CODECS = {"mp4": {"h264"}, "webm": {"vp8", "vp9", "av1"}}


@dataclass(frozen=True, slots=True)
class Sniffed:
    content_type: str
    kind: MediaKind
    extension: str


@dataclass(frozen=True, slots=True)
class MediaFacts:
    duration_s: float | None = None
    width: int | None = None
    height: int | None = None


def identify(head: bytes, filename: str | None) -> Sniffed:
    """The type the first bytes show; refuses what the hub does not take and a name that
    contradicts the bytes."""
    if not head:
        raise InvalidInput("The file is empty.")
    subtitle = subtitles.recognise(head, filename)  # text: the signatures below do not know it
    if subtitle is not None:
        return Sniffed(subtitle.content_type, MediaKind.subtitle, subtitle.extension)
    guess = filetype.guess(head)
    if guess is None or guess.mime not in ACCEPTED_TYPES:
        shown = f"{guess.mime} " if guess else ""
        raise UnsupportedMedia(
            f"The file is {shown or 'of an unknown type '}by its content; the hub takes MP3, "
            "AAC/M4A, OGG/Opus and WAV audio, PNG, JPEG and WebP images, MP4 (H.264) and "
            "WebM video, WebVTT and SRT subtitles."
        )
    kind, extension = ACCEPTED_TYPES[guess.mime]
    named = (filename or "").rsplit(".", 1)[-1].lower() if "." in (filename or "") else ""
    if named in EXTENSION_KINDS and EXTENSION_KINDS[named] != kind:
        raise UnsupportedMedia(
            f"The file is {extension.upper()} ({kind}) by its content but its name "
            f"{filename!r} says {EXTENSION_KINDS[named]}."
        )
    return Sniffed(guess.mime, kind, extension)


def check_size(sniffed: Sniffed, size: int, settings: Settings) -> None:
    """Refuse a file over its kind's limit (called as the bytes arrive, so reading stops)."""
    limit = {
        MediaKind.audio: settings.media_max_audio_bytes,
        MediaKind.image: settings.media_max_image_bytes,
        MediaKind.video: settings.media_max_video_bytes,
        MediaKind.subtitle: settings.media_max_subtitle_bytes,
    }[sniffed.kind]
    if size > limit:
        raise PayloadTooLarge(
            f"The {sniffed.kind} file is over {limit} bytes, the most {sniffed.kind} takes."
        )


async def inspect(path: Path, sniffed: Sniffed, settings: Settings) -> MediaFacts:
    """Read the file as a player would; refuse what does not decode."""
    if sniffed.kind is MediaKind.subtitle:
        return MediaFacts(duration_s=await subtitles.check(path, sniffed.extension))
    if sniffed.kind is MediaKind.image:
        return await asyncio.to_thread(_inspect_image, path, settings.media_max_image_pixels)
    if sniffed.kind is MediaKind.audio:
        return await _inspect_audio(path)
    return await _inspect_video(path, sniffed)


def _inspect_image(path: Path, max_pixels: int) -> MediaFacts:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as image:
                width, height = image.size
                if width * height > max_pixels:
                    raise CorruptMedia(
                        f"The image is {width}×{height} pixels; the hub takes at most "
                        f"{max_pixels} pixels (a decompression bomb is refused)."
                    )
                image.load()  # decodes every pixel: a truncated file fails here
            with Image.open(path) as image:
                image.verify()  # checksums (PNG CRC) that decoding alone may skip
    except CorruptMedia:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise CorruptMedia(f"The image decompresses beyond the hub's limit: {exc}") from exc
    except (OSError, UnidentifiedImageError, SyntaxError, ValueError) as exc:
        raise CorruptMedia(f"The image is truncated or corrupt: {exc}") from exc
    return MediaFacts(width=width, height=height)


async def _inspect_audio(path: Path) -> MediaFacts:
    try:
        probe = await codec.off_loop(codec.probe, path)
        if probe.first("audio") is None:
            raise CorruptMedia("The file holds no audio stream.")
        # The container's duration may be estimated from the file size, which a truncated file
        # also has; the header's own length (WAV data size, MP3 Xing frame count) is what the
        # file promised.
        declared = await asyncio.to_thread(_header_seconds, path) or probe.duration_s
        decoded = await codec.off_loop(codec.decoded_seconds, path)
    except codec.Unreadable as exc:
        raise CorruptMedia(f"The audio does not decode: {exc}") from exc
    if decoded <= 0:
        raise CorruptMedia("The audio does not decode: no sound could be read from it.")
    if declared and decoded < declared * TRUNCATION_TOLERANCE:
        raise CorruptMedia(
            f"The audio is truncated: it declares {declared:.1f} s but only {decoded:.1f} s decode."
        )
    return MediaFacts(duration_s=round(declared or decoded, 3))


def _header_seconds(path: Path) -> float | None:
    try:
        audio = mutagen.File(path)
    except mutagen.MutagenError:
        return None
    length = getattr(getattr(audio, "info", None), "length", None)
    return float(length) if length else None


async def _inspect_video(path: Path, sniffed: Sniffed) -> MediaFacts:
    try:
        probe = await codec.off_loop(codec.probe, path)
    except codec.Unreadable as exc:
        raise CorruptMedia(f"The video cannot be read: {exc}") from exc
    video = probe.first("video")
    if video is None:
        raise CorruptMedia("The file holds no video stream.")
    codecs = VIDEO_CODECS[sniffed.extension]
    if video.codec not in codecs:
        raise UnsupportedMedia(
            f"{sniffed.extension.upper()} video must be {' or '.join(sorted(codecs))}; this "
            f"one is {video.codec}."
        )
    return MediaFacts(duration_s=probe.duration_s, width=video.width, height=video.height)
