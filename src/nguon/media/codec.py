"""Media in process with PyAV, whose wheels carry FFmpeg's libraries: probe, decode, measure
loudness and render the broadcast MP3, on every machine that installed the hub.

The functions here are blocking (decoding is CPU work); callers await them through
`off_loop`, which runs them on the media threads.
"""

import asyncio
import functools
import math
import os
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import ParamSpec, TypeVar

import av
import av.filter
from av.audio.frame import AudioFrame
from av.audio.stream import AudioStream
from av.codec.codec import UnknownCodecError

from nguon.kit.settings import Settings

# The broadcast rendition's true-peak ceiling (dBTP): headroom for MP3's own overshoot.
TRUE_PEAK_CEILING = -1.5
# An MP3 further than this from the target loudness is made again, once.
LOUDNESS_TOLERANCE_LU = 0.3
# LAME's MP3s decode about 0.44 dB quieter than the sound that went in, at every frequency and
# bit rate (sine tones of 200 Hz to 4 kHz at 96 and 128 kb/s, and speech): made up before
# encoding, so that one encoding is enough.
MP3_LEVEL_DROP_DB = 0.44
# How close the gain brings the filtered sound to the target, in at most so many measurements.
GAIN_PRECISION_LU = 0.1
LOUDNESS_ATTEMPTS = 4
# LAME's quality 5 (0 best, 9 fastest): what broadcast speech needs, a quarter faster than its
# default.
MP3_QUALITY = "5"
# Loudness of digital silence as ebur128 reports it; nothing to normalise.
SILENCE_LUFS = -70.0
# What the broadcast rendition needs of the FFmpeg build inside PyAV, beyond its decoders.
RENDITION_ENCODERS = ("libmp3lame",)
RENDITION_FILTERS = ("aformat", "aresample", "volume", "alimiter", "ebur128")

# Media work has threads of its own, one per core: a rendition keeps a core busy, so more at
# once would only slow each of them, and the default executor stays free for the short blocking
# work of other requests (hashing, files) while long renditions run.
_MEDIA_THREADS = ThreadPoolExecutor(max_workers=os.cpu_count() or 1, thread_name_prefix="media")

P = ParamSpec("P")
T = TypeVar("T")


class Unreadable(Exception):
    """FFmpeg could not open or decode the file; the message says why."""


@dataclass(frozen=True, slots=True)
class StreamFacts:
    kind: str  # audio, video, subtitle, data
    codec: str
    width: int | None = None
    height: int | None = None
    language: str | None = None
    index: int = 0


@dataclass(frozen=True, slots=True)
class Probe:
    duration_s: float | None
    streams: tuple[StreamFacts, ...]

    def first(self, kind: str) -> StreamFacts | None:
        return next((stream for stream in self.streams if stream.kind == kind), None)


@dataclass(frozen=True, slots=True)
class Loudness:
    integrated_lufs: float
    true_peak_dbtp: float


@dataclass(frozen=True, slots=True)
class Build:
    """The FFmpeg libraries PyAV carries, and what renditions need that they lack."""

    ffmpeg_version: str
    missing: tuple[str, ...]


def build() -> Build:
    missing = [f"encoder {name}" for name in RENDITION_ENCODERS if not _encodes(name)]
    available = av.filter.filters_available
    missing += [f"filter {name}" for name in RENDITION_FILTERS if name not in available]
    return Build(av.ffmpeg_version_info, tuple(missing))


