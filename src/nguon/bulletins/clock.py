"""The bulletin clock: scheduled bulletins go on air at valid_from and off at valid_until."""

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from nguon.audit.service import AuditEntry, AuditService, Outcome
from nguon.bulletins.service import BulletinService
from nguon.kit.background import in_background

CLOCK_ACTOR = "system:clock"
log = structlog.get_logger()


async def tick(sessionmaker: async_sessionmaker[AsyncSession]) -> tuple[int, int]:
    """One pass: publish what is due, expire what is past; audited when anything changed."""
    async with sessionmaker() as session:
        published, expired = await BulletinService(session).advance_clock()
        if published or expired:
            entry = AuditEntry(
                actor=CLOCK_ACTOR,
                action="clock advance",
                target=f"published={published},expired={expired}",
                outcome=Outcome.success,
            )
            await AuditService(session).append_and_commit(entry)
        return published, expired


@asynccontextmanager
async def running_clock(
    sessionmaker: async_sessionmaker[AsyncSession], every_seconds: float
) -> AsyncIterator[None]:
    """Tick in the background for as long as the context is open (the app's lifespan)."""

    async def loop() -> None:
        while True:
            try:
                await tick(sessionmaker)
            except Exception:  # a failed pass is retried on the next one
                log.exception("bulletin_clock_failed")
            await asyncio.sleep(every_seconds)

    async with in_background("bulletin-clock", loop):
        yield
