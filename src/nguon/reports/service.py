"""An area's periodic report: the figures of its period, from the services that make them
(`StatsService.report`, `UptimeService.report`), and the narrative a person writes."""

from collections import Counter
from collections.abc import Sequence
from datetime import date, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from nguon.areas.models import Area
from nguon.areas.service import AreaService
from nguon.dispatch.slots import LOCAL
from nguon.identity.principal import Principal
from nguon.incidents.models import IncidentKind, Severity
from nguon.kit.errors import InvalidInput
from nguon.kit.settings import Settings
from nguon.reports.models import ReportNarrative, ReportReminder, ReportSchedule
from nguon.reports.outlines import OUTLINES
from nguon.reports.repository import ReportRepository
from nguon.reports.schedule import ReportPeriod, parse_period, periods_on
from nguon.reports.schemas import (
    AreaPeriods,
    ContentOrigin,
    IncidentCounts,
    NarrativeRead,
    PeriodRead,
    ReminderRead,
    ReportRead,
    ReportStatus,
    SectionRead,
)
from nguon.rules.service import RuleService
from nguon.stats.schemas import AreaRef
from nguon.stats.service import StatsService
from nguon.stats.uptime import UptimeService


def status_of(period: ReportPeriod, due_before: date, written: bool, today: date) -> ReportStatus:
    if written:
        return ReportStatus.written
    if today >= due_before:
        return ReportStatus.overdue
    if today < period.first_day:
        return ReportStatus.upcoming
    return ReportStatus.open


