"""Subtitles for display video (Decision 002 Điều 7.2: video "có phụ đề bằng chữ"): WebVTT and
SRT files uploaded beside a video, and the subtitle tracks a video carries inside itself."""

import asyncio
import codecs
import re
from dataclasses import dataclass
from pathlib import Path

import av
import langcodes
import pysubs2

from nguon.kit.errors import CorruptMedia, UnsupportedMedia
from nguon.media.kinds import MediaKind
from nguon.media.renditions import RenditionFile

WEBVTT = "webvtt"  # the rendition that gives displays and browsers WebVTT for an SRT upload
VTT_TYPE = "text/vtt"
SRT_TYPE = "application/x-subrip"
SUBTITLE_EXTENSIONS = {"vtt": VTT_TYPE, "srt": SRT_TYPE}
# No bulletin video runs a day: a cue past this is a broken time, not a long film.
LONGEST_HOURS = 24
_BOM = "\ufeff"
# An SRT file opens with a cue: its number, then its timing line.
_SRT_OPENING = re.compile(r"\A\s*\d+\s*\r?\n\d{1,2}:\d{2}:\d{2}[,.]\d{1,3}\s*-->")
_VTT_SIGNATURE = re.compile(r"\AWEBVTT(?:[ \t].*)?(?:\r?\n|\Z)")


@dataclass(frozen=True, slots=True)
class SubtitleFormat:
    content_type: str
    extension: str


@dataclass(frozen=True, slots=True)
class EmbeddedTrack:
    """A subtitle stream inside a video: the position a player selects it by, its codec and
    the language its container names, as a BCP 47 tag like the bulletins' own (`vie` → `vi`;
    None when it names none or `und`)."""

    stream_index: int
    codec: str
    language: str | None


def _extension(filename: str | None) -> str:
    name = filename or ""
    return name.rsplit(".", 1)[-1].lower() if "." in name else ""


def recognise(head: bytes, filename: str | None) -> SubtitleFormat | None:
    """WebVTT by its signature, SRT by its opening cue, either by its name; None for what is
    none of them, so that other media are identified by their bytes. A file named as
    subtitles must read as such."""
    named = _extension(filename)
    # Replaced bytes still show the signature of subtitles in another encoding: `check` then
    # refuses them in words, pointing at the first byte that is not UTF-8.
    decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
    shown = decoder.decode(head).removeprefix(_BOM)
    if _VTT_SIGNATURE.match(shown):
        found = "vtt"
    elif _SRT_OPENING.match(shown):
        found = "srt"
    elif named in SUBTITLE_EXTENSIONS:
        named_as = named.upper()
        raise UnsupportedMedia(
            f"The file {filename!r} is named as {named_as} subtitles but does not begin "
            "as one: WebVTT opens with the line WEBVTT, SRT with a cue number and its timing "
            "line (00:00:01,000 --> 00:00:03,000)."
        )
    else:
        return None
    if named in SUBTITLE_EXTENSIONS and named != found:
        shown_as, named_as = found.upper(), named.upper()
        raise UnsupportedMedia(
            f"The file is {shown_as} subtitles by its content but its name {filename!r} "
            f"says {named_as}."
        )
    return SubtitleFormat(SUBTITLE_EXTENSIONS[found], found)


def _cues(path: Path, extension: str) -> pysubs2.SSAFile:
    try:
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as exc:
        raise CorruptMedia(
            f"Subtitles must be UTF-8 text; byte {exc.start} is not (save the file as UTF-8)."
        ) from exc
    try:
        cues = pysubs2.SSAFile.from_string(text.removeprefix(_BOM), format_=extension)
    except (pysubs2.Pysubs2Error, ValueError) as exc:
        raise CorruptMedia(f"The subtitles do not parse as {extension}: {exc}") from exc
    if not cues.events:
        raise CorruptMedia("The subtitle file holds no cue: a display would show no text.")
    previous_start = 0
    for number, cue in enumerate(cues.events, start=1):
        # A timing line that does not parse is read as text of the cue before it.
        broken = next((line for line in cue.text.split("\\N") if "-->" in line), None)
        if broken is not None:
            raise CorruptMedia(f"A timing line after cue {number} does not parse: {broken!r}.")
        if cue.end <= cue.start:
            starts = pysubs2.time.ms_to_str(cue.start, fractions=True)
            ends = pysubs2.time.ms_to_str(cue.end, fractions=True)
            raise CorruptMedia(f"Cue {number} ends ({ends}) before it starts ({starts}).")
        if cue.start < previous_start:
            raise CorruptMedia(
                f"Cue {number} starts before the cue ahead of it: cues must be in time order."
            )
        if cue.end > LONGEST_HOURS * 3_600_000:
            raise CorruptMedia(
                f"Cue {number} ends after {LONGEST_HOURS} hours: its time is broken."
            )
        previous_start = cue.start
    return cues


async def check(path: Path, extension: str) -> float:
    """Parse and check the file; the seconds its last cue ends at."""
    cues = await asyncio.to_thread(_cues, path, extension)
    return round(max(cue.end for cue in cues.events) / 1000, 3)


async def renditions(path: Path, extension: str, workdir: Path) -> list[RenditionFile]:
    """SRT also as WebVTT, which displays and browsers play (`<track>`); WebVTT is served as
    it came."""
    if extension != "srt":
        return []
    target = workdir / f"{WEBVTT}.vtt"

    def convert() -> None:
        _cues(path, extension).save(str(target), format_="vtt", encoding="utf-8")

    await asyncio.to_thread(convert)
    return [RenditionFile(WEBVTT, target, VTT_TYPE)]


def _embedded(path: Path) -> list[EmbeddedTrack]:
    try:
        with av.open(str(path)) as container:
            return [
                EmbeddedTrack(
                    stream_index=stream.index,
                    codec=stream.codec_context.name,
                    language=_bcp47(stream.language),
                )
                for stream in container.streams.subtitles
            ]
    except av.FFmpegError as exc:
        raise CorruptMedia(f"The video cannot be read: {exc}") from exc


async def embedded_tracks(path: Path, kind: MediaKind) -> list[EmbeddedTrack]:
    """The subtitle streams of a video (mov_text in MP4, webvtt in WebM); none for other
    media."""
    if kind is not MediaKind.video:
        return []
    return await asyncio.to_thread(_embedded, path)


def _bcp47(container_language: str | None) -> str | None:
    if container_language in (None, "", "und"):
        return None
    try:
        return str(langcodes.standardize_tag(container_language))
    except ValueError:  # langcodes.tag_parser.LanguageTagError: not a language tag
        return container_language  # kept as the container wrote it: a person can still read it
