"""Speech engines: text in a language to an audio file.

`EspeakEngine` is built in (espeak-ng through ctypes, offline, the default); `HttpEngine` asks a
provider's speech service. Both say up front which voice a language gets, or that it has none.
"""

import asyncio
import ctypes
import wave
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Protocol, TypeVar

import espeakng_loader
import filetype
import httpx

from nguon.kit.settings import Settings

# Bytes of the answer read to tell its audio type by content.
SNIFF_BYTES = 4096
# The audio types a speech service may answer with, by content, and the file suffix each gets.
ANSWER_TYPES = {
    "audio/x-wav": ".wav",
    "audio/wav": ".wav",
    "audio/mpeg": ".mp3",
    "audio/ogg": ".ogg",
}
# Answers that mean "no voice for this language" rather than a failure.
NO_VOICE_STATUSES = frozenset({404, 422})
ANSWER_EXCERPT_CHARS = 200


class NoVoice(Exception):
    """The engine has no voice for the language; the message says so in words."""


class SpeechFailed(Exception):
    """The engine could not make the speech (an error, a timeout); the message says why."""


class SpeechEngine(Protocol):
    name: str  # recorded beside each speech, and as the MP3's uploader (`speech:<name>`)

    def voice_for(self, language: str) -> str | None:
        """The voice that reads `language` (BCP 47), or None when there is none."""

    async def synthesise(self, text: str, language: str, directory: Path) -> Path:
        """Read `text` aloud in `language` into an audio file in `directory`; its path.
        Raises `NoVoice` or `SpeechFailed`."""


def primary_subtag(language: str) -> str:
    return language.split("-", 1)[0].lower()


# --- espeak-ng ------------------------------------------------------------------------------

AUDIO_OUTPUT_SYNCHRONOUS = 2
ESPEAK_RATE = 1
POS_CHARACTER = 1
ESPEAK_CHARS_UTF8 = 1
_SynthCallback = ctypes.CFUNCTYPE(
    ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.c_void_p
)


class _VoiceEntry(ctypes.Structure):
    # espeak_VOICE; `languages` is a list of (priority byte, NUL-terminated name), then a 0.
    _fields_ = [
        ("name", ctypes.c_char_p),
        ("languages", ctypes.c_void_p),
        ("identifier", ctypes.c_char_p),
        ("gender", ctypes.c_ubyte),
        ("age", ctypes.c_ubyte),
        ("variant", ctypes.c_ubyte),
        ("xx1", ctypes.c_ubyte),
        ("score", ctypes.c_int),
        ("spare", ctypes.c_void_p),
    ]


@dataclass(frozen=True, slots=True)
class EspeakVoice:
    identifier: str  # what espeak_SetVoiceByName takes: "aav/vi", "sit/cmn"
    languages: tuple[tuple[int, str], ...]  # (priority, lower-case tag); lower is preferred


def choose_voice(voices: list[EspeakVoice], language: str) -> str | None:
    """The voice for a language tag: the one that prefers the whole tag most
    (`vi-VN-x-south`), else the one that prefers its primary subtag most (`zh` → Mandarin,
    which puts zh before Cantonese does; `en` → British English)."""
    for wanted in (language.lower(), primary_subtag(language)):
        ranked = [
            (priority, voice.identifier)
            for voice in voices
            for priority, tag in voice.languages
            if tag == wanted
        ]
        if ranked:
            return min(ranked)[1]
    return None


class _Espeak:
    """The library, used from one thread only: espeak-ng keeps global state."""

    def __init__(self) -> None:
        self.lib = ctypes.CDLL(espeakng_loader.get_library_path())
        self.lib.espeak_Synth.argtypes = [
            ctypes.c_char_p, ctypes.c_size_t, ctypes.c_uint, ctypes.c_int,
            ctypes.c_uint, ctypes.c_uint, ctypes.c_void_p, ctypes.c_void_p,
        ]  # fmt: skip
        self.lib.espeak_SetVoiceByName.argtypes = [ctypes.c_char_p]
        self.lib.espeak_ListVoices.restype = ctypes.POINTER(ctypes.POINTER(_VoiceEntry))
        data = espeakng_loader.get_data_path().encode()
        self.sample_rate = self.lib.espeak_Initialize(AUDIO_OUTPUT_SYNCHRONOUS, 0, data, 0)
        if self.sample_rate <= 0:
            raise SpeechFailed("espeak-ng could not start: its data was not found")
        self._chunks: list[bytes] = []
        # Kept on the instance: the library calls it for as long as the process lives.
        self._callback = _SynthCallback(self._collect)
        self.lib.espeak_SetSynthCallback(self._callback)
        self.voices = self._list_voices()

    def _collect(self, samples: "ctypes._Pointer[ctypes.c_short]", count: int, _events: int) -> int:
        if samples and count > 0:
            self._chunks.append(ctypes.string_at(samples, count * 2))
        return 0

    def _list_voices(self) -> list[EspeakVoice]:
        entries = self.lib.espeak_ListVoices(None)
        voices = []
        index = 0
        while entries[index]:
            entry = entries[index].contents
            languages = []
            address = entry.languages
            while address and (priority := ctypes.c_ubyte.from_address(address).value):
                tag = ctypes.string_at(address + 1)
                languages.append((priority, tag.decode().lower()))
                address += len(tag) + 2
            voices.append(EspeakVoice((entry.identifier or b"").decode(), tuple(languages)))
            index += 1
        return voices

    def speak(self, text: str, voice: str, words_per_minute: int) -> bytes:
        """16-bit mono PCM at `sample_rate`."""
        self._chunks = []
        if self.lib.espeak_SetVoiceByName(voice.encode()) != 0:
            raise SpeechFailed(f"espeak-ng could not load its voice {voice}")
        self.lib.espeak_SetParameter(ESPEAK_RATE, words_per_minute, 0)
        encoded = text.encode()
        status = self.lib.espeak_Synth(
            encoded, len(encoded) + 1, 0, POS_CHARACTER, 0, ESPEAK_CHARS_UTF8, None, None
        )
        if status != 0 or self.lib.espeak_Synchronize() != 0:
            raise SpeechFailed(f"espeak-ng failed to synthesise (error {status})")
        return b"".join(self._chunks)


