from collections.abc import Collection, Sequence

from sqlalchemy import ColumnElement, select, union_all
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from nguon.kit.db import one_of
from nguon.media.models import MediaObject, MediaRendition


class MediaRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, media_id: str) -> MediaObject | None:
        return await self._one(MediaObject.id == media_id)

    async def many(
        self, media_ids: Sequence[str], *, renditions: bool = False
    ) -> dict[str, MediaObject]:
        if not media_ids:
            return {}
        statement = select(MediaObject).where(MediaObject.id.in_(set(media_ids)))
        if renditions:
            statement = statement.options(
                selectinload(MediaObject.renditions), selectinload(MediaObject.subtitle_tracks)
            )
        return {media.id: media for media in await self.session.scalars(statement)}

    async def by_sha256(self, sha256: str) -> MediaObject | None:
        return await self._one(MediaObject.sha256 == sha256)

    async def _one(self, condition: ColumnElement[bool]) -> MediaObject | None:
        result = await self.session.scalars(
            select(MediaObject)
            .options(
                selectinload(MediaObject.renditions), selectinload(MediaObject.subtitle_tracks)
            )
            .where(condition)
        )
        return result.first()

    async def recorded_keys(self, keys: Collection[str]) -> set[str]:
        """Those of the storage keys that a media object or one of its renditions holds."""
        dialect = self.session.get_bind().dialect
        originals = select(MediaObject.storage_key).where(
            one_of(MediaObject.storage_key, keys, dialect)
        )
        renditions = select(MediaRendition.storage_key).where(
            one_of(MediaRendition.storage_key, keys, dialect)
        )
        return set(await self.session.scalars(union_all(originals, renditions)))

    async def add(self, media: MediaObject) -> None:
        self.session.add(media)
        await self.session.flush()
