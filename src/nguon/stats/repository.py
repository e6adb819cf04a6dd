"""The report's queries: aggregates computed by the database, one row per group, never the
bulletins, deliveries or plays themselves (a province-wide emergency alone makes thousands)."""

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Float, Subquery, case, func, literal, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

from nguon.areas.levels import AreaLevel
from nguon.areas.models import Area
from nguon.bulletins.enums import BulletinKind, Category, Priority
from nguon.bulletins.models import Bulletin, BulletinRevision
from nguon.dispatch.models import Delivery, Play, PlayOutcome
from nguon.endpoints.models import Endpoint, EndpointHeartbeat, EndpointPlaylist
from nguon.endpoints.windows import DisplayProfile, EndpointKind, Windows
from nguon.kit.db import UTCDateTime

# Plays that put sound or pictures out; a failed play put out nothing.
AIRED = (PlayOutcome.played, PlayOutcome.interrupted)


class SecondsBetween(FunctionElement[float]):
    """`later - earlier` in seconds: instants subtract differently on each backend."""

    type = Float()
    inherit_cache = True


@compiles(SecondsBetween, "postgresql")
def _seconds_between_postgresql(element: SecondsBetween, compiler: SQLCompiler, **kw: Any) -> str:
    later, earlier = (compiler.process(clause, **kw) for clause in element.clauses)
    return f"EXTRACT(EPOCH FROM ({later} - {earlier}))"


@compiles(SecondsBetween, "sqlite")
def _seconds_between_sqlite(element: SecondsBetween, compiler: SQLCompiler, **kw: Any) -> str:
    later, earlier = (compiler.process(clause, **kw) for clause in element.clauses)
    return f"((julianday({later}) - julianday({earlier})) * 86400.0)"


def first_on_air() -> Subquery:
    """Each bulletin's first approval: the moment it first went on air."""
    return (
        select(
            BulletinRevision.bulletin_id,
            func.min(BulletinRevision.approved_at).label("on_air_at"),
        )
        .group_by(BulletinRevision.bulletin_id)
        .subquery("on_air")
    )


def _instant(value: datetime) -> ColumnElement[datetime]:
    return literal(value, UTCDateTime())


@dataclass(frozen=True, slots=True)
class BulletinGroup:
    kind: BulletinKind
    priority: Priority
    level: AreaLevel
    category: Category
    exercise: bool
    source_code: str
    source_name: str
    bulletins: int


@dataclass(frozen=True, slots=True)
class EndpointRow:
    id: int
    code: str
    name: str
    kind: EndpointKind
    profile: DisplayProfile | None
    area_path: str
    enabled: bool
    windows: Windows
    commune_code: str
    commune_name: str
    playlist_version: int
    heard_at: datetime | None
    held_version: int | None
    registered_at: datetime


@dataclass(slots=True)
class PlayedSeconds:
    """An endpoint's airtime: public information, and advertising (001 Điều 8.3), which the
    operating-hours rule for public information (001 Điều 8.1) does not count."""

    public: float = 0.0
    advertising: float = 0.0


@dataclass(frozen=True, slots=True)
class EmergencyRow:
    id: str
    title: str
    exercise: bool
    on_air_at: datetime
    deliveries: int
    delivered: int
    acknowledged: int
    first_delivered_at: datetime | None
    last_delivered_at: datetime | None


class StatsRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def bulletin_groups(
        self, area_path: str, start: datetime, end: datetime
    ) -> Sequence[BulletinGroup]:
        """Bulletins from the area's subtree that first went on air in [start, end), counted
        per combination of kind, priority, level, category, exercise and source unit."""
        on_air = first_on_air()
        result = await self.session.execute(
            select(
                Bulletin.kind,
                Bulletin.priority,
                Bulletin.level,
                Bulletin.category,
                Bulletin.exercise,
                Area.code,
                Area.name,
                func.count(),
            )
            .join(on_air, on_air.c.bulletin_id == Bulletin.id)
            .join(Area, Area.id == Bulletin.origin_area_id)
            .where(
                on_air.c.on_air_at >= start,
                on_air.c.on_air_at < end,
                Bulletin.origin_area_path.startswith(area_path, autoescape=True),
            )
            .group_by(
                Bulletin.kind,
                Bulletin.priority,
                Bulletin.level,
                Bulletin.category,
                Bulletin.exercise,
                Area.code,
                Area.name,
            )
        )
        return [BulletinGroup(*row) for row in result.all()]

    async def endpoints(self, area_path: str) -> Sequence[EndpointRow]:
        """The area's endpoints with their commune and last heartbeat, as columns."""
        result = await self.session.execute(
            select(
                Endpoint.id,
                Endpoint.code,
                Endpoint.name,
                Endpoint.kind,
                Endpoint.profile,
                Endpoint.area_path,
                Endpoint.enabled,
                Endpoint.windows,
                Area.code,
                Area.name,
                EndpointPlaylist.version,
                EndpointHeartbeat.received_at,
                EndpointHeartbeat.held_version,
                Endpoint.created_at,
            )
            .join(Area, Area.id == Endpoint.area_id)
            .join(EndpointPlaylist, EndpointPlaylist.endpoint_id == Endpoint.id)
            .outerjoin(EndpointHeartbeat, EndpointHeartbeat.endpoint_id == Endpoint.id)
            .where(Endpoint.area_path.startswith(area_path, autoescape=True))
            .order_by(Area.code, Endpoint.code)
        )
        return [EndpointRow(*tuple(row)) for row in result.all()]

    async def played_seconds(
        self, area_path: str, start: datetime, end: datetime
    ) -> dict[int, PlayedSeconds]:
        """Per endpoint of the area, the seconds its aired plays of real (not exercise)
        bulletins overlap [start, end): public information and advertising apart."""
        clipped_end = case((Play.ended_at > end, _instant(end)), else_=Play.ended_at)
        clipped_start = case((Play.started_at < start, _instant(start)), else_=Play.started_at)
        advertising = Bulletin.category == Category.advertising
        result = await self.session.execute(
            select(
                Play.endpoint_id, advertising, func.sum(SecondsBetween(clipped_end, clipped_start))
            )
            .join(Endpoint, Endpoint.id == Play.endpoint_id)
            .join(Bulletin, Bulletin.id == Play.bulletin_id)
            .where(
                Endpoint.area_path.startswith(area_path, autoescape=True),
                Play.outcome.in_(AIRED),
                Play.started_at < end,
                Play.ended_at > start,
                Bulletin.exercise.is_(False),
            )
            .group_by(Play.endpoint_id, advertising)
        )
        played: dict[int, PlayedSeconds] = defaultdict(PlayedSeconds)
        for endpoint_id, is_advertising, seconds in result.all():
            # PostgreSQL's EXTRACT answers a numeric (a Decimal here).
            if is_advertising:
                played[endpoint_id].advertising += float(seconds or 0)
            else:
                played[endpoint_id].public += float(seconds or 0)
        return played

    async def emergencies(
        self, area_path: str, start: datetime, end: datetime
    ) -> Sequence[EmergencyRow]:
        """Emergency bulletins that first went on air in [start, end), each with how its
        deliveries to endpoints of the area fared; only those with such a delivery."""
        on_air = first_on_air()
        result = await self.session.execute(
            select(
                Bulletin.id,
                Bulletin.title,
                Bulletin.exercise,
                on_air.c.on_air_at,
                func.count(Delivery.id),
                func.count(Delivery.delivered_at),
                func.count(Delivery.acked_at),
                func.min(Delivery.delivered_at),
                func.max(Delivery.delivered_at),
            )
            .join(on_air, on_air.c.bulletin_id == Bulletin.id)
            .join(Delivery, Delivery.bulletin_id == Bulletin.id)
            .join(Endpoint, Endpoint.id == Delivery.endpoint_id)
            .where(
                Bulletin.priority == Priority.emergency,
                on_air.c.on_air_at >= start,
                on_air.c.on_air_at < end,
                Endpoint.area_path.startswith(area_path, autoescape=True),
            )
            .group_by(Bulletin.id, Bulletin.title, Bulletin.exercise, on_air.c.on_air_at)
            .order_by(on_air.c.on_air_at, Bulletin.id)
        )
        return [EmergencyRow(*row) for row in result.all()]