T = TypeVar("T")


@lru_cache(maxsize=1)
def _espeak_thread() -> ThreadPoolExecutor:
    """The one thread that ever calls espeak-ng, for the whole process."""
    return ThreadPoolExecutor(max_workers=1, thread_name_prefix="espeak")


@lru_cache(maxsize=1)
def _espeak() -> _Espeak:
    return _Espeak()  # only ever called on the espeak thread


def _on_espeak_thread(work: Callable[[_Espeak], T]) -> "asyncio.Future[T]":
    return asyncio.wrap_future(_espeak_thread().submit(lambda: work(_espeak())))


class EspeakEngine:
    """espeak-ng, shipped with the hub: offline, about a thousand times real time."""

    name = "espeak"

    def __init__(self, words_per_minute: int) -> None:
        self.words_per_minute = words_per_minute
        self._voices = _espeak_thread().submit(lambda: _espeak().voices).result()

    def voice_for(self, language: str) -> str | None:
        return choose_voice(self._voices, language)

    async def synthesise(self, text: str, language: str, directory: Path) -> Path:
        voice = self.voice_for(language)
        if voice is None:
            raise NoVoice(f"espeak-ng has no voice for the language {language}.")
        pcm, sample_rate = await _on_espeak_thread(
            lambda engine: (engine.speak(text, voice, self.words_per_minute), engine.sample_rate)
        )
        if not pcm:
            raise SpeechFailed("espeak-ng produced no sound for this text.")
        target = directory / "speech.wav"
        await asyncio.to_thread(_write_wav, target, pcm, sample_rate)
        return target


def _write_wav(target: Path, pcm: bytes, sample_rate: int) -> None:
    with wave.open(str(target), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(sample_rate)
        out.writeframes(pcm)


# --- a provider's speech service --------------------------------------------------------------


class HttpEngine:
    """`POST {url}` with `{"text", "language"}` and a bearer token; the answer is the audio
    (WAV, MP3 or OGG). 404 or 422 means the service has no voice for the language."""

    name = "http"

    def __init__(
        self,
        url: str,
        token: str | None,
        timeout_seconds: float,
        languages: frozenset[str],
    ) -> None:
        self.url = url
        self.token = token
        self.timeout_seconds = timeout_seconds
        self.languages = languages

    def voice_for(self, language: str) -> str | None:
        """The service names its voices itself: the language is the voice, when the service
        is said to speak it (or every language is asked for)."""
        if self.languages and primary_subtag(language) not in self.languages:
            return None
        return language

    async def synthesise(self, text: str, language: str, directory: Path) -> Path:
        if self.voice_for(language) is None:
            raise NoVoice(
                f"The speech service is set to speak {', '.join(sorted(self.languages))}, "
                f"not {language}."
            )
        headers = {"Accept": "audio/wav, audio/mpeg, audio/ogg"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        try:
            # The whole exchange, answer included, is held to the timeout.
            async with (
                asyncio.timeout(self.timeout_seconds),
                httpx.AsyncClient(timeout=self.timeout_seconds) as client,
            ):
                body = {"text": text, "language": language}
                answer = await client.post(self.url, json=body, headers=headers)
        except TimeoutError as exc:
            raise SpeechFailed(
                f"The speech service did not answer within {self.timeout_seconds:g} s."
            ) from exc
        except httpx.HTTPError as exc:
            raise SpeechFailed(f"The speech service could not be reached: {exc!r}.") from exc
        excerpt = answer.content[:ANSWER_EXCERPT_CHARS].decode("utf-8", "replace")
        if answer.status_code in NO_VOICE_STATUSES:
            raise NoVoice(
                f"The speech service has no voice for {language} "
                f"(HTTP {answer.status_code}: {excerpt})."
            )
        if answer.status_code != 200:
            raise SpeechFailed(f"The speech service answered HTTP {answer.status_code}: {excerpt}")
        guess = filetype.guess(answer.content[:SNIFF_BYTES])
        suffix = ANSWER_TYPES.get(guess.mime) if guess else None
        if suffix is None:
            shown = guess.mime if guess else answer.headers.get("content-type", "unknown")
            raise SpeechFailed(f"The speech service answered {shown}, not WAV, MP3 or OGG audio.")
        target = directory / f"speech{suffix}"
        await asyncio.to_thread(target.write_bytes, answer.content)
        return target


def engine_from(settings: Settings) -> SpeechEngine | None:
    """The engine the settings choose; None when speech is off."""
    if settings.speech_engine == "espeak":
        return EspeakEngine(settings.speech_rate_wpm)
    if settings.speech_engine == "http":
        assert settings.speech_url is not None  # the settings refuse http without a URL
        token = settings.speech_token.get_secret_value() if settings.speech_token else None
        return HttpEngine(
            settings.speech_url,
            token,
            settings.speech_timeout_seconds,
            settings.speech_language_subtags,
        )
    return None
