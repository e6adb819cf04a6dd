from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from nguon.endpoints.models import Endpoint, EndpointHeartbeat
from nguon.incidents.models import (
    Incident,
    IncidentKind,
    IncidentNotice,
    IncidentStatus,
    NoticeStatus,
    TimelineEvent,
)
from nguon.kit.changes import changed
from nguon.kit.db import insert_new

# The change-feed topic that wakes this process's incident notifier when a notice was queued.
NOTICE_WRITTEN = "incident_notice_written"


class IncidentRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, incident: Incident) -> None:
        self.session.add(incident)
        await self.session.flush()

    async def get(self, incident_id: int) -> Incident | None:
        return await self.session.scalar(
            select(Incident)
            .where(Incident.id == incident_id)
            .options(selectinload(Incident.timeline))
            .execution_options(populate_existing=True)
        )

    async def open_with_cause(self, cause: str) -> Incident | None:
        return await self.session.scalar(
            select(Incident)
            .where(Incident.cause == cause, Incident.status != IncidentStatus.resolved)
            .options(selectinload(Incident.timeline))
        )

    async def open_with_causes(self, causes: Sequence[str]) -> Sequence[Incident]:
        result = await self.session.scalars(
            select(Incident)
            .where(Incident.cause.in_(causes), Incident.status != IncidentStatus.resolved)
            .options(selectinload(Incident.timeline))
        )
        return result.all()

    async def open_causes(self, prefix: str) -> set[str]:
        result = await self.session.scalars(
            select(Incident.cause).where(
                Incident.status != IncidentStatus.resolved,
                Incident.cause.startswith(prefix, autoescape=True),
            )
        )
        return {cause for cause in result.all() if cause is not None}

    async def search(
        self,
        visible: ColumnElement[bool],
        *,
        status: IncidentStatus | None,
        kind: IncidentKind | None,
        area_path: str | None,
        since: datetime | None,
        until: datetime | None,
        before_id: int | None,
        limit: int,
    ) -> Sequence[Incident]:
        """Incidents, newest first."""
        statement = (
            select(Incident)
            .where(visible)
            .options(selectinload(Incident.timeline))
            .order_by(Incident.id.desc())
            .limit(limit)
        )
        if status is not None:
            statement = statement.where(Incident.status == status)
        if kind is not None:
            statement = statement.where(Incident.kind == kind)
        if area_path is not None:
            statement = statement.where(Incident.area_path.startswith(area_path, autoescape=True))
        if since is not None:
            statement = statement.where(Incident.opened_at >= since)
        if until is not None:
            statement = statement.where(Incident.opened_at < until)
        if before_id is not None:
            statement = statement.where(Incident.id < before_id)
        result = await self.session.scalars(statement)
        return result.all()

    async def endpoints_with_codes(self, codes: Sequence[str]) -> Sequence[Endpoint]:
        if not codes:
            return []
        result = await self.session.scalars(
            select(Endpoint).where(Endpoint.code.in_(codes)).order_by(Endpoint.code)
        )
        return result.all()

    async def silent_endpoints(self, since: datetime, limit: int) -> Sequence[Endpoint]:
        """Enabled endpoints heard from once, and not since then."""
        result = await self.session.scalars(
            select(Endpoint)
            .join(EndpointHeartbeat, EndpointHeartbeat.endpoint_id == Endpoint.id)
            .where(Endpoint.enabled, EndpointHeartbeat.received_at < since)
            .order_by(EndpointHeartbeat.received_at)
            .limit(limit)
        )
        return result.all()

    # --- notices to the department ------------------------------------------------------

    async def add_notice(
        self, incident_id: int, event: TimelineEvent, payload: dict[str, Any], now: datetime
    ) -> None:
        """Queue a notice unless this incident's notice of this event was queued before."""
        await self.session.execute(
            insert_new(
                self.session, IncidentNotice, IncidentNotice.incident_id, IncidentNotice.event
            ).values(
                incident_id=incident_id,
                event=event,
                payload=payload,
                status=NoticeStatus.pending,
                attempts=0,
                next_attempt_at=now,
                created_at=now,
            )
        )
        changed(self.session, NOTICE_WRITTEN, {0})

    async def notices_of(self, incident_id: int) -> Sequence[IncidentNotice]:
        result = await self.session.scalars(
            select(IncidentNotice)
            .where(IncidentNotice.incident_id == incident_id)
            .order_by(IncidentNotice.id)
        )
        return result.all()


def visible_to(path: str, sees_above: bool) -> ColumnElement[bool]:
    """Incidents within the area at `path`, and, for those who answer for a province or the
    nation (`sees_above`), those about the areas above it (the hub as a whole)."""
    within = Incident.area_path.startswith(path, autoescape=True)
    if not sees_above:
        return within
    return or_(within, Incident.area_path.in_(ancestor_paths(path)))


def ancestor_paths(path: str) -> list[str]:
    """ "/1/7/93/" → ["/1/", "/1/7/"]."""
    parts = path.strip("/").split("/")
    return ["/" + "/".join(parts[:end]) + "/" for end in range(1, len(parts))]
