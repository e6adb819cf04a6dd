from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Dialect, Table, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from nguon.commands.models import OPEN, CommandKind, CommandStatus, EndpointCommand
from nguon.endpoints.models import Endpoint, EndpointPlaylist
from nguon.endpoints.windows import EndpointKind
from nguon.kit.changes import changed
from nguon.kit.db import insert_rows, one_of

# The change-feed topic that wakes this process's command pusher when commands were written.
COMMANDS_WRITTEN = "endpoint_commands_written"


@dataclass(frozen=True, slots=True)
class DueCommand:
    """A command to push, with what pushing it needs of its endpoint."""

    id: int
    public_id: str
    kind: CommandKind
    volume: int | None
    expires_at: datetime
    attempts: int  # before this push
    endpoint_id: int
    endpoint_code: str
    push_url: str | None
    push_secret_generation: int
    playlist_version: int


class CommandRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    @property
    def _dialect(self) -> Dialect:
        return self.session.get_bind().dialect

    async def add_many(self, rows: Sequence[dict[str, Any]]) -> None:
        """Store commands from column values (an area's command is thousands of rows)."""
        if not rows:
            return
        await insert_rows(self.session, cast(Table, EndpointCommand.__table__), rows)
        changed(self.session, COMMANDS_WRITTEN, {0})

    async def of_endpoint(self, endpoint_id: int, limit: int) -> Sequence[EndpointCommand]:
        """The endpoint's commands, the newest first."""
        result = await self.session.scalars(
            select(EndpointCommand)
            .where(EndpointCommand.endpoint_id == endpoint_id)
            .order_by(EndpointCommand.created_at.desc(), EndpointCommand.id.desc())
            .limit(limit)
        )
        return result.all()

    async def open_for_endpoint(self, endpoint_id: int, now: datetime) -> Sequence[EndpointCommand]:
        """The endpoint's commands still waiting for an answer, the oldest first."""
        result = await self.session.scalars(
            select(EndpointCommand)
            .where(
                EndpointCommand.endpoint_id == endpoint_id,
                EndpointCommand.status.in_(OPEN),
                EndpointCommand.expires_at > now,
            )
            .order_by(EndpointCommand.created_at, EndpointCommand.id)
        )
        return result.all()

    async def of_device(self, endpoint_id: int, public_id: str) -> EndpointCommand | None:
        return await self.session.scalar(
            select(EndpointCommand).where(
                EndpointCommand.endpoint_id == endpoint_id,
                EndpointCommand.public_id == public_id,
            )
        )

    async def expire_overdue(self, now: datetime) -> int:
        result = await self.session.execute(
            update(cast(Table, EndpointCommand.__table__))
            .where(EndpointCommand.status.in_(OPEN), EndpointCommand.expires_at <= now)
            .values(status=CommandStatus.expired, next_attempt_at=now)
        )
        return int(getattr(result, "rowcount", 0) or 0)

    async def claim_due(
        self, now: datetime, limit: int, next_attempt_at: datetime
    ) -> list[DueCommand]:
        """Take up to `limit` due commands with what pushing them needs, and count them sent
        now, due again at `next_attempt_at`: other pushers skip them meanwhile (rows locked
        until the caller commits, then not due). Columns, not entities: an area's command is
        thousands of rows."""
        result = await self.session.execute(
            select(
                EndpointCommand.id,
                EndpointCommand.public_id,
                EndpointCommand.kind,
                EndpointCommand.volume,
                EndpointCommand.expires_at,
                EndpointCommand.attempts,
                Endpoint.id,
                Endpoint.code,
                Endpoint.push_url,
                Endpoint.push_secret_generation,
                EndpointPlaylist.version,
            )
            .join(Endpoint, Endpoint.id == EndpointCommand.endpoint_id)
            .join(EndpointPlaylist, EndpointPlaylist.endpoint_id == Endpoint.id)
            .where(
                EndpointCommand.status.in_(OPEN),
                EndpointCommand.next_attempt_at <= now,
                EndpointCommand.expires_at > now,
                # An endpoint taken out of service since is pushed nothing; its commands expire.
                Endpoint.enabled,
            )
            .order_by(EndpointCommand.next_attempt_at, EndpointCommand.id)
            .limit(limit)
            .with_for_update(skip_locked=True, of=EndpointCommand)
        )
        claimed = [DueCommand(*row) for row in result.all()]
        if claimed:
            commands = cast(Table, EndpointCommand.__table__)
            await self.session.execute(
                update(commands)
                .where(one_of(commands.c.id, [c.id for c in claimed], self._dialect))
                .values(
                    status=CommandStatus.sent,
                    attempts=commands.c.attempts + 1,
                    sent_at=now,
                    next_attempt_at=next_attempt_at,
                )
            )
        return claimed

    async def record_push_errors(self, errors: dict[int, str | None]) -> None:
        """Each command's last webhook failure (None: the gateway took it)."""
        for command_id, error in errors.items():
            await self.session.execute(
                update(EndpointCommand)
                .where(EndpointCommand.id == command_id)
                .values(last_error=error)
            )

    async def endpoints_in(self, area_path: str, kind: str | None) -> list[tuple[int, str]]:
        """The enabled endpoints below an area (of one kind, or any), id and code."""
        query = select(Endpoint.id, Endpoint.code).where(
            Endpoint.area_path.startswith(area_path, autoescape=True), Endpoint.enabled
        )
        if kind is not None:
            query = query.where(Endpoint.kind == kind)
        result = await self.session.execute(query.order_by(Endpoint.code))
        return [(endpoint_id, code) for endpoint_id, code in result.all()]

    async def switch(self, endpoint_ids: Collection[int], switched_off: bool) -> list[int]:
        """Set the endpoints' switch; returns those whose switch moved."""
        if not endpoint_ids:
            return []
        result = await self.session.execute(
            update(cast(Table, Endpoint.__table__))
            .where(
                one_of(Endpoint.id, endpoint_ids, self._dialect),
                Endpoint.switched_off != switched_off,
            )
            .values(switched_off=switched_off)
            .returning(Endpoint.__table__.c.id)
        )
        moved = list(result.scalars().all())
        for loaded in list(self.session.identity_map.values()):
            if isinstance(loaded, Endpoint) and loaded.id in moved:
                set_committed_value(loaded, "switched_off", switched_off)
        return moved

    async def radios_among(self, codes: Collection[str]) -> dict[str, tuple[int, int]]:
        """The radios in service among these codes: code to (id, push secret generation)."""
        if not codes:
            return {}
        result = await self.session.execute(
            select(Endpoint.code, Endpoint.id, Endpoint.push_secret_generation).where(
                one_of(Endpoint.code, codes, self._dialect),
                Endpoint.kind == EndpointKind.radio,
                Endpoint.enabled,
            )
        )
        return {code: (endpoint_id, generation) for code, endpoint_id, generation in result.all()}

    async def endpoint_by_code(self, code: str) -> Endpoint | None:
        return await self.session.scalar(select(Endpoint).where(Endpoint.code == code))
