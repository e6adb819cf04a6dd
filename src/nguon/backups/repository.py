from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from nguon.backups.models import BackupRun, RunStatus


class BackupRunRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def running(self) -> Sequence[BackupRun]:
        found = await self.session.scalars(
            select(BackupRun).where(BackupRun.status == RunStatus.running)
        )
        return found.all()

    async def latest(self) -> BackupRun | None:
        return await self.session.scalar(
            select(BackupRun).order_by(BackupRun.started_at.desc(), BackupRun.id.desc()).limit(1)
        )

    async def latest_succeeded(self) -> BackupRun | None:
        return await self.session.scalar(
            select(BackupRun)
            .where(BackupRun.status == RunStatus.succeeded)
            .order_by(BackupRun.started_at.desc(), BackupRun.id.desc())
            .limit(1)
        )

    async def last_and_last_succeeded(self) -> tuple[BackupRun | None, BackupRun | None]:
        last = await self.latest()
        if last is None or last.status == RunStatus.succeeded:
            return last, last
        return last, await self.latest_succeeded()

    async def by_backup_id(self, backup_id: str) -> BackupRun | None:
        return await self.session.scalar(select(BackupRun).where(BackupRun.backup_id == backup_id))

    async def recent(self, limit: int) -> Sequence[BackupRun]:
        found = await self.session.scalars(
            select(BackupRun)
            .order_by(BackupRun.started_at.desc(), BackupRun.id.desc())
            .limit(limit)
        )
        return found.all()

    def add(self, run: BackupRun) -> None:
        self.session.add(run)

    async def renew(self, run_id: int, lease_until: datetime) -> None:
        await self.session.execute(
            update(BackupRun)
            .where(BackupRun.id == run_id, BackupRun.status == RunStatus.running)
            .values(lease_until=lease_until)
        )
