"""From a bulletin's schedule and an endpoint's operating windows to concrete times of play.

Pure functions of their arguments; every instant in and out is timezone-aware (UTC out).
Windows and schedule times are local wall-clock times in Asia/Ho_Chi_Minh.
"""

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from nguon.bulletins.enums import Priority
from nguon.endpoints.windows import LOCAL_TIMEZONE, WEEKDAYS, Windows, minutes

LOCAL = ZoneInfo(LOCAL_TIMEZONE)
DAY = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class Span:
    start: datetime
    end: datetime

    def holds(self, moment: datetime) -> bool:
        return self.start <= moment < self.end


def _local_dates(start: datetime, end: datetime) -> Iterator[date]:
    day = start.astimezone(LOCAL).date() - DAY
    last = end.astimezone(LOCAL).date() + DAY
    while day <= last:
        yield day
        day += DAY


def _at(day: date, minute_of_day: int) -> datetime:
    """A local wall-clock minute of a day as a UTC instant (24:00 is the next midnight)."""
    local = datetime.combine(day, time(), tzinfo=LOCAL) + timedelta(minutes=minute_of_day)
    return local.astimezone(UTC)


def window_spans(windows: Windows, start: datetime, end: datetime) -> list[Span]:
    """The operating windows as instants, those that overlap [start, end), in order.

    A window that ends at midnight and one that opens at midnight the next day are one span.
    """
    spans: list[Span] = []
    for day in _local_dates(start, end):
        for text in windows.get(WEEKDAYS[day.weekday()], []):
            opens, closes = minutes(text)
            span = Span(_at(day, opens), _at(day, closes))
            if spans and spans[-1].end == span.start:
                spans[-1] = Span(spans[-1].start, span.end)
            else:
                spans.append(span)
    return [span for span in spans if span.end > start and span.start < end]


@dataclass(frozen=True, slots=True)
class Segment:
    """The stretch of time around a moment between two window edges; `on` inside a window."""

    start: datetime
    end: datetime
    on: bool


def segment_at(windows: Windows, moment: datetime) -> Segment:
    """Inside a window: that window. Outside: the gap from the last closing to the next opening
    (at most a week either way, for an endpoint that never operates)."""
    spans = window_spans(windows, moment - 8 * DAY, moment + 8 * DAY)
    for span in spans:
        if span.holds(moment):
            return Segment(span.start, span.end, on=True)
    before = [span.end for span in spans if span.end <= moment]
    after = [span.start for span in spans if span.start > moment]
    return Segment(
        before[-1] if before else moment - 8 * DAY,
        after[0] if after else moment + 8 * DAY,
        on=False,
    )


def occurrences(schedule: Mapping[str, Any], start: datetime, end: datetime) -> list[datetime]:
    """The times a schedule names in [start, end), repeats included, in order."""
    repeat = int(schedule.get("repeat", 1))
    gap = timedelta(minutes=int(schedule.get("gap_minutes", 0)))
    bases: list[datetime] = []
    if schedule["type"] == "once":
        bases.append(datetime.fromisoformat(schedule["at"]).astimezone(UTC))
    else:
        weekdays = set(schedule.get("weekdays") or WEEKDAYS)
        times = [time.fromisoformat(text) for text in schedule["times"]]
        for day in _local_dates(start - repeat * gap, end):
            if WEEKDAYS[day.weekday()] in weekdays:
                bases += [_at(day, t.hour * 60 + t.minute) for t in times]
    found = {base + k * gap for base in bases for k in range(repeat)}
    return sorted(moment for moment in found if start <= moment < end)


def slots(
    *,
    priority: Priority,
    schedule: Mapping[str, Any] | None,
    first: datetime,
    valid_until: datetime,
    windows: Windows,
    start: datetime,
    end: datetime,
    any_time: bool = False,
) -> list[datetime]:
    """When a bulletin plays on an endpoint, within [start, end).

    `first` is the earliest moment it may play (on air and valid). An emergency plays at that
    moment and at its schedule's times, whatever the windows (Điều 8.1). Otherwise a scheduled
    time inside a window is kept, one outside moves to the next window opening; an unscheduled
    bulletin plays once in every window, at its opening or when it goes on air mid-window.
    `any_time` (an ad hoc posting on a display, Điều 10.2) plays like an emergency: when it
    goes on air and at its schedule's times, windows closed or not.
    """
    if valid_until <= first:
        return []
    found: set[datetime]
    if priority is Priority.emergency or any_time:
        found = {first}
        if schedule:
            found.update(occurrences(schedule, first, valid_until))
    else:
        spans = window_spans(windows, max(start, first) - DAY, max(end, first) + 8 * DAY)
        if schedule:
            found = set()
            for moment in occurrences(schedule, max(first, start - DAY), end):
                opening = next((s for s in spans if s.end > moment), None)
                if opening is not None:
                    found.add(max(moment, opening.start))
        else:
            found = {max(span.start, first) for span in spans if span.end > first}
    return sorted(moment for moment in found if start <= moment < end and moment < valid_until)
