"""An endpoint's page: its state, its focal person, its uptime, its maintenance records, the
commands sent to it with where each stands, and buttons to send one (switch on or off, volume,
restart, fetch now); and the cluster switch, every endpoint of an area switched off or on at once.

The page takes the commands API's own guards: editors, admins and viewers of the area read it,
a commune's chair the commune's own endpoints; viewers see no buttons, as the API refuses them.
Each part beyond the commands is shown to the roles its own API route admits: maintenance to
the endpoints' readers, uptime to the statistics' readers, the forms to admins.
"""

from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Path, Request
from pydantic import Field
from starlette.responses import RedirectResponse, Response

from nguon.commands.endpoints import ISSUERS, READERS, Commands, read_model
from nguon.commands.models import CommandKind
from nguon.commands.schemas import AreaCommandOrder, CommandOrder
from nguon.commands.service import SWITCHES
from nguon.console.endpoints import CONSOLE, keep_on_refusal
from nguon.console.forms import validated
from nguon.console.session import ConsoleAccess
from nguon.console.web import numbers_in, render, request_language
from nguon.dispatch.slots import LOCAL
from nguon.endpoints.endpoints import READERS as ENDPOINT_READERS
from nguon.endpoints.endpoints import read_model as endpoint_read
from nguon.endpoints.models import MaintenanceKind
from nguon.endpoints.schemas import (
    CODE_PATTERN,
    EndpointRead,
    EndpointUpdate,
    MaintenanceCreate,
    MaintenanceRead,
)
from nguon.identity.access import ADMIN
from nguon.identity.principal import Principal
from nguon.kit.db import utcnow
from nguon.kit.errors import InvalidInput
from nguon.kit.schemas import FormModel
from nguon.stats.endpoints import STATS_READERS
from nguon.stats.uptime import UptimeService
from nguon.unit_of_work import Session

router = APIRouter(prefix=CONSOLE, include_in_schema=False)

Reader = Annotated[Principal, Depends(ConsoleAccess(READERS))]
Issuer = Annotated[Principal, Depends(ConsoleAccess(ISSUERS))]
Admin = Annotated[Principal, Depends(ConsoleAccess(ADMIN))]
Code = Annotated[str, Path(pattern=CODE_PATTERN)]
COMMANDS_SHOWN = 50
MAINTENANCE_SHOWN = 20
# Local days up to today, as the department reads an endpoint's operation (000/004 Điều 6.10).
UPTIME_DAYS = (7, 30)


class ClusterFields(FormModel):
    command: Annotated[str, Field(max_length=32)] = ""
    area: Annotated[str, Field(max_length=16)] = ""
    endpoint_kind: Annotated[str, Field(max_length=16)] = ""


class CommandFields(FormModel):
    command: Annotated[str, Field(max_length=32)] = ""
    volume: Annotated[str, Field(max_length=8)] = ""


# Bounds well past the API's own, so that what is too long is refused in the API's words, on
# the page, beside what was typed.
class FocalFields(FormModel):
    name: Annotated[str, Field(max_length=2_000)] = ""
    phone: Annotated[str, Field(max_length=2_000)] = ""
    organisation: Annotated[str, Field(max_length=2_000)] = ""
    clear: Annotated[str, Field(max_length=8)] = ""


class MaintenanceFields(FormModel):
    day: Annotated[str, Field(max_length=64)] = ""
    kind: Annotated[str, Field(max_length=64)] = ""
    performed_by: Annotated[str, Field(max_length=2_000)] = ""
    outcome: Annotated[str, Field(max_length=5_000)] = ""
    notes: Annotated[str, Field(max_length=50_000)] = ""


async def _endpoint(commands: Commands, person: Principal, code: str) -> dict[str, Any]:
    endpoint, sent = await commands.history(person, code, COMMANDS_SHOWN)
    view = await commands.endpoints.view(endpoint)
    # Read models: the page outlives a refused action's rollback.
    return {
        "endpoint": endpoint_read(view),
        "liveness": view.liveness,
        "commands": [read_model(command, endpoint.code) for command in sent],
        "may_command": ISSUERS.admits(person.role) and endpoint.enabled,
        "buttons": [kind for kind in CommandKind if kind is not CommandKind.volume],
        "typed_volume": "",
        "checked_at": utcnow(),
    }


def _typed_focal(endpoint: EndpointRead) -> dict[str, str]:
    focal = endpoint.focal_person
    return {
        "name": focal.name if focal else "",
        "phone": focal.phone if focal else "",
        "organisation": focal.organisation if focal else "",
    }


async def _uptime(
    session: Session, person: Principal, endpoint: EndpointRead
) -> list[dict[str, Any]]:
    """The endpoint's own row of its commune's uptime report, as `GET /api/v1/stats/uptime`
    gives it, for each span of local days up to today."""
    now = utcnow()
    today = now.astimezone(LOCAL).date()
    service = UptimeService(session)
    shown = []
    for days in UPTIME_DAYS:
        first_day = today - timedelta(days=days - 1)
        report = await service.report_for(person, endpoint.area, first_day, today, now)
        shown += [
            {"days": days, "first_day": first_day, "last_day": today, "row": row}
            for row in report.endpoints
            if row.code == endpoint.code
        ]
    return shown


