"""The queries of an emergency's status: figures counted by the database, a handful of rows
whatever the reach, and its deliveries a page at a time (a province-wide emergency has one per
endpoint)."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import ColumnElement, Join, and_, case, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import join

from nguon.bulletins.models import BulletinRevision
from nguon.dispatch.models import UNACKNOWLEDGED, Delivery, DeliveryStatus, Play
from nguon.endpoints.models import Endpoint, EndpointHeartbeat
from nguon.endpoints.windows import EndpointKind
from nguon.stats.repository import AIRED, SecondsBetween


@dataclass(frozen=True, slots=True)
class DeliveryTally:
    """The deliveries in one status to endpoints online or not: how many reached their endpoint,
    were confirmed and were played, and the fewest and most seconds from the approval of the
    revision they carry to their arrival and to their confirmation."""

    status: DeliveryStatus
    online: bool
    deliveries: int
    delivered: int
    acknowledged: int
    played: int
    first_delivery: float | None
    last_delivery: float | None
    first_acknowledgement: float | None
    last_acknowledgement: float | None


@dataclass(frozen=True, slots=True)
class EndpointDelivery:
    """One delivery with its endpoint, the endpoint's last heartbeat and its first play."""

    code: str
    name: str
    kind: EndpointKind
    area_code: str
    bulletin_id: str
    status: DeliveryStatus
    delivered_at: datetime | None
    acked_at: datetime | None
    played_at: datetime | None
    drives: int
    heard_at: datetime | None


def _reached() -> Join:
    """Deliveries with their endpoint and its last heartbeat, if any."""
    return join(Delivery, Endpoint, Endpoint.id == Delivery.endpoint_id).outerjoin(
        EndpointHeartbeat, EndpointHeartbeat.endpoint_id == Endpoint.id
    )


def _reached_and_played(bulletin_ids: Sequence[str]) -> tuple[Join, ColumnElement[datetime]]:
    """`_reached`, with when each endpoint first put the delivered bulletin out (a failed play
    put out nothing); the second is that column."""
    first = (
        select(Play.endpoint_id, Play.bulletin_id, func.min(Play.started_at).label("played_at"))
        .where(Play.bulletin_id.in_(bulletin_ids), Play.outcome.in_(AIRED))
        .group_by(Play.endpoint_id, Play.bulletin_id)
        .subquery("first_play")
    )
    joined = _reached().outerjoin(
        first,
        and_(
            first.c.endpoint_id == Delivery.endpoint_id, first.c.bulletin_id == Delivery.bulletin_id
        ),
    )
    return joined, first.c.played_at


def _heard_since(since: datetime) -> ColumnElement[bool]:
    """The endpoint's last heartbeat came at or after `since` (NULL when it never sent one)."""
    return EndpointHeartbeat.received_at >= since


def _float(seconds: Decimal | float | None) -> float | None:
    """PostgreSQL's EXTRACT answers a numeric (a Decimal here)."""
    return None if seconds is None else float(seconds)


class EmergencyRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def tallies(
        self, bulletin_ids: Sequence[str], online_since: datetime
    ) -> Sequence[DeliveryTally]:
        """The bulletins' deliveries counted by status and by whether their endpoint was heard
        from since `online_since`."""
        reached, played_at = _reached_and_played(bulletin_ids)
        online = case((_heard_since(online_since), True), else_=False).label("online")
        to_arrival = SecondsBetween(Delivery.delivered_at, BulletinRevision.approved_at)
        to_confirmation = SecondsBetween(Delivery.acked_at, BulletinRevision.approved_at)
        result = await self.session.execute(
            select(
                Delivery.status,
                online,
                func.count(),
                func.count(Delivery.delivered_at),
                func.count(Delivery.acked_at),
                func.count(played_at),
                func.min(to_arrival),
                func.max(to_arrival),
                func.min(to_confirmation),
                func.max(to_confirmation),
            )
            .select_from(reached)
            .join(
                BulletinRevision,
                and_(
                    BulletinRevision.bulletin_id == Delivery.bulletin_id,
                    BulletinRevision.number == Delivery.revision,
                ),
            )
            .where(Delivery.bulletin_id.in_(bulletin_ids))
            .group_by(Delivery.status, online)
        )
        return [
            DeliveryTally(
                status, bool(heard), count, delivered, acked, played, *map(_float, extremes)
            )
            for status, heard, count, delivered, acked, played, *extremes in result.all()
        ]

    async def deliveries(
        self,
        bulletin_ids: Sequence[str],
        *,
        stragglers_only: bool,
        after: tuple[str, str] | None,
        limit: int,
    ) -> Sequence[EndpointDelivery]:
        """The bulletins' deliveries in order of endpoint code and bulletin, from after the
        given (code, bulletin id); `stragglers_only` keeps the unacknowledged live ones."""
        reached, played_at = _reached_and_played(bulletin_ids)
        statement = (
            select(
                Endpoint.code,
                Endpoint.name,
                Endpoint.kind,
                Endpoint.area_code,
                Delivery.bulletin_id,
                Delivery.status,
                Delivery.delivered_at,
                Delivery.acked_at,
                played_at,
                Delivery.drives,
                EndpointHeartbeat.received_at,
            )
            .select_from(reached)
            .where(Delivery.bulletin_id.in_(bulletin_ids))
        )
        if stragglers_only:
            statement = statement.where(Delivery.status.in_(UNACKNOWLEDGED))
        if after is not None:
            code, bulletin_id = after
            statement = statement.where(
                or_(
                    Endpoint.code > code,
                    and_(Endpoint.code == code, Delivery.bulletin_id > bulletin_id),
                )
            )
        result = await self.session.execute(
            statement.order_by(Endpoint.code, Delivery.bulletin_id).limit(limit)
        )
        return [EndpointDelivery(*row) for row in result.all()]

    async def stragglers(
        self, bulletin_ids: Sequence[str], online_since: datetime, limit: int
    ) -> Sequence[str]:
        """Codes of the endpoints with an unacknowledged live delivery of the bulletins: those
        heard from since `online_since` first, then by code."""
        offline = case((_heard_since(online_since), 0), else_=1).label("offline")
        result = await self.session.execute(
            select(Endpoint.code, offline)
            .select_from(_reached())
            .where(Delivery.bulletin_id.in_(bulletin_ids), Delivery.status.in_(UNACKNOWLEDGED))
            .distinct()
            .order_by(offline, Endpoint.code)
            .limit(limit)
        )
        return [code for code, _offline in result.all()]
