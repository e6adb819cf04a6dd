"""Incidents and their rules (Đắk Nông 002 Điều 17; An Giang 004 Điều 7.2; Lai Châu 001
Điều 12.2): who sees and handles one, how it moves from opened to resolved, and the causes the
hub opens one for by itself, each at most once while it lasts."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from nguon.areas.levels import AreaLevel
from nguon.areas.models import Area
from nguon.areas.repository import AreaRepository
from nguon.areas.service import AreaService
from nguon.dispatch.slots import LOCAL
from nguon.endpoints.models import Endpoint
from nguon.endpoints.schemas import focal_person
from nguon.identity.principal import Principal
from nguon.incidents.models import (
    Incident,
    IncidentEntry,
    IncidentKind,
    IncidentStatus,
    Severity,
    TimelineEvent,
)
from nguon.incidents.repository import IncidentRepository, ancestor_paths, visible_to
from nguon.incidents.schemas import (
    IncidentCreate,
    IncidentEndpoint,
    IncidentRead,
    TimelineEntryRead,
)
from nguon.kit.db import utcnow
from nguon.kit.errors import Conflict, Forbidden, NotFound

# Who the timeline names for what the hub does by itself.
SYSTEM = "system"
# The events the department's system is told of.
NOTIFIED = (TimelineEvent.opened, TimelineEvent.resolved)


@dataclass(frozen=True, slots=True)
class IncidentView:
    incident: Incident
    endpoints: Sequence[Endpoint]

    def read(self) -> IncidentRead:
        incident = self.incident
        return IncidentRead(
            id=incident.id,
            kind=incident.kind,
            severity=incident.severity,
            status=incident.status,
            title=incident.title,
            description=incident.description,
            area=incident.area_code,
            endpoints=[
                IncidentEndpoint(
                    code=endpoint.code,
                    name=endpoint.name,
                    area=endpoint.area_code,
                    focal_person=focal_person(endpoint),
                )
                for endpoint in self.endpoints
            ],
            areas=incident.area_codes,
            cause=incident.cause,
            opened_by=incident.opened_by,
            opened_at=incident.opened_at,
            resolved_at=incident.resolved_at,
            timeline=[TimelineEntryRead.model_validate(entry) for entry in incident.timeline],
        )


@dataclass(frozen=True, slots=True)
class IncidentFilter:
    status: IncidentStatus | None = None
    kind: IncidentKind | None = None
    area: str | None = None
    first_day: date | None = None  # local days, both included
    last_day: date | None = None


def sees_above(actor: Principal) -> bool:
    """Those who answer for a province or the nation also see what concerns the hub whole."""
    return actor.area.level in (AreaLevel.central, AreaLevel.province)


def local_midnight(day: date) -> datetime:
    """Where a day on the local clock (Asia/Ho_Chi_Minh) begins."""
    return datetime.combine(day, time(), LOCAL)


def common_path(paths: Sequence[str]) -> str:
    """The path of the narrowest area holding all of these."""
    split = [path.strip("/").split("/") for path in paths]
    shared: list[str] = []
    for parts in zip(*split, strict=False):
        if len(set(parts)) != 1:
            break
        shared.append(parts[0])
    return "/" + "/".join(shared) + "/"


class IncidentService:
    def __init__(self, session: AsyncSession) -> None:
        self.repository = IncidentRepository(session)
        self.areas = AreaRepository(session)
        self.area_service = AreaService(session)

    # --- reading ----------------------------------------------------------------------------

    async def view(self, incident: Incident) -> IncidentView:
        return IncidentView(
            incident, await self.repository.endpoints_with_codes(incident.endpoint_codes)
        )

    async def search_for(
        self, actor: Principal, query: IncidentFilter, before_id: int | None, limit: int
    ) -> list[IncidentView]:
        area_path = None
        if query.area is not None:
            area = await self.area_service.get_by_code(query.area)
            area_path = area.path
        since = local_midnight(query.first_day) if query.first_day else None
        until = local_midnight(query.last_day + timedelta(days=1)) if query.last_day else None
        found = await self.repository.search(
            visible_to(actor.area.path, sees_above(actor)),
            status=query.status,
            kind=query.kind,
            area_path=area_path,
            since=since,
            until=until,
            before_id=before_id,
            limit=limit,
        )
        return [await self.view(incident) for incident in found]

    async def get_for(self, actor: Principal, incident_id: int) -> IncidentView:
        return await self.view(await self._visible(actor, incident_id))

    async def _visible(self, actor: Principal, incident_id: int) -> Incident:
        incident = await self.repository.get(incident_id)
        if incident is None:
            raise NotFound(f"No incident has the id {incident_id}.")
        path = actor.area.path
        if not incident.area_path.startswith(path) and not (
            sees_above(actor) and incident.area_path in ancestor_paths(path)
        ):
            raise Forbidden(
                f"{actor.label} acts in {actor.area.code} ({actor.area.name}); incident "
                f"{incident_id} concerns {incident.area_code}."
            )
        return incident

    # --- people's changes -------------------------------------------------------------------

    async def create_for(self, actor: Principal, fields: IncidentCreate) -> IncidentView:
        endpoints = await self.repository.endpoints_with_codes(sorted(set(fields.endpoints)))
        missing = sorted(set(fields.endpoints) - {endpoint.code for endpoint in endpoints})
        for code in missing:
            raise NotFound(f"No endpoint has the code {code!r}.", codes=missing)
        concerned = [await self.area_service.get_by_code(code) for code in fields.areas]
        for endpoint in endpoints:
            area = await self.areas.get(endpoint.area_id)
            assert area is not None  # areas are never deleted under endpoints (RESTRICT)
            concerned.append(area)
        for area in concerned:
            actor.require_within(area, "incidents")
        scope = await self._area_at(common_path([area.path for area in concerned]))
        incident = await self.open(
            actor.label,
            kind=fields.kind,
            severity=fields.severity,
            title=fields.title,
            description=fields.description,
            area=scope,
            endpoints=endpoints,
            area_codes=sorted({code for code in fields.areas}),
        )
        return IncidentView(incident, endpoints)

    async def _area_at(self, path: str) -> Area:
        area = await self.areas.get(int(path.strip("/").split("/")[-1]))
        assert area is not None  # the common ancestor of stored areas
        return area

    async def act(
        self, actor: Principal, incident_id: int, event: TimelineEvent, note: str
    ) -> IncidentView:
        """Acknowledge, escalate, resolve, or add a note."""
        incident = await self._visible(actor, incident_id)
        await self._move(incident, event, actor.label, note)
        return await self.view(incident)

    async def _move(self, incident: Incident, event: TimelineEvent, actor: str, note: str) -> None:
        resolved = incident.status is IncidentStatus.resolved
        if resolved and event is not TimelineEvent.note:
            raise Conflict(
                f"Incident {incident.id} is resolved; add a note, or open a new one.",
                current_status=incident.status.value,
            )
        if event is TimelineEvent.acknowledged and incident.status is not IncidentStatus.open:
            raise Conflict(
                f"Incident {incident.id} is {incident.status.value} already.",
                current_status=incident.status.value,
            )
        now = utcnow()
        if event is TimelineEvent.acknowledged:
            incident.status = IncidentStatus.acknowledged
        elif event is TimelineEvent.escalated:
            incident.status = IncidentStatus.escalated
        elif event is TimelineEvent.resolved:
            incident.status = IncidentStatus.resolved
            incident.resolved_at = now
        incident.timeline.append(IncidentEntry(event=event, actor=actor, at=now, note=note))
        await self.repository.add(incident)
        if event in NOTIFIED:
            await self._notify(incident, event, now)

    async def _notify(self, incident: Incident, event: TimelineEvent, now: datetime) -> None:
        read = (await self.view(incident)).read()
        payload = {"event": event.value, "incident": read.model_dump(mode="json")}
        await self.repository.add_notice(incident.id, event, payload, now)

    # --- what the hub opens and closes by itself -------------------------------------------

    async def open(
        self,
        actor: str,
        *,
        kind: IncidentKind,
        severity: Severity,
        title: str,
        description: str,
        area: Area,
        endpoints: Sequence[Endpoint] = (),
        area_codes: Sequence[str] = (),
        cause: str | None = None,
    ) -> Incident:
        now = utcnow()
        incident = Incident(
            kind=kind,
            severity=severity,
            status=IncidentStatus.open,
            title=title,
            description=description,
            area_code=area.code,
            area_path=area.path,
            endpoint_codes=[endpoint.code for endpoint in endpoints],
            area_codes=list(area_codes),
            cause=cause,
            opened_by=actor,
            opened_at=now,
            timeline=[
                IncidentEntry(event=TimelineEvent.opened, actor=actor, at=now, note=description)
            ],
        )
        await self.repository.add(incident)
        await self._notify(incident, TimelineEvent.opened, now)
        return incident

    async def open_once(
        self,
        cause: str,
        *,
        kind: IncidentKind,
        severity: Severity,
        title: str,
        description: str,
        area: Area,
        endpoints: Sequence[Endpoint] = (),
    ) -> Incident | None:
        """Open an incident for `cause` unless one is open for it; returns the new one.
        Two requests or workers that see the same cause at once (two heartbeats of a device,
        two workers' passes) race on the unique index of open causes: the loser's savepoint
        is undone and it opens nothing, instead of failing its request."""
        if await self.repository.open_with_cause(cause) is not None:
            return None
        try:
            async with self.repository.session.begin_nested():
                return await self.open(
                    SYSTEM,
                    kind=kind,
                    severity=severity,
                    title=title,
                    description=description,
                    area=area,
                    endpoints=endpoints,
                    cause=cause,
                )
        except IntegrityError:
            if await self.repository.open_with_cause(cause) is None:
                raise
            return None

    async def resolve(self, incident: Incident, note: str) -> None:
        """Resolve an incident the hub opened, as the hub."""
        await self._move(incident, TimelineEvent.resolved, SYSTEM, note)

    async def area_of(self, endpoint: Endpoint) -> Area:
        area = await self.areas.get(endpoint.area_id)
        assert area is not None
        return area

    async def hub_area(self) -> Area:
        """The national root: what concerns the hub as a whole (its audit chain)."""
        return await self.area_service.national_root()
