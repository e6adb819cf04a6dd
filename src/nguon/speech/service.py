"""Speech for text bulletins: radios play sound, so a bulletin with words and no recording is
read aloud (its title, then its body) into a broadcast MP3, stored as media like an upload.

Never a silent item: a language the engine has no voice for is recorded `no_voice`, an engine
error or timeout `failed`, both with a detail people can read; radios get a bulletin without
a recording only once its speech is `ready`.
"""

import hashlib
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession

from nguon.bulletins.models import Bulletin
from nguon.kit.settings import Settings
from nguon.kit.storage import ObjectStorage, StorageError, create_storage
from nguon.media.codec import Unreadable, broadcast_mp3, off_loop
from nguon.media.kinds import MediaKind
from nguon.media.models import MediaObject
from nguon.media.repository import MediaRepository
from nguon.media.service import MediaService
from nguon.speech.engines import NoVoice, SpeechEngine, SpeechFailed, engine_from
from nguon.speech.models import BulletinSpeech, SpeechStatus
from nguon.speech.normalise import normalise
from nguon.speech.repository import Revision, SpeechRepository

MP3 = "audio/mpeg"
OFF = "off"  # the engine recorded when speech is switched off


@dataclass(frozen=True, slots=True)
class Speech:
    """What a process needs to make speech: the engine (None when speech is off), the
    object storage the MP3s go to, and the settings of the broadcast rendition."""

    engine: SpeechEngine | None
    storage: ObjectStorage
    settings: Settings

    @classmethod
    def configured(cls, settings: Settings, storage: ObjectStorage | None = None) -> "Speech":
        return cls(engine_from(settings), storage or create_storage(settings), settings)


@dataclass(frozen=True, slots=True)
class Spoken:
    """A revision's speech in one language, with its MP3 when it is ready."""

    speech: BulletinSpeech
    media: MediaObject | None


@dataclass(frozen=True, slots=True)
class _Outcome:
    status: SpeechStatus
    detail: str
    voice: str | None = None
    media_id: str | None = None


def spoken_text(title: str, body: str) -> str:
    """The title, then the body, with a full stop between them where the title has none."""
    title = title.strip()
    pause = "" if title.endswith((".", "!", "?", ":")) else "."
    return f"{title}{pause} {body.strip()}"


class SpeechService:
    def __init__(self, session: AsyncSession, speech: Speech) -> None:
        self.session = session
        self.speech = speech
        self.repository = SpeechRepository(session)
        self.media = MediaRepository(session)

    async def wanted(self, bulletin: Bulletin) -> bool:
        """A bulletin with words and no recording among its media is read aloud."""
        if not (bulletin.body or "").strip():
            return False
        media = await self.media.many(bulletin.media)
        return not any(found.kind is MediaKind.audio for found in media.values())

    async def make(self, bulletin: Bulletin, *, unless_made: bool = False) -> BulletinSpeech | None:
        """Make (again) the speech of the bulletin's working revision in its language; with
        `unless_made`, only when that revision has none yet. None when it needs none."""
        if not await self.wanted(bulletin):
            return None
        existing = {s.language: s for s in await self.repository.of_revision(*_working(bulletin))}
        speech = existing.get(bulletin.language)
        if speech is not None and unless_made:
            return speech
        assert bulletin.body is not None  # `wanted` checked it
        text = normalise(spoken_text(bulletin.title, bulletin.body), bulletin.language)
        text_sha256 = hashlib.sha256(text.encode()).hexdigest()
        outcome = await self._read_aloud(text, text_sha256, bulletin.language)
        if speech is None:
            speech = BulletinSpeech(
                bulletin_id=bulletin.id, revision=bulletin.revision, language=bulletin.language
            )
        speech.status = outcome.status
        speech.detail = outcome.detail[:1000]
        speech.engine = self.speech.engine.name if self.speech.engine else OFF
        speech.voice = outcome.voice
        speech.text_sha256 = text_sha256
        speech.media_id = outcome.media_id
        await self.repository.add(speech)
        return speech

    async def _read_aloud(self, text: str, text_sha256: str, language: str) -> _Outcome:
        engine = self.speech.engine
        if engine is None:
            return _Outcome(
                SpeechStatus.no_voice,
                "Speech is switched off on this hub (NGUON_SPEECH_ENGINE=off): radios get "
                "bulletins without a recording only when speech is on.",
            )
        voice = engine.voice_for(language)
        if voice is None:
            return _Outcome(
                SpeechStatus.no_voice,
                f"The {engine.name} speech engine has no voice for the language {language}: "
                "radios get this bulletin only with a recording.",
            )
        before = await self.repository.spoken_before(text_sha256, language, engine.name, voice)
        if before is not None:
            return _Outcome(
                SpeechStatus.ready, _ready_detail(engine, voice), voice, before.media_id
            )
        try:
            media = await self._synthesised(engine, text, language)
        except NoVoice as exc:
            return _Outcome(SpeechStatus.no_voice, str(exc), voice)
        except (SpeechFailed, StorageError) as exc:
            return _Outcome(SpeechStatus.failed, str(exc), voice)
        except Unreadable as exc:
            return _Outcome(
                SpeechStatus.failed, f"The speech engine's audio could not be decoded: {exc}", voice
            )
        return _Outcome(SpeechStatus.ready, _ready_detail(engine, voice), voice, media.id)

    async def _synthesised(self, engine: SpeechEngine, text: str, language: str) -> MediaObject:
        """The engine's audio as the broadcast MP3, stored as media (once per content)."""
        settings = self.speech.settings
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(prefix="speech-", dir=settings.data_dir) as work:
            workdir = Path(work)
            audio = await engine.synthesise(text, language, workdir)
            mp3 = workdir / "broadcast.mp3"
            duration = await off_loop(broadcast_mp3, audio, mp3, settings)
            media = MediaService(self.session, self.speech.storage, settings)
            return await media.keep_file(
                mp3, MP3, MediaKind.audio, duration_s=duration, made_by=f"speech:{engine.name}"
            )


def _working(bulletin: Bulletin) -> Revision:
    return bulletin.id, bulletin.revision


async def working_speech(
    session: AsyncSession, bulletins: Sequence[Bulletin]
) -> dict[str, list[Spoken]]:
    """The speech of each bulletin's working revision (what an editor is asked to approve),
    with its MP3, by bulletin id."""
    found = await SpeechRepository(session).of_revisions([_working(b) for b in bulletins])
    media = await MediaRepository(session).many(
        [s.media_id for spoken in found.values() for s in spoken if s.media_id]
    )
    return {
        bulletin_id: [Spoken(s, media.get(s.media_id or "")) for s in spoken]
        for (bulletin_id, _number), spoken in found.items()
    }


def _ready_detail(engine: SpeechEngine, voice: str) -> str:
    return f"Read aloud by the {engine.name} engine, voice {voice}."
