"""The incidents pages: the list in the person's area, one incident with its timeline and the
actions on it, and the form to report one (Đắk Nông 002 Điều 17).

Each page takes the API route's own guard and calls the same service; a refused action is
shown beside the form with what the person typed."""

import re
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Form, Request
from pydantic import Field
from starlette.responses import RedirectResponse, Response

from nguon.console.endpoints import CONSOLE, keep_on_refusal
from nguon.console.forms import validated
from nguon.console.session import ConsoleAccess
from nguon.console.web import render
from nguon.identity.principal import Principal
from nguon.incidents.endpoints import INCIDENT_HANDLERS, INCIDENT_READERS, IncidentId
from nguon.incidents.models import IncidentKind, IncidentStatus, Severity, TimelineEvent
from nguon.incidents.schemas import IncidentCreate, IncidentNote, IncidentResolution
from nguon.incidents.service import IncidentFilter, IncidentService
from nguon.kit.schemas import FormModel
from nguon.unit_of_work import Session

router = APIRouter(prefix=CONSOLE, include_in_schema=False)

Reader = Annotated[Principal, Depends(ConsoleAccess(INCIDENT_READERS))]
Handler = Annotated[Principal, Depends(ConsoleAccess(INCIDENT_HANDLERS))]

LISTED = 200
CODES = re.compile(r"[\s,;]+")
ACTIONS: dict[str, TimelineEvent] = {
    "acknowledge": TimelineEvent.acknowledged,
    "escalate": TimelineEvent.escalated,
    "resolve": TimelineEvent.resolved,
    "notes": TimelineEvent.note,
}


class NewIncidentFields(FormModel):
    kind: Annotated[str, Field(max_length=16)] = ""
    severity: Annotated[str, Field(max_length=16)] = ""
    title: Annotated[str, Field(max_length=200)] = ""
    description: Annotated[str, Field(max_length=5000)] = ""
    endpoints: Annotated[str, Field(max_length=7000)] = ""
    areas: Annotated[str, Field(max_length=2000)] = ""


class NoteFields(FormModel):
    note: Annotated[str, Field(max_length=2000)] = ""


def _choices() -> dict[str, Any]:
    return {
        "kinds": list(IncidentKind),
        "severities": list(Severity),
        "statuses": list(IncidentStatus),
        "handles": False,
    }


async def _list_page(
    session: Session, person: Principal, status: IncidentStatus | None
) -> dict[str, Any]:
    found = await IncidentService(session).search_for(
        person, IncidentFilter(status=status), None, LISTED
    )
    return {
        **_choices(),
        "incidents": [view.read() for view in found],
        "status": status.value if status else "",
        "handles": INCIDENT_HANDLERS.admits(person.effective_role),
        "typed": {},
    }


@router.get("/incidents")
async def incidents_page(
    request: Request, session: Session, person: Reader, status: IncidentStatus | None = None
) -> Response:
    return render(request, "incidents.html", await _list_page(session, person, status))


@router.post("/incidents")
async def report_incident(
    request: Request,
    session: Session,
    person: Handler,
    fields: Annotated[NewIncidentFields, Form()],
) -> Response:
    page = await _list_page(session, person, None)
    keep_on_refusal(request, "incidents.html", {**page, "typed": fields.model_dump()})
    body = validated(
        IncidentCreate,
        {
            "kind": fields.kind,
            "severity": fields.severity,
            "title": fields.title,
            "description": fields.description,
            "endpoints": [code for code in CODES.split(fields.endpoints) if code],
            "areas": [code for code in CODES.split(fields.areas) if code],
        },
    )
    view = await IncidentService(session).create_for(person, body)
    request.state.audit_target = f"incident:{view.incident.id}"
    return RedirectResponse(f"{CONSOLE}/incidents/{view.incident.id}", status_code=303)


async def _incident_page(session: Session, person: Principal, incident_id: int) -> dict[str, Any]:
    view = await IncidentService(session).get_for(person, incident_id)
    return {
        "incident": view.read(),
        "handles": INCIDENT_HANDLERS.admits(person.effective_role),
        "refused": None,
        "typed": "",
    }


@router.get("/incidents/{incident_id}")
async def incident_page(
    request: Request, session: Session, person: Reader, incident_id: IncidentId
) -> Response:
    return render(request, "incident.html", await _incident_page(session, person, incident_id))


@router.post("/incidents/{incident_id}/{action}")
async def act_on_incident(
    request: Request,
    session: Session,
    person: Handler,
    incident_id: IncidentId,
    action: Literal["acknowledge", "escalate", "resolve", "notes"],
    fields: Annotated[NoteFields, Form()],
) -> Response:
    request.state.audit_target = f"incident:{incident_id}"
    page = await _incident_page(session, person, incident_id)
    keep_on_refusal(request, "incident.html", {**page, "refused": action, "typed": fields.note})
    # A resolution and a note need words, as the API's own routes ask.
    schema: type[IncidentResolution | IncidentNote] = (
        IncidentResolution if action in ("resolve", "notes") else IncidentNote
    )
    note = validated(schema, {"note": fields.note}).note
    await IncidentService(session).act(person, incident_id, ACTIONS[action], note)
    return RedirectResponse(f"{CONSOLE}/incidents/{incident_id}", status_code=303)
