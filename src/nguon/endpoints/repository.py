from collections.abc import Collection, Sequence

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from nguon.endpoints.models import Endpoint
from nguon.endpoints.windows import EndpointKind
from nguon.kit.changes import changed
from nguon.kit.db import utcnow

# The topic of the change feed that names endpoints whose playlist may have changed.
PLAYLIST_CHANGES = "endpoint_playlist"


class EndpointRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, endpoint_id: int) -> Endpoint | None:
        return await self.session.get(Endpoint, endpoint_id)

    async def by_code(self, code: str) -> Endpoint | None:
        return await self.session.scalar(select(Endpoint).where(Endpoint.code == code))

    async def in_subtree(
        self, area_path: str, kind: EndpointKind | None, limit: int, offset: int
    ) -> Sequence[Endpoint]:
        statement = select(Endpoint).where(
            Endpoint.area_path.startswith(area_path, autoescape=True)
        )
        if kind is not None:
            statement = statement.where(Endpoint.kind == kind)
        result = await self.session.scalars(
            statement.order_by(Endpoint.code).limit(limit).offset(offset)
        )
        return result.all()

    async def add(self, endpoint: Endpoint) -> None:
        self.session.add(endpoint)
        await self.session.flush()

    async def touch(self, endpoint_ids: Collection[int]) -> None:
        """What these endpoints play may have changed: their playlist version moves on."""
        if not endpoint_ids:
            return
        await self.session.execute(
            update(Endpoint)
            .where(Endpoint.id.in_(endpoint_ids))
            .values(
                playlist_version=Endpoint.playlist_version + 1, playlist_changed_at=utcnow()
            )
        )
        changed(self.session, PLAYLIST_CHANGES, endpoint_ids)
