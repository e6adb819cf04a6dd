"""Reminders before each report's deadline (002 Điều 18, 000/004 Điều 15, 001 Điều 14).

NGUON_REPORT_REMINDER_DAYS before an area's deadline, the worker writes one reminder per area
and period whose report nobody has written yet, and (with NGUON_INCIDENT_WEBHOOK_URL) sends it
to the department's webhook as it sends incident notices: `POST` with a JSON body `{"id":
"report:<area>:<period>:due", "event": "report_due", "report": {...}}`, signed and retried the
same way. Without the webhook the reminders are kept, shown by `GET /api/v1/reports` and the
console, and sent once it is set.
"""

import asyncio
from datetime import datetime, timedelta

import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from nguon.areas.repository import AreaRepository
from nguon.audit.service import AuditEntry, AuditService, Outcome
from nguon.dispatch.slots import LOCAL
from nguon.incidents.notifier import NoticeKind
from nguon.kit.settings import Settings
from nguon.reports.models import ReportReminder
from nguon.reports.repository import REMINDER_WRITTEN, ReportRepository
from nguon.reports.schedule import periods_on
from nguon.reports.service import ReportService

log = structlog.get_logger()

REMINDER_ACTOR = "system:report-reminders"


def reminder_id(reminder: ReportReminder) -> str:
    return f"report:{reminder.area_code}:{reminder.period}:due"


REPORT_REMINDERS = NoticeKind(
    ReportReminder, reminder_id, REMINDER_WRITTEN, "report_reminder", "report_reminder_failed"
)


async def write_due_reminders(
    sessionmaker: async_sessionmaker[AsyncSession], settings: Settings, now: datetime
) -> int:
    """Remind every area whose report falls due within the setting's days and is not
    written; returns how many reminders were written (each area and period once)."""
    days = timedelta(days=settings.report_reminder_days)
    today = now.astimezone(LOCAL).date()
    written = 0
    async with sessionmaker() as session:
        service = ReportService(session, settings)
        repository = ReportRepository(session)
        areas = AreaRepository(session)
        provinces = await areas.provinces()
        for province in (await areas.latest_with_codes([p.code for p in provinces])).values():
            periods = [
                period
                for period in periods_on(await service.schedules_of(province), today)
                if any(
                    due - days <= today < due
                    for due in (period.units_due_before, period.department_due_before)
                )
            ]
            if not periods:
                continue
            # A province not re-imported under new validity periods is still served under its
            # old units, and they still report.
            retired = province.valid_until is not None and province.valid_until < today
            units = await areas.subtree(province, on=None if retired else today)
            for period in periods:
                due = [
                    unit
                    for unit in units
                    if period.due_before(unit.level) - days <= today < period.due_before(unit.level)
                ]
                skipped = await repository.reported_or_reminded([u.code for u in due], period.id)
                written += await repository.add_reminders(
                    [unit for unit in due if unit.code not in skipped], period, now
                )
        if written:
            entry = AuditEntry(
                actor=REMINDER_ACTOR,
                action="reports remind",
                target=f"reminders:{written}",
                outcome=Outcome.success,
            )
            await AuditService(session).append_and_commit(entry)
        else:
            await session.commit()
    return written


async def remind_forever(
    sessionmaker: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    while True:
        try:
            written = await write_due_reminders(sessionmaker, settings, datetime.now(LOCAL))
            if written:
                log.info("report_reminders_written", reminders=written)
        except Exception:  # the next pass tries again
            log.exception("report_reminders_failed")
        await asyncio.sleep(settings.report_reminder_check_seconds)
