from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from nguon.areas.models import Area
from nguon.bulletins.models import Bulletin
from nguon.dispatch.models import Delivery
from nguon.endpoints.models import Endpoint
from nguon.incidents.models import Incident, IncidentKind, IncidentStatus, Severity
from nguon.kit.changes import changed
from nguon.kit.db import insert_new
from nguon.kit.notices import NoticeStatus
from nguon.reports.models import DEFAULT_PROVINCE, ReportNarrative, ReportReminder, ReportSchedule
from nguon.reports.schedule import ReportPeriod
from nguon.stats.repository import first_on_air

# The change-feed topic that wakes this process's reminder sender when a reminder was written.
REMINDER_WRITTEN = "report_reminder_written"


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

    async def reminders(self, area_code: str, periods: Sequence[str]) -> dict[str, ReportReminder]:
        rows = await self.session.scalars(
            select(ReportReminder).where(
                ReportReminder.area_code == area_code, ReportReminder.period.in_(periods)
            )
        )
        return {row.period: row for row in rows}

    async def reported_or_reminded(self, area_codes: Sequence[str], period: str) -> set[str]:
        """Of the areas, those whose report for the period is written or already reminded."""
        if not area_codes:
            return set()
        written = await self.session.scalars(
            select(ReportNarrative.area_code).where(
                ReportNarrative.period == period, ReportNarrative.area_code.in_(area_codes)
            )
        )
        reminded = await self.session.scalars(
            select(ReportReminder.area_code).where(
                ReportReminder.period == period, ReportReminder.area_code.in_(area_codes)
            )
        )
        return set(written) | set(reminded)

    async def add_reminders(
        self, areas: Sequence[Area], period: ReportPeriod, now: datetime
    ) -> int:
        """Queue each area's reminder of the period, unless one was queued before."""
        added = 0
        for area in areas:
            due_before = period.due_before(area.level)
            stored = await self.session.scalar(
                insert_new(
                    self.session, ReportReminder, ReportReminder.area_code, ReportReminder.period
                )
                .values(
                    area_code=area.code,
                    period=period.id,
                    due_before=due_before,
                    payload={
                        "event": "report_due",
                        "report": {
                            "area": {"code": area.code, "name": area.name, "level": area.level},
                            "period": period.id,
                            "first_day": period.first_day.isoformat(),
                            "last_day": period.last_day.isoformat(),
                            "due_before": due_before.isoformat(),
                        },
                    },
                    status=NoticeStatus.pending,
                    attempts=0,
                    next_attempt_at=now,
                    created_at=now,
                )
                .returning(ReportReminder.id)
            )
            added += stored is not None
        if added:
            changed(self.session, REMINDER_WRITTEN, {0})
        return added
