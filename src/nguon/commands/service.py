"""Commands to endpoints: who may give them, what they change at once, how they are answered.

A command is stored per endpoint, `pending`, and the command pusher (nguon.commands.pusher)
hands it to every channel the endpoint has (`sent`) and again every NGUON_COMMAND_REPUSH_SECONDS
until the device answers (`acked` or `failed`, over HTTP or MQTT) or NGUON_COMMAND_EXPIRE_SECONDS
have passed (`expired`). A device without push finds its open commands at its poll of
`GET /api/v1/device/commands`.

`switch_off` and `switch_on` move the endpoint's switch when they are issued, not when the
device answers: the hub stops giving the programme at once, so a device that reconnects later
or never answers still gets the playlist of a switched-off endpoint. What a switched-off
endpoint still plays, and how that differs from `enabled`, is nguon.commands.switching.
"""

from collections.abc import Sequence
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from nguon.areas.service import AreaService
from nguon.commands.models import (
    OPEN,
    CommandKind,
    CommandStatus,
    EndpointCommand,
    IssuedCommand,
    new_command_id,
)
from nguon.commands.repository import CommandRepository
from nguon.commands.schemas import AreaCommandOrder, CommandAnswer, CommandOrder
from nguon.dispatch.events import EndpointEvents
from nguon.endpoints.models import Endpoint
from nguon.endpoints.service import EndpointService
from nguon.identity.principal import Principal
from nguon.kit.db import utcnow
from nguon.kit.errors import Conflict, InvalidInput, NotFound
from nguon.kit.settings import Settings

SWITCHES = {CommandKind.switch_off: True, CommandKind.switch_on: False}
Issued = list[tuple[IssuedCommand, str]]  # each command with its endpoint's code


class CommandService:
    def __init__(
        self, session: AsyncSession, endpoints: EndpointService, settings: Settings
    ) -> None:
        self.repository = CommandRepository(session)
        self.endpoints = endpoints
        self.areas = AreaService(session)
        self.events = EndpointEvents(session)
        self.settings = settings

    async def issue(self, actor: Principal, code: str, order: CommandOrder) -> Issued:
        endpoint = await self.endpoints.get(actor, code)
        if not endpoint.enabled:
            raise Conflict(
                f"The endpoint {endpoint.code} is out of service (disabled in the registry) and "
                "takes no commands; put it back in service first."
            )
        return await self._issue(actor, [(endpoint.id, endpoint.code)], order)

    async def issue_in_area(self, actor: Principal, order: AreaCommandOrder) -> Issued:
        """The same command to every endpoint in service below an area: a cluster switched
        off or on at once in an emergency (000/004 Điều 7.2)."""
        area = await self.areas.get_by_code(order.area)
        actor.require_within(area, "endpoints")
        kind = order.endpoint_kind.value if order.endpoint_kind else None
        targets = await self.repository.endpoints_in(area.path, kind)
        if not targets:
            raise InvalidInput(f"No endpoint in service stands in {area.code} ({area.name}).")
        return await self._issue(actor, targets, order)

    async def _issue(
        self, actor: Principal, targets: Sequence[tuple[int, str]], order: CommandOrder
    ) -> Issued:
        now = utcnow()
        expires_at = now + timedelta(seconds=self.settings.command_expire_seconds)
        issued = [
            IssuedCommand(
                public_id=new_command_id(),
                endpoint_id=endpoint_id,
                kind=order.command,
                volume=order.volume,
                status=CommandStatus.pending,
                issued_by=actor.label,
                attempts=0,
                next_attempt_at=now,
                expires_at=expires_at,
                created_at=now,
            )
            for endpoint_id, _code in targets
        ]
        await self.repository.add_many([command.row() for command in issued])
        switched_off = SWITCHES.get(order.command)
        if switched_off is not None:
            moved = await self.repository.switch([e for e, _c in targets], switched_off)
            await self.events.changed(moved)
        return [(command, code) for command, (_e, code) in zip(issued, targets, strict=True)]

    async def history(
        self, actor: Principal, code: str, limit: int
    ) -> tuple[Endpoint, Sequence[EndpointCommand]]:
        endpoint = await self.endpoints.get(actor, code)
        return endpoint, await self.repository.of_endpoint(endpoint.id, limit)

    async def for_device(self, device: Principal) -> tuple[Endpoint, Sequence[EndpointCommand]]:
        """The calling endpoint's commands still waiting for its answer, the oldest first."""
        endpoint = await self.endpoints.of_device(device)
        return endpoint, await self.repository.open_for_endpoint(endpoint.id, utcnow())

    async def answer(
        self, endpoint: Endpoint, public_id: str, answer: CommandAnswer, over: str
    ) -> EndpointCommand:
        """The device's answer to one of its commands. The same answer again (a device that
        answers over MQTT and HTTP, or to a command pushed twice) changes nothing."""
        command = await self.repository.of_device(endpoint.id, public_id)
        if command is None:
            raise NotFound(f"The endpoint {endpoint.code} has no command {public_id!r}.")
        status = CommandStatus(answer.status)
        if command.status is status:
            return command
        if command.status not in OPEN:
            raise Conflict(
                f"The command {public_id} is {command.status.value} already; it takes no answer."
            )
        now = utcnow()
        if command.expires_at <= now:
            raise Conflict(f"The command {public_id} expired before it was answered.")
        command.status = status
        command.answered_at = now
        command.answered_over = over
        command.detail = answer.detail
        return command
