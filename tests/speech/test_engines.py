"""The engines themselves: espeak-ng built in, and a provider's service over HTTP."""

import wave
from pathlib import Path

import pytest

from nguon.media.codec import decoded_seconds
from nguon.speech.engines import EspeakEngine, HttpEngine, NoVoice, SpeechFailed
from nguon.speech.normalise import normalise
from tests.conftest import free_port
from tests.speech.service import TOKEN, SpeechProvider

# Read at the default rate, Vietnamese takes roughly this long a word (espeak-ng: 160 wpm).
SECONDS_PER_WORD = 60 / 160


async def test_espeak_reads_vietnamese_aloud_at_a_speaking_pace(tmp_path: Path) -> None:
    engine = EspeakEngine(words_per_minute=160)
    text = normalise(
        "UBND xã thông báo: ngày 15/10/2026 lúc 7:00 cắt điện để sửa chữa đường dây. "
        "Đề nghị bà con chủ động sắp xếp công việc.",
        "vi",
    )
    words = len(text.split())
    path = await engine.synthesise(text, "vi", tmp_path)
    with wave.open(str(path)) as audio:
        assert (audio.getnchannels(), audio.getsampwidth()) == (1, 2)
        seconds = audio.getnframes() / audio.getframerate()
    assert 0.5 * words * SECONDS_PER_WORD < seconds < 2 * words * SECONDS_PER_WORD
    assert decoded_seconds(path) == pytest.approx(seconds, abs=0.05)


def test_espeak_has_voices_by_language_and_none_for_khmer_or_hmong() -> None:
    engine = EspeakEngine(words_per_minute=160)
    assert engine.voice_for("vi") == "aav/vi"
    assert engine.voice_for("vi-VN") == "aav/vi"
    assert engine.voice_for("vi-VN-x-south") == "aav/vi-VN-x-south"
    assert engine.voice_for("zh") == "sit/cmn"
    assert engine.voice_for("en") == "gmw/en"
    assert engine.voice_for("km") is None
    assert engine.voice_for("hmn") is None


async def test_espeak_refuses_a_language_it_has_no_voice_for(tmp_path: Path) -> None:
    with pytest.raises(NoVoice, match="km"):
        await EspeakEngine(words_per_minute=160).synthesise("ជំរាបសួរ", "km", tmp_path)


async def test_http_engine_posts_the_text_with_its_token_and_keeps_the_audio(
    provider: tuple[SpeechProvider, str], tmp_path: Path
) -> None:
    service, url = provider
    engine = HttpEngine(url, TOKEN, timeout_seconds=5, languages=frozenset())
    path = await engine.synthesise("xin chào bà con", "vi", tmp_path)
    assert path.suffix == ".wav"
    assert decoded_seconds(path) == pytest.approx(2.0, abs=0.05)
    assert service.received == [
        {
            "body": {"text": "xin chào bà con", "language": "vi"},
            "authorization": f"Bearer {TOKEN}",
            "content_type": "application/json",
        }
    ]


async def test_http_engine_tells_no_voice_from_failure(
    provider: tuple[SpeechProvider, str], tmp_path: Path
) -> None:
    service, url = provider
    engine = HttpEngine(url, TOKEN, timeout_seconds=5, languages=frozenset())
    with pytest.raises(NoVoice, match="HTTP 422"):
        await engine.synthesise("ជំរាបសួរ", "km", tmp_path)
    service.failing = True
    with pytest.raises(SpeechFailed, match=r"HTTP 500: .*synthesiser crashed"):
        await engine.synthesise("xin chào", "vi", tmp_path)


async def test_http_engine_asks_only_for_the_languages_it_is_said_to_speak(
    provider: tuple[SpeechProvider, str], tmp_path: Path
) -> None:
    service, url = provider
    engine = HttpEngine(url, TOKEN, timeout_seconds=5, languages=frozenset({"vi"}))
    assert engine.voice_for("vi-VN") == "vi-VN"
    assert engine.voice_for("km") is None
    with pytest.raises(NoVoice):
        await engine.synthesise("ជំរាបសួរ", "km", tmp_path)
    assert service.received == []


async def test_http_engine_fails_on_a_service_that_does_not_answer(tmp_path: Path) -> None:
    engine = HttpEngine(
        f"http://127.0.0.1:{free_port()}/speak", TOKEN, timeout_seconds=2, languages=frozenset()
    )
    with pytest.raises(SpeechFailed, match="could not be reached"):
        await engine.synthesise("xin chào", "vi", tmp_path)


async def test_http_engine_gives_up_on_a_slow_service(
    provider: tuple[SpeechProvider, str], tmp_path: Path
) -> None:
    service, url = provider
    service.slow_seconds = 1.5
    engine = HttpEngine(url, TOKEN, timeout_seconds=0.3, languages=frozenset())
    with pytest.raises(SpeechFailed, match=r"did not answer within 0\.3 s"):
        await engine.synthesise("xin chào", "vi", tmp_path)
