"""Audit entries for HTTP requests: every request that may change state leaves one.

A request that succeeds is recorded in its own transaction (see `nguon.unit_of_work`); one that
fails before or after that point is recorded by `FailedRequestAuditMiddleware`.
"""

import asyncio
from dataclasses import asdict
from typing import Any

import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from nguon.audit.service import AuditEntry, AuditService, Outcome
from nguon.identity.principal import Principal
from nguon.kit.db import database_away_or_busy
from nguon.kit.observability import route_template

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
AUDITED_FLAG = "audited"
log = structlog.get_logger()
# Seconds between tries to store the record of a refused or failed request (about 20 s in all).
RECORD_RETRY_DELAYS = (0.1, 0.5, 1, 2, 5, 10)


def request_entry(scope: Scope, status: int) -> AuditEntry:
    state: dict[str, Any] = scope.get("state", {})
    principal: Principal | None = state.get("principal")
    path_params = scope.get("path_params") or {}
    target = state.get("audit_target") or (
        ",".join(f"{name}={value}" for name, value in sorted(path_params.items())) or None
    )
    client = scope.get("client")
    return AuditEntry(
        actor=principal.label if principal else "anonymous",
        actor_area_path=principal.area.path if principal else None,
        action=f"{scope['method']} {route_template(scope)}",
        target=target,
        outcome=Outcome.of_status(status),
        status=status,
        request_id=state.get("request_id"),
        client=client[0] if client else None,
    )


async def audit_request(session: AsyncSession, scope: Scope, status: int) -> None:
    """Record the request in the session's transaction and commit the two together."""
    await AuditService(session).append_and_commit(request_entry(scope, status))
    scope.setdefault("state", {})[AUDITED_FLAG] = True


class FailedRequestAuditMiddleware:
    def __init__(self, app: ASGIApp, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
        self.app = app
        self.sessionmaker = sessionmaker

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in SAFE_METHODS:
            await self.app(scope, receive, send)
            return
        status = 500

        async def record_then_send(message: Message) -> None:
            # Recorded before the answer leaves: a client told it was refused can find the
            # refusal in the audit trail at once.
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                if not scope.get("state", {}).get(AUDITED_FLAG):
                    await self._record_if_reachable(scope, status)
            await send(message)

        try:
            await self.app(scope, receive, record_then_send)
        finally:
            if not scope.get("state", {}).get(AUDITED_FLAG):
                await self._record(scope, status)

    async def _record_if_reachable(self, scope: Scope, status: int) -> None:
        """One try; while the database is away or busy the answer goes out first (most often
        a 503 the caller should have at once) and `_record` keeps trying after it."""
        try:
            async with self.sessionmaker() as session:
                await audit_request(session, scope, status)
        except Exception as error:
            if not database_away_or_busy(error):
                raise

    async def _record(self, scope: Scope, status: int) -> None:
        """Store the record, trying again while the database is away or busy: the answer has
        been sent (or there is none), so waiting costs the caller nothing, and a request
        refused because the database was busy is recorded once it is free."""
        for delay in (*RECORD_RETRY_DELAYS, None):
            try:
                async with self.sessionmaker() as session:
                    await audit_request(session, scope, status)
                return
            except Exception as error:
                if delay is None or not database_away_or_busy(error):
                    # The record cannot be stored: the log keeps it.
                    log.exception("audit_record_not_stored", **asdict(request_entry(scope, status)))
                    raise
            await asyncio.sleep(delay)
