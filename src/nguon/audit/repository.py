from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from nguon.audit.models import AuditCheck


class AuditCheckRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def latest(self) -> AuditCheck | None:
        return await self.session.scalar(
            select(AuditCheck).order_by(AuditCheck.started_at.desc(), AuditCheck.id.desc()).limit(1)
        )

    async def get(self, check_id: int) -> AuditCheck | None:
        return await self.session.get(AuditCheck, check_id)

    def add(self, check: AuditCheck) -> None:
        self.session.add(check)
