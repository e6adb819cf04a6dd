"""Fixtures of the report tests: the schedules the migrations seed, and the department's
system as the incident tests have it (reminders go to the same webhook)."""

from functools import cache
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Any

import pytest
from sqlalchemy import create_engine, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from nguon.kit.migrate import upgrade_on
from nguon.reports.models import ReportSchedule
from tests.incidents.conftest import department, notifying

__all__ = ["department", "notifying", "schedule_rows"]

COLUMNS = tuple(
    getattr(ReportSchedule, name)
    for name in ("province_code", "period", "starts_previous_year", "starts_month", "starts_day",
                 "ends_month", "ends_day", "units_due_month", "units_due_day",
                 "department_due_month", "department_due_day", "outline")
)  # fmt: skip


@cache
def schedule_rows_seeded() -> tuple[tuple[Any, ...], ...]:
    """The schedule rows the migrations leave, read off a database migrated once."""
    with TemporaryDirectory() as folder:
        engine = create_engine(f"sqlite:///{Path(folder) / 'schedules.db'}")
        with engine.begin() as connection:
            upgrade_on(connection)
        with engine.connect() as connection:
            rows = connection.execute(select(*COLUMNS).order_by(*COLUMNS[:2])).all()
        engine.dispose()
    return tuple(tuple(row) for row in rows)


def schedule_rows() -> list[ReportSchedule]:
    """The schedules the migrations seed (the tests empty every table between them)."""
    return [
        ReportSchedule(**{column.key: value for column, value in zip(COLUMNS, row, strict=True)})
        for row in schedule_rows_seeded()
    ]


@pytest.fixture
async def schedules(sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    async with sessionmaker() as session:
        session.add_all(schedule_rows())
        await session.commit()
