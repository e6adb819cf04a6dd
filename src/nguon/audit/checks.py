"""The record of the chain's verifications (`audit_checks`): who checked it when, how many
records, whether it held. Every worker runs the schedule, but the newest row decides whether a
check is due, so the chain is walked once an interval between them all; `nguon audit verify`
records its checks too. `/readyz` reads the newest."""

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from nguon.audit.models import AuditCheck, AuditCheckStatus
from nguon.audit.repository import AuditCheckRepository
from nguon.audit.service import AuditBreak
from nguon.kit.db import lock_for_writing, utcnow

SCHEDULE = "schedule"
CLI = "cli"
# Serialises the start of checks among processes (any constant no other writer uses).
_CHECK_LOCK_KEY = 0x6E67_6175_6469_74


class AuditChecks:
    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession], interval: timedelta) -> None:
        self.sessionmaker = sessionmaker
        # A check holds its lease for one interval: a process that dies while checking leaves
        # the next check to whoever comes when the interval is over, as the schedule would.
        self.interval = interval

    async def start(self, trigger: str, only_if_due: bool) -> tuple[AuditCheck | None, datetime]:
        """The check begun, and when the next falls due; no check when `only_if_due` and
        another process checked within the interval or is checking now."""
        async with self.sessionmaker() as session:
            checks = AuditCheckRepository(session)
            await lock_for_writing(session, _CHECK_LOCK_KEY)
            now = utcnow()
            latest = await checks.latest()
            if latest is not None and latest.status is AuditCheckStatus.running:
                if latest.lease_until > now and only_if_due:
                    return None, latest.lease_until
                if latest.lease_until <= now:
                    latest.status = AuditCheckStatus.failed
                    latest.detail = "abandoned: the process checking stopped before it finished"
                    latest.finished_at = now
            elif only_if_due and latest is not None and latest.started_at + self.interval > now:
                return None, latest.started_at + self.interval
            check = AuditCheck(
                trigger=trigger,
                status=AuditCheckStatus.running,
                started_at=now,
                lease_until=now + self.interval,
            )
            checks.add(check)
            await session.commit()
        return check, now + self.interval

    async def finish(self, check: AuditCheck, records: int, breaks: Sequence[AuditBreak]) -> None:
        detail = None
        if breaks:
            first = breaks[0]
            detail = f"record {first.record_id}: {first.reason}"
            if len(breaks) > 1:
                detail += f" (and {len(breaks) - 1} more)"
        await self._settle(
            check,
            AuditCheckStatus.broken if breaks else AuditCheckStatus.intact,
            records=records,
            breaks=len(breaks),
            detail=detail,
        )

    async def fail(self, check: AuditCheck, error: BaseException) -> None:
        await self._settle(
            check, AuditCheckStatus.failed, detail=f"{type(error).__name__}: {error}"[:1000]
        )

    async def _settle(
        self,
        check: AuditCheck,
        status: AuditCheckStatus,
        records: int | None = None,
        breaks: int | None = None,
        detail: str | None = None,
    ) -> None:
        async with self.sessionmaker() as session:
            stored = await AuditCheckRepository(session).get(check.id)
            assert stored is not None  # checks are never deleted
            stored.status = status
            stored.finished_at = stored.lease_until = utcnow()
            stored.records, stored.breaks, stored.detail = records, breaks, detail
            await session.commit()
        check.status = status
