"""The command pusher: hands due commands to the endpoints' channels until they are answered.

Each pass expires the commands past NGUON_COMMAND_EXPIRE_SECONDS, then takes the due ones and
writes, for each, a `command` endpoint event into the outbox (server-sent events carry it to a
connected device, the MQTT channel to a radio) and POSTs it, signed, to the endpoint's push URL
when it has one. A command is due again NGUON_COMMAND_REPUSH_SECONDS later, until the device
answers it.

Webhook body: canonical JSON of `id` (the command's, the same on every push), `type`
(`command`), `endpoint`, `command` (`id`, `command`, `volume`, `expires_at`) and `at`; headers
`X-Timestamp`, `X-Signature` (`nguon.push.signing`) and `X-Nguon-Command` (the id). A 2xx means
the gateway has it, not that the device did it: the device answers at
`POST /api/v1/device/commands/{id}/ack`.
"""

import asyncio
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

import httpx
import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from nguon.commands.repository import COMMANDS_WRITTEN, CommandRepository, DueCommand
from nguon.dispatch.events import COMMAND_EVENT, ENDPOINT_EVENTS
from nguon.kit.background import PassLoop
from nguon.kit.changes import ChangeFeed
from nguon.kit.db import utcnow
from nguon.kit.outbound import Attempt, canonical_json, post_signed
from nguon.kit.outbox import Outbox
from nguon.kit.settings import Settings
from nguon.push.signing import push_secret

log = structlog.get_logger()

BATCH = 500
# How often an idle pusher looks for commands due again (re-pushes, other processes' commands).
POLL_SECONDS = 1.0


def command_json(command: DueCommand) -> dict[str, Any]:
    return {
        "id": command.public_id,
        "command": command.kind.value,
        "volume": command.volume,
        "expires_at": command.expires_at.isoformat(),
    }


def command_event(command: DueCommand, at: datetime) -> dict[str, Any]:
    """The endpoint event that carries a command, shaped as every endpoint event is."""
    return {
        "type": COMMAND_EVENT,
        "endpoint": command.endpoint_code,
        "playlist_version": command.playlist_version,
        "bulletin": None,
        "command": command_json(command),
        "at": at.isoformat(),
    }


def webhook_body(command: DueCommand, at: datetime) -> bytes:
    return canonical_json(
        {
            "id": command.public_id,
            "type": COMMAND_EVENT,
            "endpoint": command.endpoint_code,
            "command": command_json(command),
            "at": at.isoformat(),
        }
    )


class CommandPusher:
    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        settings: Settings,
        feed: ChangeFeed | None = None,
    ) -> None:
        self.sessionmaker = sessionmaker
        self.settings = settings
        self.signing_secret = settings.signing_secret()
        self.repush = timedelta(seconds=settings.command_repush_seconds)
        self.client = httpx.AsyncClient(
            timeout=settings.push_timeout_seconds,
            limits=httpx.Limits(max_connections=settings.push_concurrency),
            follow_redirects=False,
        )
        self.loop = PassLoop(feed, COMMANDS_WRITTEN, POLL_SECONDS, "command_push_failed")

    async def run(self) -> None:
        try:
            await self.loop.run(self._full_pass)
        finally:
            await self.client.aclose()

    async def _full_pass(self) -> bool:
        return await self.push_due() == BATCH

    async def push_due(self) -> int:
        """One pass; returns how many commands were pushed."""
        now = utcnow()
        async with self.sessionmaker() as session:
            repository = CommandRepository(session)
            expired = await repository.expire_overdue(now)
            claimed = await repository.claim_due(now, BATCH, now + self.repush)
            await Outbox(session).emit(
                ENDPOINT_EVENTS, [(c.endpoint_code, command_event(c, now)) for c in claimed]
            )
            await session.commit()
        if expired:
            log.info("commands_expired", commands=expired)
        hooked = [command for command in claimed if command.push_url is not None]
        if hooked:
            attempts = await asyncio.gather(*(self._post(c, now) for c in hooked))
            await self._record(hooked, attempts)
        for command in claimed:
            log.info(
                "command_pushed",
                command=command.public_id,
                endpoint=command.endpoint_code,
                kind=command.kind.value,
                attempts=command.attempts + 1,
            )
        return len(claimed)

    async def _post(self, command: DueCommand, at: datetime) -> Attempt:
        assert command.push_url is not None  # only those are posted
        secret = push_secret(
            self.signing_secret,
            command.endpoint_id,
            command.endpoint_code,
            command.push_secret_generation,
        )
        return await post_signed(
            self.client,
            command.push_url,
            webhook_body(command, at),
            secret,
            {"X-Nguon-Command": command.public_id},
            self.settings.push_timeout_seconds,
        )

    async def _record(self, hooked: Sequence[DueCommand], attempts: Sequence[Attempt]) -> None:
        async with self.sessionmaker() as session:
            await CommandRepository(session).record_push_errors(
                {c.id: attempt.error for c, attempt in zip(hooked, attempts, strict=True)}
            )
            await session.commit()
