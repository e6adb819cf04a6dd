"""An endpoint's page: its state, the commands sent to it with where each stands, and buttons to
send one (switch on or off, volume, restart, fetch now); and the cluster switch, every endpoint
of an area switched off or on at once.

The page takes the commands API's own guards: editors, admins and viewers of the area read it,
a commune's chair the commune's own endpoints; viewers see no buttons, as the API refuses them.
"""

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
from nguon.console.web import render
from nguon.endpoints.endpoints import read_model as endpoint_read
from nguon.endpoints.schemas import CODE_PATTERN
from nguon.identity.principal import Principal
from nguon.kit.db import utcnow
from nguon.kit.errors import InvalidInput
from nguon.kit.schemas import FormModel

router = APIRouter(prefix=CONSOLE, include_in_schema=False)

Reader = Annotated[Principal, Depends(ConsoleAccess(READERS))]
Issuer = Annotated[Principal, Depends(ConsoleAccess(ISSUERS))]
Code = Annotated[str, Path(pattern=CODE_PATTERN)]
COMMANDS_SHOWN = 50


class ClusterFields(FormModel):
    command: Annotated[str, Field(max_length=32)] = ""
    area: Annotated[str, Field(max_length=16)] = ""
    endpoint_kind: Annotated[str, Field(max_length=16)] = ""


class CommandFields(FormModel):
    command: Annotated[str, Field(max_length=32)] = ""
    volume: Annotated[str, Field(max_length=8)] = ""


async def _endpoint(
    commands: Commands, person: Principal, code: str, typed_volume: str = ""
) -> dict[str, Any]:
    endpoint, sent = await commands.history(person, code, COMMANDS_SHOWN)
    view = await commands.endpoints.view(endpoint)
    # Read models: the page outlives a refused action's rollback.
    return {
        "endpoint": endpoint_read(view),
        "liveness": view.liveness,
        "commands": [read_model(command, endpoint.code) for command in sent],
        "may_command": ISSUERS.admits(person.role) and endpoint.enabled,
        "buttons": [kind for kind in CommandKind if kind is not CommandKind.volume],
        "typed_volume": typed_volume,
        "checked_at": utcnow(),
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
    request: Request, code: Code, commands: Commands, person: Reader
) -> Response:
    return render(request, "endpoint.html", await _endpoint(commands, person, code))


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
    commands: Commands,
    person: Issuer,
    fields: Annotated[CommandFields, Form()],
) -> Response:
    context = await _endpoint(commands, person, code, fields.volume)
    keep_on_refusal(request, "endpoint.html", {**context, "refused": fields.command})
    order = {"command": fields.command}
    if fields.command == CommandKind.volume:
        order["volume"] = fields.volume
    request.state.audit_target = f"endpoint:{code}"
    await commands.issue(person, code, validated(CommandOrder, order))
    return RedirectResponse(f"{CONSOLE}/endpoints/{code}#commands", status_code=303)
