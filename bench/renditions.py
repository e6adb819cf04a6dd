"""Making the broadcast rendition in process (PyAV) against the ffmpeg command line used before.

For a short fixture (`tests/fixtures/media/tone.mp3`, 3 s) and a generated 3-minute stereo MP3
(made with PyAV: a tone gliding and swelling at a syllable's pace), times:

- baseline: the ffmpeg command line the hub ran before, `-i SRC -map 0:a:0 -ac 1 -ar RATE -af
  loudnorm=I=..:TP=-1.5:LRA=11 -c:a libmp3lame -b:a 96k`, as an asyncio subprocess (when an
  `ffmpeg` is on PATH; otherwise the in-process figures alone, the baseline said unavailable);
- in process: `codec.broadcast_mp3` on the media threads (`codec.off_loop`), as uploads do.

Prints the median of several runs each way, the ratio in process / baseline, and the loudness
and true peak each way reaches (measured alike, with `codec.loudness`) against the target.
Run: `.venv/bin/python bench/renditions.py [runs]` (default 5).
"""

import asyncio
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import av
from av.audio.stream import AudioStream

from nguon.kit.settings import Settings
from nguon.media import codec

ROOT = Path(__file__).resolve().parent.parent
SHORT = ROOT / "tests" / "fixtures" / "media" / "tone.mp3"
LONG_SECONDS = 180


def generated_mp3(
    target: Path, seconds: int, *, rate: int = 44100, stereo: bool = True, kbps: int = 128
) -> None:
    """A tone gliding and swelling at a syllable's pace, as MP3; by default stereo at 44.1 kHz,
    128 kb/s: what a recorder or a phone uploads."""
    channel = "0.3*(0.6+0.4*sin(2*PI*3*t))*sin(2*PI*(200+40*sin(PI*t))*t)"
    source = f"aevalsrc=exprs='{'|'.join([channel] * (2 if stereo else 1))}':s={rate}:d={seconds}"
    with av.open(source, format="lavfi") as tone, av.open(str(target), "w", format="mp3") as out:
        stream = out.add_stream("libmp3lame", rate=rate, layout="stereo" if stereo else "mono")
        assert isinstance(stream, AudioStream)
        stream.bit_rate = kbps * 1000
        for frame in tone.decode(tone.streams.audio[0]):
            frame.pts = None
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))


async def ffmpeg_command_line(ffmpeg: str, source: Path, target: Path, settings: Settings) -> None:
    """The rendition as the hub made it before, by subprocess."""
    process = await asyncio.create_subprocess_exec(
        ffmpeg, "-nostdin", "-v", "error", "-y",
        "-i", str(source),
        "-map", "0:a:0",
        "-ac", "1",
        "-ar", str(settings.broadcast_sample_rate),
        "-af", f"loudnorm=I={settings.broadcast_loudness_lufs}:TP=-1.5:LRA=11",
        "-c:a", "libmp3lame",
        "-b:a", f"{settings.broadcast_bitrate_kbps}k",
        str(target),
        stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    _, stderr = await process.communicate()
    if process.returncode != 0:
        raise RuntimeError(f"ffmpeg failed: {stderr.decode(errors='replace').strip()}")


async def in_process(source: Path, target: Path, settings: Settings) -> None:
    await codec.off_loop(codec.broadcast_mp3, source, target, settings)


async def median_seconds(
    make: Callable[[Path, Path, Settings], Awaitable[None]],
    source: Path,
    target: Path,
    settings: Settings,
    runs: int,
) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        await make(source, target, settings)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def reached(target: Path) -> str:
    measured = codec.loudness(target)
    return f"{measured.integrated_lufs:6.2f} LUFS, true peak {measured.true_peak_dbtp:6.2f} dBTP"


async def measure(scratch: Path, runs: int) -> None:
    settings = Settings()
    ffmpeg = shutil.which("ffmpeg")
    long = scratch / "three-minutes.mp3"
    generated_mp3(long, LONG_SECONDS)
    build = codec.build()
    print(
        f"PyAV {av.__version__} (FFmpeg {build.ffmpeg_version}); target "
        f"{settings.broadcast_loudness_lufs} LUFS, true peak under {codec.TRUE_PEAK_CEILING} dBTP; "
        f"median of {runs} runs"
    )
    if ffmpeg is None:
        print("baseline unavailable: no ffmpeg on PATH; in-process figures only")
    for label, source in ((f"{SHORT.name} (3 s)", SHORT), (f"generated ({LONG_SECONDS} s)", long)):
        own = scratch / "in-process.mp3"
        own_seconds = await median_seconds(in_process, source, own, settings, runs)
        print(f"{label}")
        print(f"  in process (PyAV)       {own_seconds * 1e3:9.1f} ms   {reached(own)}")
        if ffmpeg is None:
            continue
        theirs = scratch / "ffmpeg.mp3"
        their_seconds = await median_seconds(
            lambda s, t, c: ffmpeg_command_line(ffmpeg, s, t, c), source, theirs, settings, runs
        )
        print(f"  ffmpeg subprocess       {their_seconds * 1e3:9.1f} ms   {reached(theirs)}")
        print(f"  in process / baseline   {own_seconds / their_seconds:9.2f}x")


def main(runs: int) -> None:
    with tempfile.TemporaryDirectory(prefix="nguon-bench-") as scratch:
        asyncio.run(measure(Path(scratch), runs))


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 5)
