"""The media sweep: removes what uploads leave behind when they never finish.

A process killed mid-upload leaves a half-written object (a `.partial` file on local disk), and
an upload whose transaction fails after its files were stored (a crash between the two, a lost
database) leaves objects that no media record names. Both are removed once old enough that no
upload still in progress can own them: a half-written object unchanged for
`media_partial_max_age_seconds`, an unrecorded one stored `media_orphan_grace_seconds` ago.
"""

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta

import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from nguon.audit.service import AuditEntry, AuditService, Outcome
from nguon.kit.background import in_background
from nguon.kit.db import utcnow
from nguon.kit.settings import Settings
from nguon.kit.storage import ObjectStorage
from nguon.media.repository import MediaRepository

SWEEP_ACTOR = "system:media-sweep"
MEDIA_PREFIX = "media/"
# Keys looked up in the database at a time.
BATCH = 500
log = structlog.get_logger()


@dataclass(frozen=True, slots=True)
class Swept:
    partials: list[str]
    orphans: list[str]


async def sweep(
    sessionmaker: async_sessionmaker[AsyncSession],
    storage: ObjectStorage,
    settings: Settings,
    now: datetime | None = None,
) -> Swept:
    """One pass; audited when it removed anything."""
    now = now or utcnow()
    partials = await storage.remove_partials(
        now - timedelta(seconds=settings.media_partial_max_age_seconds)
    )
    settled = now - timedelta(seconds=settings.media_orphan_grace_seconds)
    candidates = [
        stored.key for stored in await storage.objects(MEDIA_PREFIX) if stored.modified < settled
    ]
    orphans = []
    async with sessionmaker() as session:
        media = MediaRepository(session)
        for start in range(0, len(candidates), BATCH):
            batch = candidates[start : start + BATCH]
            recorded = await media.recorded_keys(batch)
            orphans += [key for key in batch if key not in recorded]
        # Checked against committed records only: an object whose record is being written
        # now is younger than the grace period, and so not a candidate.
        await session.rollback()
        for key in orphans:
            await storage.delete(key)
        if partials or orphans:
            entry = AuditEntry(
                actor=SWEEP_ACTOR,
                action="media sweep",
                target=f"partials={len(partials)},orphans={len(orphans)}",
                outcome=Outcome.success,
            )
            await AuditService(session).append_and_commit(entry)
    if partials or orphans:
        log.info("media_swept", partials=partials, orphans=orphans)
    return Swept(partials, orphans)


@asynccontextmanager
async def running_media_sweep(
    sessionmaker: async_sessionmaker[AsyncSession], storage: ObjectStorage, settings: Settings
) -> AsyncIterator[None]:
    """Sweep in the background for as long as the context is open (the app's lifespan)."""

    async def loop() -> None:
        while True:
            # Sleep first: a hub that restarts often still sweeps only every so often.
            await asyncio.sleep(settings.media_sweep_seconds)
            try:
                await sweep(sessionmaker, storage, settings)
            except Exception:  # a failed pass is retried on the next one
                log.exception("media_sweep_failed")

    async with in_background("media-sweep", loop):
        yield
