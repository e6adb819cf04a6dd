from collections.abc import Collection, Sequence
from datetime import datetime

from sqlalchemy import Select, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from nguon.endpoints.models import Endpoint, EndpointHeartbeat
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
        self,
        area_path: str,
        kind: EndpointKind | None,
        limit: int,
        offset: int,
        *,
        silent_since: datetime | None = None,
        stale_only: bool = False,
    ) -> Sequence[tuple[Endpoint, EndpointHeartbeat | None]]:
        """Endpoints below the area, each with its last heartbeat. `silent_since` keeps those
        with no heartbeat since then (or none at all); `stale_only` the enabled ones whose last
        heartbeat reports an older playlist than the current one."""
        statement = (
            select(Endpoint, EndpointHeartbeat)
            .outerjoin(EndpointHeartbeat, EndpointHeartbeat.endpoint_id == Endpoint.id)
            .where(Endpoint.area_path.startswith(area_path, autoescape=True))
        )
        if kind is not None:
            statement = statement.where(Endpoint.kind == kind)
        if silent_since is not None:
            statement = statement.where(
                or_(
                    EndpointHeartbeat.endpoint_id.is_(None),
                    EndpointHeartbeat.received_at < silent_since,
                )
            )
        if stale_only:
            statement = statement.where(
                Endpoint.enabled,
                EndpointHeartbeat.endpoint_id.is_not(None),
                or_(
                    EndpointHeartbeat.held_version.is_(None),
                    EndpointHeartbeat.held_version < Endpoint.playlist_version,
                ),
            )
        result = await self.session.execute(
            statement.order_by(Endpoint.code).limit(limit).offset(offset)
        )
        return [(endpoint, heartbeat) for endpoint, heartbeat in result.all()]

    async def heartbeat(self, endpoint_id: int) -> EndpointHeartbeat | None:
        return await self.session.get(EndpointHeartbeat, endpoint_id)

    async def save_heartbeat(self, heartbeat: EndpointHeartbeat) -> None:
        self.session.add(heartbeat)
        await self.session.flush()

    async def add(self, endpoint: Endpoint) -> None:
        self.session.add(endpoint)
        await self.session.flush()

    async def touch(self, endpoints: Collection[int] | Select[int]) -> list[tuple[str, int]]:
        """What these endpoints play may have changed: their playlist version moves on.
        `endpoints` is ids, or a query of them (thousands need not travel as parameters).
        Returns each one's code and new version."""
        if not isinstance(endpoints, Select) and not endpoints:
            return []
        result = await self.session.execute(
            update(Endpoint)
            .where(Endpoint.id.in_(endpoints))
            .values(playlist_version=Endpoint.playlist_version + 1, playlist_changed_at=utcnow())
            .returning(Endpoint.id, Endpoint.code, Endpoint.playlist_version)
        )
        rows = result.all()
        changed(self.session, PLAYLIST_CHANGES, [endpoint_id for endpoint_id, _c, _v in rows])
        return [(code, version) for _id, code, version in rows]

    async def playlist_changed_since(self, since: datetime) -> Sequence[int]:
        result = await self.session.scalars(
            select(Endpoint.id).where(Endpoint.playlist_changed_at >= since)
        )
        return result.all()
