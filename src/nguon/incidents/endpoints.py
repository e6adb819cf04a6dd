from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request, status

from nguon.areas.schemas import UNKNOWN_AREA
from nguon.identity.access import Access
from nguon.identity.principal import Principal
from nguon.identity.roles import Role
from nguon.incidents.models import IncidentKind, IncidentStatus, TimelineEvent
from nguon.incidents.schemas import (
    AreaCode,
    IncidentCreate,
    IncidentNote,
    IncidentPage,
    IncidentRead,
    IncidentResolution,
)
from nguon.incidents.service import IncidentFilter, IncidentService
from nguon.kit.schemas import ROW_ID_MAX
from nguon.unit_of_work import Session

router = APIRouter(prefix="/api/v1/incidents", tags=["incidents"])

INCIDENT_READERS = Access(Role.admin, Role.editor, Role.viewer)
# The department's people who handle incidents (Đắk Nông 002 Điều 17).
INCIDENT_HANDLERS = Access(Role.admin, Role.editor)
Reader = Annotated[Principal, Depends(INCIDENT_READERS)]
Handler = Annotated[Principal, Depends(INCIDENT_HANDLERS)]
IncidentId = Annotated[int, Path(ge=1, le=ROW_ID_MAX, description="Incident id")]
CONFLICT: dict[int | str, dict[str, Any]] = {
    409: {"description": "The incident is resolved, or already in that state"}
}


@router.get("", summary="Incidents in your area, newest first", responses=UNKNOWN_AREA)
async def list_incidents(
    session: Session,
    actor: Reader,
    status_: Annotated[IncidentStatus | None, Query(alias="status")] = None,
    kind: IncidentKind | None = None,
    area: Annotated[
        AreaCode | None, Query(description="Incidents concerning this unit or below it")
    ] = None,
    first_day: Annotated[
        date | None,
        Query(alias="from", description="First local day (Asia/Ho_Chi_Minh) opened, included"),
    ] = None,
    last_day: Annotated[
        date | None, Query(alias="to", description="Last local day opened, included")
    ] = None,
    before_id: Annotated[
        int | None, Query(ge=1, le=ROW_ID_MAX, description="Page on from here")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> IncidentPage:
    query = IncidentFilter(status_, kind, area, first_day, last_day)
    found = await IncidentService(session).search_for(actor, query, before_id, limit)
    items = [view.read() for view in found]
    return IncidentPage(items=items, next_before_id=items[-1].id if len(items) == limit else None)


@router.get("/{incident_id}", summary="One incident with its timeline")
async def get_incident(session: Session, actor: Reader, incident_id: IncidentId) -> IncidentRead:
    return (await IncidentService(session).get_for(actor, incident_id)).read()


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    summary="Report an incident: power, technical or cyber",
    description="The department's system is told of it (NGUON_INCIDENT_WEBHOOK_URL), and again "
    "when it is resolved.",
    responses={**UNKNOWN_AREA, 404: {"description": "No endpoint or unit has a code you gave"}},
)
async def create_incident(
    session: Session, actor: Handler, body: IncidentCreate, request: Request
) -> IncidentRead:
    view = await IncidentService(session).create_for(actor, body)
    request.state.audit_target = f"incident:{view.incident.id}"
    return view.read()


async def _act(
    session: Session, actor: Principal, incident_id: int, event: TimelineEvent, note: str
) -> IncidentRead:
    return (await IncidentService(session).act(actor, incident_id, event, note)).read()


@router.post("/{incident_id}/acknowledge", summary="Take an open incident", responses=CONFLICT)
async def acknowledge_incident(
    session: Session, actor: Handler, incident_id: IncidentId, body: IncidentNote
) -> IncidentRead:
    return await _act(session, actor, incident_id, TimelineEvent.acknowledged, body.note)


@router.post(
    "/{incident_id}/escalate",
    summary="Pass an incident up (leaders, the vendor, the authorities)",
    responses=CONFLICT,
)
async def escalate_incident(
    session: Session, actor: Handler, incident_id: IncidentId, body: IncidentNote
) -> IncidentRead:
    return await _act(session, actor, incident_id, TimelineEvent.escalated, body.note)


@router.post(
    "/{incident_id}/resolve", summary="Close an incident, saying what was done", responses=CONFLICT
)
async def resolve_incident(
    session: Session, actor: Handler, incident_id: IncidentId, body: IncidentResolution
) -> IncidentRead:
    return await _act(session, actor, incident_id, TimelineEvent.resolved, body.note)


@router.post("/{incident_id}/notes", summary="Add a note to an incident's timeline")
async def note_incident(
    session: Session, actor: Handler, incident_id: IncidentId, body: IncidentResolution
) -> IncidentRead:
    return await _act(session, actor, incident_id, TimelineEvent.note, body.note)
