from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request, status

from nguon.areas.schemas import UNKNOWN_AREA
from nguon.commands.models import OPEN, CommandFacts
from nguon.commands.schemas import AreaCommandOrder, CommandAnswer, CommandOrder, CommandRead
from nguon.commands.service import CommandService, Issued
from nguon.endpoints.endpoints import Endpoints
from nguon.endpoints.schemas import CODE_PATTERN
from nguon.identity.access import Access
from nguon.identity.principal import Principal
from nguon.identity.roles import Role
from nguon.kit.schemas import Page, pattern
from nguon.unit_of_work import Session

router = APIRouter(prefix="/api/v1", tags=["commands"])
device_router = APIRouter(prefix="/api/v1/device", tags=["device"])

# The department and the editorial board for the endpoints of their area; a commune's chair
# for the commune's own (their area is the commune).
ISSUERS = Access(Role.editor, Role.admin, Role.commune_chair)
READERS = Access(Role.editor, Role.admin, Role.commune_chair, Role.viewer)
DEVICE = Access(Role.endpoint)
Code = Annotated[str, Path(pattern=CODE_PATTERN, description="Endpoint code")]
CommandId = Annotated[
    str, Path(pattern=pattern(r"^[0-9a-f]{32}$", "32 hexadecimal digits"), description="Command id")
]
DISABLED: dict[int | str, dict[str, Any]] = {
    409: {"description": "The endpoint is out of service (disabled)"}
}


def command_service(request: Request, session: Session, endpoints: Endpoints) -> CommandService:
    return CommandService(session, endpoints, request.app.state.settings)


Commands = Annotated[CommandService, Depends(command_service)]


def read_model(command: CommandFacts, code: str) -> CommandRead:
    return CommandRead(
        id=command.public_id,
        endpoint=code,
        command=command.kind,
        volume=command.volume,
        status=command.status,
        issued_by=command.issued_by,
        attempts=command.attempts,
        created_at=command.created_at,
        sent_at=command.sent_at,
        next_attempt_at=command.next_attempt_at if command.status in OPEN else None,
        expires_at=command.expires_at,
        answered_at=command.answered_at,
        answered_over=command.answered_over,
        detail=command.detail,
        last_error=command.last_error,
    )


def page(issued: Issued) -> Page[CommandRead]:
    return Page(items=[read_model(command, code) for command, code in issued])


@router.post(
    "/endpoints/{code}/commands",
    status_code=status.HTTP_201_CREATED,
    summary="Send a command to an endpoint: switch on or off, volume, restart, fetch now",
    description="The command is pushed over every channel the endpoint has (server-sent "
    "events, its webhook, MQTT for radios) and again every NGUON_COMMAND_REPUSH_SECONDS until "
    "the device answers, or `expired` after NGUON_COMMAND_EXPIRE_SECONDS; the device's poll of "
    "`GET /api/v1/device/commands` lists it too. `switch_off` empties the playlist of all but "
    "emergencies at once (002 Điều 8.1: an emergency is played at once, switched off or not); "
    "`switch_on` gives the programme back.",
    responses=DISABLED,
)
async def send_command(
    code: Code,
    body: CommandOrder,
    commands: Commands,
    actor: Annotated[Principal, Depends(ISSUERS)],
    request: Request,
) -> CommandRead:
    request.state.audit_target = f"endpoint:{code}"
    [(command, endpoint)] = await commands.issue(actor, code, body)
    return read_model(command, endpoint)


@router.get("/endpoints/{code}/commands", summary="An endpoint's commands, newest first")
async def list_commands(
    code: Code,
    commands: Commands,
    actor: Annotated[Principal, Depends(READERS)],
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> Page[CommandRead]:
    endpoint, found = await commands.history(actor, code, limit)
    return Page(items=[read_model(command, endpoint.code) for command in found])


@router.post(
    "/commands",
    status_code=status.HTTP_201_CREATED,
    summary="Send a command to every endpoint in service in an area (a cluster switch)",
    description="One command per endpoint, as if sent to each; an emergency cluster switch "
    "(000/004 Điều 7.2: tắt/mở trong trường hợp đột xuất, khẩn cấp).",
    responses={**UNKNOWN_AREA},
)
async def send_area_command(
    body: AreaCommandOrder,
    commands: Commands,
    actor: Annotated[Principal, Depends(ISSUERS)],
    request: Request,
) -> Page[CommandRead]:
    request.state.audit_target = f"area:{body.area}"
    return page(await commands.issue_in_area(actor, body))


@device_router.get(
    "/commands",
    summary="The calling device's commands still waiting for its answer, oldest first",
    description="For devices without push, or to catch up after a reconnection: do each "
    "(once: a command's `id` stays the same however often it is pushed) and answer it.",
)
async def device_commands(
    commands: Commands, device: Annotated[Principal, Depends(DEVICE)]
) -> Page[CommandRead]:
    endpoint, found = await commands.for_device(device)
    return Page(items=[read_model(command, endpoint.code) for command in found])


@device_router.post(
    "/commands/{command_id}/ack",
    summary="Answer a command: done (`acked`) or could not (`failed`)",
    description="The same answer again changes nothing; an answer to a command already "
    "answered otherwise, or expired, is refused (409).",
    responses={409: {"description": "The command is answered otherwise already, or expired"}},
)
async def answer_command(
    command_id: CommandId,
    commands: Commands,
    device: Annotated[Principal, Depends(DEVICE)],
    request: Request,
    body: CommandAnswer | None = None,
) -> CommandRead:
    endpoint = await commands.endpoints.of_device(device)
    request.state.audit_target = f"endpoint:{endpoint.code}"
    answered = await commands.answer(endpoint, command_id, body or CommandAnswer(), "http")
    return read_model(answered, endpoint.code)
