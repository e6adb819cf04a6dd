"""The export's rows, streamed from the database in order: a province's year of plays is far
more than one process should hold at once."""

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Executable, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from nguon.areas.models import Area
from nguon.bulletins.enums import BulletinKind, BulletinStatus, Category, Priority
from nguon.bulletins.models import Bulletin, BulletinRevision
from nguon.dispatch.models import Play, PlayOutcome
from nguon.endpoints.models import Endpoint
from nguon.endpoints.windows import EndpointKind

BATCH = 5000


@dataclass(frozen=True, slots=True)
class BulletinRow:
    id: str
    title: str
    kind: BulletinKind
    category: Category
    priority: Priority
    language: str
    source_code: str
    source_name: str
    contributor: str | None
    created_by: str
    decided_by: str | None
    on_air_at: datetime
    valid_from: datetime
    valid_until: datetime
    status: BulletinStatus
    exercise: bool
    body: str | None


@dataclass(frozen=True, slots=True)
class PlayRow:
    endpoint_code: str
    endpoint_name: str
    endpoint_kind: EndpointKind
    commune_code: str
    commune_name: str
    bulletin_id: str
    title: str
    category: Category
    revision: int
    started_at: datetime
    ended_at: datetime
    outcome: PlayOutcome
    exercise: bool


class ExportRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def bulletins(
        self, area_path: str, start: datetime, end: datetime, advertising: bool
    ) -> AsyncIterator[Sequence[BulletinRow]]:
        """Bulletins from the area's subtree that first went on air in [start, end) (as the
        statistics count them), advertising or the rest, by when they went on air."""
        on_air = (
            select(
                BulletinRevision.bulletin_id,
                func.min(BulletinRevision.approved_at).label("on_air_at"),
            )
            .group_by(BulletinRevision.bulletin_id)
            .subquery("on_air")
        )
        category = (
            Bulletin.category == Category.advertising
            if advertising
            else Bulletin.category != Category.advertising
        )
        query = (
            select(
                Bulletin.id,
                Bulletin.title,
                Bulletin.kind,
                Bulletin.category,
                Bulletin.priority,
                Bulletin.language,
                Area.code,
                Area.name,
                Bulletin.contributor,
                Bulletin.created_by,
                Bulletin.decided_by,
                on_air.c.on_air_at,
                Bulletin.valid_from,
                Bulletin.valid_until,
                Bulletin.status,
                Bulletin.exercise,
                Bulletin.body,
            )
            .join(on_air, on_air.c.bulletin_id == Bulletin.id)
            .join(Area, Area.id == Bulletin.origin_area_id)
            .where(
                on_air.c.on_air_at >= start,
                on_air.c.on_air_at < end,
                Bulletin.origin_area_path.startswith(area_path, autoescape=True),
                category,
            )
            .order_by(on_air.c.on_air_at, Bulletin.id)
        )
        return self._batches(query, BulletinRow)

    def plays(
        self, area_path: str, start: datetime, end: datetime
    ) -> AsyncIterator[Sequence[PlayRow]]:
        """Every play reported by an endpoint of the area that started in [start, end)."""
        query = (
            select(
                Endpoint.code,
                Endpoint.name,
                Endpoint.kind,
                Area.code,
                Area.name,
                Bulletin.id,
                Bulletin.title,
                Bulletin.category,
                Play.revision,
                Play.started_at,
                Play.ended_at,
                Play.outcome,
                Bulletin.exercise,
            )
            .join(Endpoint, Endpoint.id == Play.endpoint_id)
            .join(Area, Area.id == Endpoint.area_id)
            .join(Bulletin, Bulletin.id == Play.bulletin_id)
            .where(
                Endpoint.area_path.startswith(area_path, autoescape=True),
                Play.started_at >= start,
                Play.started_at < end,
            )
            .order_by(Play.started_at, Play.id)
        )
        return self._batches(query, PlayRow)

    async def _batches(
        self, query: Executable, row: type[BulletinRow] | type[PlayRow]
    ) -> AsyncIterator[Sequence[Any]]:
        result = await self.session.stream(query.execution_options(yield_per=BATCH))
        async for batch in result.partitions(BATCH):
            yield [row(*values) for values in batch]
