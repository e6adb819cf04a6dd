"""Fixtures of the report tests: the schedules the migration seeds, and the department's
system as the incident tests have it (reminders go to the same webhook)."""

import importlib.util
from pathlib import Path
from types import ModuleType

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from nguon.reports.models import ReportSchedule
from tests.incidents.conftest import department, notifying

__all__ = ["department", "notifying", "schedule_rows"]

MIGRATION = (
    Path(__file__).parents[2] / "migrations/versions/0020_report_schedules_and_narratives.py"
)


def migration() -> ModuleType:
    spec = importlib.util.spec_from_file_location("migration_0020", MIGRATION)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def schedule_rows() -> list[ReportSchedule]:
    """The schedules the migration seeds (the tests empty every table between them)."""
    columns = ("province_code", "period", "starts_previous_year", "starts_month", "starts_day",
               "ends_month", "ends_day", "units_due_month", "units_due_day",
               "department_due_month", "department_due_day", "outline")  # fmt: skip
    return [ReportSchedule(**dict(zip(columns, row, strict=True))) for row in migration().SEEDED]


@pytest.fixture
async def schedules(sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    async with sessionmaker() as session:
        session.add_all(schedule_rows())
        await session.commit()
