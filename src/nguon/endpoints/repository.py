from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from nguon.endpoints.models import Endpoint
from nguon.endpoints.windows import EndpointKind


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