async def _page(
    request: Request,
    session: Session,
    commands: Commands,
    person: Principal,
    code: str,
    typed: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The whole page: the commands' part, and the records each reader's role may read."""
    context = await _endpoint(commands, person, code)
    endpoint: EndpointRead = context["endpoint"]
    maintenance = None
    if ENDPOINT_READERS.admits(person.role):
        found = await commands.endpoints.maintenance(person, code, MAINTENANCE_SHOWN)
        maintenance = [MaintenanceRead.model_validate(record) for record in found]
    uptime = await _uptime(session, person, endpoint) if STATS_READERS.admits(person.role) else None
    return {
        **context,
        **numbers_in(request_language(request)),
        "focal": endpoint.focal_person,
        "maintenance": maintenance,
        "uptime": uptime,
        "may_keep_records": ADMIN.admits(person.role),
        "maintenance_kinds": list(MaintenanceKind),
        "today": utcnow().astimezone(LOCAL).date(),
        "typed_focal": _typed_focal(endpoint),
        "typed_maintenance": MaintenanceFields().model_dump(),
        "refused": "",
        **(typed or {}),
    }


# --- a cluster switched off or on at once (000/004 Điều 7.2) --------------------------------


def _clusters(person: Principal, typed: dict[str, str] | None = None) -> dict[str, Any]:
    return {
        "typed": typed or {"command": "", "area": person.area.code, "endpoint_kind": ""},
        "switches": [CommandKind.switch_off, CommandKind.switch_on],
    }


@router.get("/clusters")
async def clusters_page(request: Request, person: Issuer) -> Response:
    return render(request, "clusters.html", _clusters(person))


@router.post("/clusters")
async def switch_cluster(
    request: Request,
    commands: Commands,
    person: Issuer,
    fields: Annotated[ClusterFields, Form()],
) -> Response:
    typed = fields.model_dump()
    keep_on_refusal(request, "clusters.html", _clusters(person, typed))
    if fields.command not in {kind.value for kind in SWITCHES}:
        raise InvalidInput("Choose whether to switch the endpoints off or on.")
    order = {key: value for key, value in typed.items() if value}
    request.state.audit_target = f"area:{fields.area}"
    issued = await commands.issue_in_area(person, validated(AreaCommandOrder, order))
    shown = {**_clusters(person, typed), "issued": [read_model(c, code) for c, code in issued]}
    return render(request, "clusters.html", shown, status=201)


# --- one endpoint -------------------------------------------------------------------------


@router.get("/endpoints/{code}")
async def endpoint_page(
    request: Request, code: Code, session: Session, commands: Commands, person: Reader
) -> Response:
    return render(request, "endpoint.html", await _page(request, session, commands, person, code))


@router.get("/endpoints/{code}/commands")
async def endpoint_commands(
    request: Request, code: Code, commands: Commands, person: Reader
) -> Response:
    """The commands' table alone, for the page to refresh while devices answer."""
    return render(request, "endpoint_commands.html", await _endpoint(commands, person, code))


@router.post("/endpoints/{code}/commands")
async def send_command(
    request: Request,
    code: Code,
    session: Session,
    commands: Commands,
    person: Issuer,
    fields: Annotated[CommandFields, Form()],
) -> Response:
    typed = {"typed_volume": fields.volume, "refused": "command", "refused_command": fields.command}
    context = await _page(request, session, commands, person, code, typed)
    keep_on_refusal(request, "endpoint.html", context)
    order = {"command": fields.command}
    if fields.command == CommandKind.volume:
        order["volume"] = fields.volume
    request.state.audit_target = f"endpoint:{code}"
    await commands.issue(person, code, validated(CommandOrder, order))
    return RedirectResponse(f"{CONSOLE}/endpoints/{code}#commands", status_code=303)


# --- the department's records of one endpoint (000/004 Điều 4.1c, 6.8, 7.4) -------------------


@router.post("/endpoints/{code}/focal-person")
async def set_focal_person(
    request: Request,
    code: Code,
    session: Session,
    commands: Commands,
    person: Admin,
    fields: Annotated[FocalFields, Form()],
) -> Response:
    """Name the person the department calls about the endpoint, or nobody (`clear`)."""
    typed = {"typed_focal": fields.model_dump(exclude={"clear"}), "refused": "focal_person"}
    keep_on_refusal(
        request, "endpoint.html", await _page(request, session, commands, person, code, typed)
    )
    focal = None if fields.clear else fields.model_dump(exclude={"clear"})
    request.state.audit_target = f"endpoint:{code}"
    await commands.endpoints.update(
        person, code, validated(EndpointUpdate, {"focal_person": focal})
    )
    return RedirectResponse(f"{CONSOLE}/endpoints/{code}#focal-person", status_code=303)


@router.post("/endpoints/{code}/maintenance")
async def record_maintenance(
    request: Request,
    code: Code,
    session: Session,
    commands: Commands,
    person: Admin,
    fields: Annotated[MaintenanceFields, Form()],
) -> Response:
    typed = {"typed_maintenance": fields.model_dump(), "refused": "maintenance"}
    keep_on_refusal(
        request, "endpoint.html", await _page(request, session, commands, person, code, typed)
    )
    request.state.audit_target = f"endpoint:{code}"
    record = validated(MaintenanceCreate, fields.model_dump())
    await commands.endpoints.record_maintenance(person, code, record)
    return RedirectResponse(f"{CONSOLE}/endpoints/{code}#maintenance", status_code=303)
