"""How fast the built-in engine reads a bulletin aloud.

A 300-word Vietnamese bulletin (numbers, dates, times, units and abbreviations among its
words) is normalised and synthesised by espeak-ng, then made into the broadcast MP3 (mono,
loudness-normalised; `nguon.media.codec.broadcast_mp3`) as radios get it. Prints the seconds
of speech and, for each step and for the whole pipeline, the CPU seconds it took and the
real-time factor (seconds of speech per CPU second, higher is faster), the best of a few
runs; the synthesis alone is the baseline the pipeline is compared with.
Run: `.venv/bin/python bench/speech.py [runs]`.
"""

import asyncio
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TypeVar

from nguon.kit.settings import Settings
from nguon.media.codec import broadcast_mp3, decoded_seconds
from nguon.speech.engines import EspeakEngine
from nguon.speech.normalise import normalise
from nguon.speech.service import spoken_text

TITLE = "Thông báo lịch cắt điện và phòng chống lụt bão"
SENTENCES = [
    "UBND TP. Long Xuyên thông báo: ngày 15/10/2026, từ 7:00 đến 14h30, cắt điện để sửa "
    "chữa đường dây tại các phường Mỹ Bình, Mỹ Long và xã Mỹ Hòa Hưng.",
    "Theo Đài khí tượng, gió mạnh 60 km/h, mưa 120 mm, nhiệt độ khoảng 27°C, độ ẩm 85%.",
    "HĐND TX. Tân Châu đề nghị bà con chằng chống nhà cửa, không ra sông khi có bão.",
    "Mọi thông tin xin liên hệ ĐT: 0296.3852.123 hoặc Ban chỉ huy phòng chống thiên tai "
    "H. Châu Thành, số 0912 345 678, trực 24/24 giờ.",
    "Đề nghị các hộ dân chủ động sắp xếp công việc, dự trữ lương thực, nước uống, thuốc men "
    "và theo dõi thông báo trên đài truyền thanh của xã.",
]
WORDS = 300

T = TypeVar("T")


def bulletin_body() -> str:
    words: list[str] = []
    while len(words) < WORDS:
        words += " ".join(SENTENCES).split()
    return " ".join(words[:WORDS])


async def cpu_seconds(work: Callable[[], Awaitable[T]]) -> tuple[T, float]:
    """The work's result and the process's CPU seconds it took (every thread counted: the
    synthesis runs on espeak's own thread)."""
    started = time.process_time()
    result = await work()
    return result, time.process_time() - started


async def run(runs: int) -> None:
    engine = EspeakEngine(words_per_minute=160)
    text = spoken_text(TITLE, bulletin_body())
    best: dict[str, float] = {}
    speech_seconds = 0.0
    with tempfile.TemporaryDirectory(prefix="bench-speech-") as scratch:
        directory = Path(scratch)
        settings = Settings(data_dir=directory)

        async def normalised() -> str:
            return normalise(text, "vi")

        for _ in range(runs):
            spoken, normalising = await cpu_seconds(normalised)
            wav, synthesising = await cpu_seconds(
                lambda spoken=spoken: engine.synthesise(spoken, "vi", directory)
            )
            mp3 = directory / "broadcast.mp3"
            _duration, encoding = await cpu_seconds(
                lambda wav=wav, mp3=mp3: asyncio.to_thread(broadcast_mp3, wav, mp3, settings)
            )
            speech_seconds = decoded_seconds(wav)
            for step, seconds in (
                ("normalise", normalising),
                ("synthesise", synthesising),
                ("broadcast MP3", encoding),
                ("normalise + synthesise", normalising + synthesising),
                ("whole pipeline", normalising + synthesising + encoding),
            ):
                best[step] = min(best.get(step, seconds), seconds)
    print(f"{WORDS}-word Vietnamese bulletin: {speech_seconds:.1f} s of speech (best of {runs})")
    baseline = best["synthesise"]
    for step, seconds in best.items():
        factor = speech_seconds / seconds if seconds else float("inf")
        print(
            f"  {step:<24} {seconds * 1000:8.1f} ms CPU  {factor:8.0f}x real time  "
            f"{seconds / baseline:6.2f}x the synthesis"
        )


if __name__ == "__main__":
    asyncio.run(run(int(sys.argv[1]) if len(sys.argv) > 1 else 5))
