from collections.abc import Collection

from sqlalchemy import and_, false, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from nguon.speech.models import BulletinSpeech, SpeechStatus

# A bulletin revision: (bulletin id, revision number).
Revision = tuple[str, int]


class SpeechRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def of_revision(self, bulletin_id: str, revision: int) -> list[BulletinSpeech]:
        return (await self.of_revisions([(bulletin_id, revision)])).get((bulletin_id, revision), [])

    async def of_revisions(
        self, revisions: Collection[Revision]
    ) -> dict[Revision, list[BulletinSpeech]]:
        """The speech of each revision, by language; a page of bulletins or a playlist names
        tens of revisions."""
        if not revisions:
            return {}
        wanted = [
            and_(BulletinSpeech.bulletin_id == bulletin_id, BulletinSpeech.revision == number)
            for bulletin_id, number in set(revisions)
        ]
        found: dict[Revision, list[BulletinSpeech]] = {}
        for speech in await self.session.scalars(
            select(BulletinSpeech).where(or_(false(), *wanted)).order_by(BulletinSpeech.language)
        ):
            found.setdefault((speech.bulletin_id, speech.revision), []).append(speech)
        return found

    async def ready_media(self, revisions: Collection[Revision]) -> dict[Revision, list[str]]:
        """The media ids of the ready speech of each revision."""
        return {
            revision: [s.media_id for s in spoken if s.media_id and s.status is SpeechStatus.ready]
            for revision, spoken in (await self.of_revisions(revisions)).items()
        }

    async def spoken_before(
        self, text_sha256: str, language: str, engine: str, voice: str
    ) -> BulletinSpeech | None:
        """Ready speech of the same text, read by the same engine and voice."""
        found = await self.session.scalars(
            select(BulletinSpeech)
            .where(
                BulletinSpeech.text_sha256 == text_sha256,
                BulletinSpeech.language == language,
                BulletinSpeech.engine == engine,
                BulletinSpeech.voice == voice,
                BulletinSpeech.status == SpeechStatus.ready,
                BulletinSpeech.media_id.is_not(None),
            )
            .limit(1)
        )
        return found.first()

    async def add(self, speech: BulletinSpeech) -> None:
        self.session.add(speech)
        await self.session.flush()
