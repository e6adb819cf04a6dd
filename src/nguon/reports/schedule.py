"""Report periods and their deadlines, from a province's schedule rows.

A period's id is its year and its key: `2026-H1`, `2026-H2` (the halves, 002 Điều 18),
`2026-Y` (the year: An Giang's from 1/1, 000/004 Điều 15; Lai Châu's from 15/12 of the year
before to 14/12, 001 Điều 14). "Before 20/6" is kept as the day itself: the report is late from
the start of that day.
"""

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from nguon.areas.levels import AreaLevel
from nguon.dispatch.slots import LOCAL
from nguon.kit.errors import InvalidInput
from nguon.reports.models import ReportSchedule

# A period of the year before the first needs its first day in a year the calendar has.
FIRST_YEAR, LAST_YEAR = 1901, 9998
PERIOD_ID = re.compile(r"\A([0-9]{4})-([A-Z0-9]{1,8})\Z")
# How a report names its period ("Báo cáo 6 tháng đầu năm 2026"), by the schedule's key.
TITLES = {"H1": "6 tháng đầu năm {year}", "H2": "6 tháng cuối năm {year}", "Y": "năm {year}"}


@dataclass(frozen=True, slots=True)
class ReportPeriod:
    id: str
    first_day: date
    last_day: date  # included
    units_due_before: date  # communes and districts
    department_due_before: date  # the province's department
    outline: str

    @property
    def title(self) -> str:
        year, key = self.id.split("-", 1)
        return TITLES.get(key, "kỳ {year}-" + key).format(year=year)

    @property
    def start(self) -> datetime:
        return datetime.combine(self.first_day, time(), LOCAL)

    @property
    def end(self) -> datetime:
        """The instant after the last day: the end of the figures, excluded."""
        return datetime.combine(self.last_day + timedelta(days=1), time(), LOCAL)

    def due_before(self, level: AreaLevel) -> date:
        """The province reports as the department; units below it by the units' day."""
        if level.rank <= AreaLevel.province.rank:
            return self.department_due_before
        return self.units_due_before


def period_of(schedule: ReportSchedule, year: int) -> ReportPeriod:
    starts = year - 1 if schedule.starts_previous_year else year
    return ReportPeriod(
        id=f"{year}-{schedule.period}",
        first_day=date(starts, schedule.starts_month, schedule.starts_day),
        last_day=date(year, schedule.ends_month, schedule.ends_day),
        units_due_before=date(year, schedule.units_due_month, schedule.units_due_day),
        department_due_before=date(
            year, schedule.department_due_month, schedule.department_due_day
        ),
        outline=schedule.outline,
    )


def periods_on(schedules: Sequence[ReportSchedule], day: date) -> list[ReportPeriod]:
    """The periods of the day's year, and those of the next year already begun on the day
    (Lai Châu's year begins on 15/12 of the year before), in order of their first day."""
    periods = [period_of(schedule, day.year) for schedule in schedules]
    periods += [
        period
        for period in (period_of(schedule, day.year + 1) for schedule in schedules)
        if period.first_day <= day
    ]
    return sorted(periods, key=lambda period: period.first_day)


def parse_period(schedules: Sequence[ReportSchedule], period_id: str) -> ReportPeriod:
    """The period an id names, refused when the province keeps no such period."""
    keys = sorted(schedule.period for schedule in schedules)
    examples = ", ".join(f"2026-{key}" for key in keys)
    matched = PERIOD_ID.match(period_id)
    if matched is None:
        raise InvalidInput(
            f"{period_id!r} is not a report period: write the year and the period, e.g. {examples}."
        )
    year, key = int(matched.group(1)), matched.group(2)
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise InvalidInput(
            f"{period_id!r} is outside the years the hub reports on, {FIRST_YEAR} to {LAST_YEAR}."
        )
    for schedule in schedules:
        if schedule.period == key:
            return period_of(schedule, year)
    raise InvalidInput(
        f"{period_id!r} is no report period of this province: its periods are {examples}."
    )
