from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from nguon.bulletins.models import Bulletin
from nguon.dispatch.models import Delivery
from nguon.endpoints.models import Endpoint
from nguon.incidents.models import Incident, IncidentKind, IncidentStatus, Severity
from nguon.reports.models import DEFAULT_PROVINCE, ReportNarrative, ReportSchedule
from nguon.stats.repository import first_on_air


@dataclass(frozen=True, slots=True)
class IncidentGroup:
    kind: IncidentKind
    severity: Severity
    resolved: bool
    incidents: int


class ReportRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def schedules(self, province_code: str | None) -> Sequence[ReportSchedule]:
        """The province's own periods, or the default's when it keeps none."""
        codes = [DEFAULT_PROVINCE] if province_code is None else [province_code, DEFAULT_PROVINCE]
        rows = (
            await self.session.scalars(
                select(ReportSchedule)
                .where(ReportSchedule.province_code.in_(codes))
                .order_by(ReportSchedule.period)
            )
        ).all()
        own = [row for row in rows if row.province_code == province_code]
        return own or [row for row in rows if row.province_code == DEFAULT_PROVINCE]

    async def narratives(
        self, area_code: str, periods: Sequence[str]
    ) -> dict[str, ReportNarrative]:
        rows = await self.session.scalars(
            select(ReportNarrative).where(
                ReportNarrative.area_code == area_code, ReportNarrative.period.in_(periods)
            )
        )
        return {row.period: row for row in rows}

    async def add_narrative(self, narrative: ReportNarrative) -> None:
        self.session.add(narrative)
        await self.session.flush()

    async def incident_groups(
        self, area_path: str, start: datetime, end: datetime
    ) -> Sequence[IncidentGroup]:
        """Incidents of the area's subtree opened in [start, end), per kind, severity and
        whether they are resolved now."""
        resolved = Incident.status == IncidentStatus.resolved
        result = await self.session.execute(
            select(Incident.kind, Incident.severity, resolved, func.count())
            .where(
                Incident.area_path.startswith(area_path, autoescape=True),
                Incident.opened_at >= start,
                Incident.opened_at < end,
            )
            .group_by(Incident.kind, Incident.severity, resolved)
        )
        return [
            IncidentGroup(kind, severity, bool(done), count)
            for kind, severity, done, count in result.all()
        ]

    async def received_from_above(self, area_path: str, start: datetime, end: datetime) -> int:
        """Real bulletins from outside the area's subtree (the province, the central system)
        delivered to its endpoints, first on air in [start, end)."""
        on_air = first_on_air()
        delivered = (
            select(Delivery.bulletin_id)
            .join(Endpoint, Endpoint.id == Delivery.endpoint_id)
            .where(Endpoint.area_path.startswith(area_path, autoescape=True))
            .distinct()
            .subquery("delivered")
        )
        count = await self.session.scalar(
            select(func.count())
            .select_from(Bulletin)
            .join(on_air, on_air.c.bulletin_id == Bulletin.id)
            .join(delivered, delivered.c.bulletin_id == Bulletin.id)
            .where(
                on_air.c.on_air_at >= start,
                on_air.c.on_air_at < end,
                Bulletin.exercise.is_(False),
                ~Bulletin.origin_area_path.startswith(area_path, autoescape=True),
            )
        )
        return int(count or 0)