async def off_loop(function: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    """Run one of the blocking functions here on the media threads, the event loop free."""
    call = functools.partial(function, *args, **kwargs)
    return await asyncio.get_running_loop().run_in_executor(_MEDIA_THREADS, call)


def probe(path: Path) -> Probe:
    """The container's streams and duration, read from its headers."""
    try:
        with av.open(str(path)) as container:
            streams = tuple(
                StreamFacts(
                    kind=stream.type,
                    codec=stream.codec_context.codec.canonical_name if stream.codec_context else "",
                    width=getattr(stream.codec_context, "width", None) or None,
                    height=getattr(stream.codec_context, "height", None) or None,
                    language=stream.language or stream.metadata.get("language"),
                    index=stream.index,
                )
                for stream in container.streams
            )
            duration = container.duration
    except av.FFmpegError as exc:
        raise Unreadable(_message(exc)) from exc
    seconds = round(duration / av.time_base, 3) if duration and duration > 0 else None
    return Probe(seconds, streams)


def decoded_seconds(path: Path) -> float:
    """Decode the first audio stream to the end; how many seconds of sound really decode."""
    decoded = 0
    rate = 0
    for frame in _decoded_audio(path):
        decoded += frame.samples
        rate = frame.sample_rate
    return decoded / rate if rate else 0.0


def loudness(path: Path) -> Loudness:
    """Integrated loudness (EBU R128 / ITU-R BS.1770) and true peak of the first audio stream."""
    return _measure(_decoded_audio(path), 0.0, peak=True)


def broadcast_mp3(source: Path, target: Path, settings: Settings) -> float:
    """What radio plays: MP3, mono, the broadcast sample rate, at the broadcast loudness with
    true peaks under the ceiling, so every bulletin plays at one level on the loudspeakers.
    Returns the rendition's duration in seconds.

    A fixed gain with a true-peak limiter (a linear change, which keeps the dynamics as
    recorded) from the measured loudness. The limiter takes a little loudness off peaky
    speech, so the gain is corrected on the filtered sound (cheap: no encoding) until it meets
    the target plus what the encoder takes off; the MP3 is then measured and, should it still
    miss by more than the tolerance, made once more with the difference made up."""
    wanted = settings.broadcast_loudness_lufs
    gain = 0.0
    for _attempt in range(LOUDNESS_ATTEMPTS):
        reached = _measure(_decoded_audio(source), gain, mono=True).integrated_lufs
        if reached <= SILENCE_LUFS:
            return _encode_mp3(source, target, 0.0, settings)
        if abs(wanted + MP3_LEVEL_DROP_DB - reached) <= GAIN_PRECISION_LU:
            break
        gain += wanted + MP3_LEVEL_DROP_DB - reached
    duration = _encode_mp3(source, target, gain, settings)
    missed = wanted - _measure(_decoded_audio(target), 0.0).integrated_lufs
    if abs(missed) > LOUDNESS_TOLERANCE_LU:
        duration = _encode_mp3(source, target, gain + missed, settings)
    return duration


def _decoded_audio(path: Path) -> Iterator[AudioFrame]:
    try:
        with av.open(str(path)) as container:
            if not container.streams.audio:
                raise Unreadable("the file holds no audio stream")
            stream = container.streams.audio[0]
            yield from container.decode(stream)
    except av.FFmpegError as exc:
        raise Unreadable(_message(exc)) from exc


def _chain(gain_db: float, *, mono: bool, sample_rate: int | None = None) -> list[tuple[str, str]]:
    """The filters between decoder and measurement or encoder."""
    filters: list[tuple[str, str]] = []
    if mono:
        filters.append(("aformat", "channel_layouts=mono"))
    if gain_db:
        filters.append(("volume", f"{gain_db:.3f}dB"))
        # A limiter on the gain's peaks only: attack/release short enough to leave speech alone.
        ceiling = 10 ** (TRUE_PEAK_CEILING / 20)
        filters.append(("alimiter", f"limit={ceiling:.4f}:attack=5:release=50:level=disabled"))
    if sample_rate:
        filters.append(("aresample", str(sample_rate)))
        filters.append(("aformat", f"sample_fmts=s16p:sample_rates={sample_rate}"))
    return filters


class _Pipeline:
    """A filter graph fed frame by frame, the frames that come out read as they come."""

    def __init__(self, first: AudioFrame, filters: list[tuple[str, str]]) -> None:
        self.graph = av.filter.Graph()
        node = self.graph.add_abuffer(
            format=first.format.name,
            sample_rate=first.sample_rate,
            layout=first.layout.name,
            time_base=first.time_base or Fraction(1, first.sample_rate),
        )
        for name, arguments in filters:
            step = self.graph.add(name, arguments)
            node.link_to(step)
            node = step
        sink = self.graph.add("abuffersink")
        node.link_to(sink)
        self.graph.configure()

    def feed(self, frame: AudioFrame | None) -> Iterator[AudioFrame]:
        self.graph.push(frame)
        while True:
            try:
                out = self.graph.pull()
            except (av.BlockingIOError, av.EOFError):
                return
            assert isinstance(out, AudioFrame)
            yield out


def _filtered(frames: Iterator[AudioFrame], filters: list[tuple[str, str]]) -> Iterator[AudioFrame]:
    pipeline: _Pipeline | None = None
    for frame in frames:
        frame.pts = None  # the filters time frames by their samples; decoders' pts may jump
        if pipeline is None:
            pipeline = _Pipeline(frame, filters)
        yield from pipeline.feed(frame)
    if pipeline is not None:
        yield from pipeline.feed(None)


def _measure(
    frames: Iterator[AudioFrame], gain_db: float, *, mono: bool = False, peak: bool = False
) -> Loudness:
    """Integrated loudness after the chain; the true peak too when asked (4× oversampling,
    the dearer half of the measurement)."""
    meter = "metadata=1:peak=true" if peak else "metadata=1"
    filters = [*_chain(gain_db, mono=mono), ("ebur128", meter)]
    facts: dict[str, str] = {}
    for frame in _filtered(frames, filters):
        facts = dict(frame.metadata) or facts
    if not facts:
        raise Unreadable("no sound could be decoded")
    peaks = [float(v) for k, v in facts.items() if k.startswith("lavfi.r128.true_peaks_ch")]
    highest = max(peaks) if peaks else 0.0
    return Loudness(
        integrated_lufs=float(facts.get("lavfi.r128.I", SILENCE_LUFS)),
        true_peak_dbtp=round(20 * math.log10(highest), 2) if highest > 0 else SILENCE_LUFS,
    )


def _encode_mp3(source: Path, target: Path, gain_db: float, settings: Settings) -> float:
    rate = settings.broadcast_sample_rate
    samples = 0
    try:
        with av.open(str(target), "w", format="mp3") as output:
            stream = output.add_stream(
                "libmp3lame", rate=rate, layout="mono", options={"compression_level": MP3_QUALITY}
            )
            assert isinstance(stream, AudioStream)
            stream.bit_rate = settings.broadcast_bitrate_kbps * 1000
            filters = _chain(gain_db, mono=True, sample_rate=rate)
            for frame in _filtered(_decoded_audio(source), filters):
                samples += frame.samples
                output.mux(stream.encode(frame))
            output.mux(stream.encode(None))
    except av.FFmpegError as exc:
        raise Unreadable(_message(exc)) from exc
    return round(samples / rate, 3)


def _encodes(name: str) -> bool:
    try:
        av.Codec(name, "w")
    except UnknownCodecError:
        return False
    return True


def _message(exc: av.FFmpegError) -> str:
    return str(getattr(exc, "strerror", None) or exc)