class ReportService:
    def __init__(self, session: AsyncSession, settings: Settings) -> None:
        self.session = session
        self.settings = settings
        self.repository = ReportRepository(session)
        self.areas = AreaService(session)

    async def _area(self, actor: Principal, area_code: str | None) -> Area:
        if area_code is None:
            area = await self.areas.repository.get(actor.area.id)
            assert area is not None  # areas are never deleted under accounts (RESTRICT)
        else:
            area = await self.areas.get_by_code(area_code)
        actor.require_within(area, "reports")
        return area

    async def schedules_of(self, area: Area) -> Sequence[ReportSchedule]:
        province = await RuleService(self.session, self.settings).province_of(area)
        schedules = await self.repository.schedules(None if province is None else province.code)
        if not schedules:
            raise InvalidInput(
                f"No report periods are kept for {area.code} ({area.name}) nor by default."
            )
        return schedules

    async def period_of(self, area: Area, period_id: str) -> ReportPeriod:
        return parse_period(await self.schedules_of(area), period_id)

    async def _period_reads(
        self, area: Area, periods: Sequence[ReportPeriod], today: date
    ) -> list[PeriodRead]:
        ids = [period.id for period in periods]
        written = await self.repository.narratives(area.code, ids)
        reminders = await self.repository.reminders(area.code, ids)
        return [
            self._period_read(area, period, period.id in written, reminders.get(period.id), today)
            for period in periods
        ]

    @staticmethod
    def _period_read(
        area: Area,
        period: ReportPeriod,
        written: bool,
        reminder: ReportReminder | None,
        today: date,
    ) -> PeriodRead:
        due_before = period.due_before(area.level)
        return PeriodRead(
            id=period.id,
            title=period.title,
            first_day=period.first_day,
            last_day=period.last_day,
            due_before=due_before,
            units_due_before=period.units_due_before,
            department_due_before=period.department_due_before,
            status=status_of(period, due_before, written, today),
            reminder=None
            if reminder is None
            else ReminderRead(
                written_at=reminder.created_at, status=reminder.status, sent_at=reminder.sent_at
            ),
        )

    async def periods_for(
        self, actor: Principal, area_code: str | None, period_id: str | None, now: datetime
    ) -> AreaPeriods:
        """The area's periods of this year (or the one named), with deadlines and status."""
        area = await self._area(actor, area_code)
        today = now.astimezone(LOCAL).date()
        if period_id is None:
            periods = periods_on(await self.schedules_of(area), today)
        else:
            periods = [await self.period_of(area, period_id)]
        return AreaPeriods(
            area=AreaRef(code=area.code, name=area.name, level=area.level),
            periods=await self._period_reads(area, periods, today),
        )

    async def report_for(
        self, actor: Principal, area_code: str, period_id: str, now: datetime
    ) -> ReportRead:
        area = await self._area(actor, area_code)
        return await self.report(area, await self.period_of(area, period_id), now)

    async def report(self, area: Area, period: ReportPeriod, now: datetime) -> ReportRead:
        """The report on the period's figures, up to `now` while the period runs."""
        if period.start >= now:
            raise InvalidInput(
                f"The period {period.id} begins on {period.first_day.isoformat()}: there is "
                "nothing to report yet."
            )
        end = min(period.end, now)
        statistics = await StatsService(self.session, self.settings).report(
            area, period.start, end, now
        )
        last_day = (end - timedelta(microseconds=1)).astimezone(LOCAL).date()
        uptime = await UptimeService(self.session).report(area, period.first_day, last_day, now)
        narratives = await self.repository.narratives(area.code, [period.id])
        narrative = narratives.get(period.id)
        (period_read,) = await self._period_reads(area, [period], now.astimezone(LOCAL).date())
        return ReportRead(
            area=AreaRef(code=area.code, name=area.name, level=area.level),
            period=period_read,
            generated_at=now,
            statistics=statistics,
            uptime=uptime,
            incidents=await self._incidents(area, period.start, end),
            content=ContentOrigin(
                built_locally=statistics.bulletins.total,
                received_from_above=await self.repository.received_from_above(
                    area.path, period.start, end
                ),
            ),
            narrative=self._narrative(period.outline, narrative),
        )

    async def _incidents(self, area: Area, start: datetime, end: datetime) -> IncidentCounts:
        groups = await self.repository.incident_groups(area.path, start, end)
        kinds: Counter[IncidentKind] = Counter()
        severities: Counter[Severity] = Counter()
        for group in groups:
            kinds[group.kind] += group.incidents
            severities[group.severity] += group.incidents
        resolved = sum(group.incidents for group in groups if group.resolved)
        total = sum(group.incidents for group in groups)
        return IncidentCounts(
            total=total,
            open=total - resolved,
            resolved=resolved,
            by_kind={kind: kinds[kind] for kind in IncidentKind},
            by_severity={severity: severities[severity] for severity in Severity},
        )

    @staticmethod
    def _narrative(outline: str, narrative: ReportNarrative | None) -> NarrativeRead:
        texts = {} if narrative is None else narrative.sections
        return NarrativeRead(
            outline=outline,
            sections=[
                SectionRead(key=section.key, title=section.title, text=texts.get(section.key, ""))
                for section in OUTLINES[outline]
            ],
            updated_by=None if narrative is None else narrative.updated_by,
            updated_at=None if narrative is None else narrative.updated_at,
        )

    async def write_narrative(
        self,
        actor: Principal,
        area_code: str,
        period_id: str,
        sections: dict[str, str],
        now: datetime,
    ) -> ReportRead:
        """Keep the sections given; the others keep their text."""
        area = await self._area(actor, area_code)
        period = await self.period_of(area, period_id)
        keys = [section.key for section in OUTLINES[period.outline]]
        unknown = sorted(set(sections) - set(keys))
        if unknown:
            raise InvalidInput(
                f"The report's outline has no section {', '.join(unknown)}: its sections are "
                f"{', '.join(keys)}."
            )
        kept = (await self.repository.narratives(area.code, [period.id])).get(period.id)
        if kept is None:
            kept = ReportNarrative(
                area_code=area.code, period=period.id, sections={}, updated_by=actor.label
            )
            await self.repository.add_narrative(kept)
        # A new dict: the JSON column notices a replaced value, not one changed in place.
        kept.sections = {**kept.sections, **sections}
        kept.updated_by = actor.label
        await self.session.flush()
        return await self.report(area, period, now)
