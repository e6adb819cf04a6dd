"""Operating windows: when an endpoint plays, per weekday, in local time (Asia/Ho_Chi_Minh)."""

import itertools
import re
from enum import StrEnum

from nguon.kit.errors import InvalidInput

LOCAL_TIMEZONE = "Asia/Ho_Chi_Minh"
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_SPAN = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-4]):([0-5]\d)$")

Windows = dict[str, list[str]]  # {"mon": ["05:00-06:30", "17:00-18:30"], ...}


class EndpointKind(StrEnum):
    radio = "radio"  # commune IP radio: a cluster of loudspeakers
    display = "display"  # a public electronic display


class DisplayProfile(StrEnum):
    eboard = "eboard"  # bảng tin điện tử công cộng in a commune
    border_gate = "border_gate"  # cụm thông tin điện tử at a border gate


class EndpointProfile(StrEnum):
    """What a province's rules are kept for: a radio, or a display of one profile."""

    radio = "radio"
    eboard = "eboard"
    border_gate = "border_gate"


def endpoint_profile(profile: DisplayProfile | None) -> EndpointProfile:
    """A display's rules follow its profile; an endpoint without one is a radio."""
    return EndpointProfile.radio if profile is None else EndpointProfile(profile.value)


def _every_day(*spans: str) -> Windows:
    return {day: list(spans) for day in WEEKDAYS}


# Decision 002 Điều 10.1 (radio) and 10.2 (e-boards); An Giang's border-gate clusters (Điều 4.3).
DEFAULT_WINDOWS: dict[tuple[EndpointKind, DisplayProfile | None], Windows] = {
    (EndpointKind.radio, None): _every_day("05:00-06:30", "17:00-18:30"),
    (EndpointKind.display, DisplayProfile.eboard): _every_day("05:00-07:00", "17:00-22:00"),
    (EndpointKind.display, DisplayProfile.border_gate): _every_day("07:00-11:00", "14:00-18:00"),
}


def minutes(span: str) -> tuple[int, int]:
    match = _SPAN.match(span)
    if match is None:
        raise InvalidInput(f"Window {span!r} is not HH:MM-HH:MM.")
    start_h, start_m, end_h, end_m = (int(part) for part in match.groups())
    start, end = start_h * 60 + start_m, end_h * 60 + end_m
    if end > 24 * 60 or end <= start:
        raise InvalidInput(f"Window {span!r} must end after it starts, on the same day.")
    return start, end


def normalise(windows: Windows) -> Windows:
    """Every weekday present, spans sorted; refuses unknown days and overlapping spans."""
    unknown = sorted(set(windows) - set(WEEKDAYS))
    if unknown:
        raise InvalidInput(f"Unknown weekday(s) {', '.join(unknown)}; use {', '.join(WEEKDAYS)}.")
    result: Windows = {}
    for day in WEEKDAYS:
        spans = sorted(windows.get(day, []), key=minutes)
        for earlier, later in itertools.pairwise(spans):
            if minutes(later)[0] < minutes(earlier)[1]:
                raise InvalidInput(f"On {day} the windows {earlier} and {later} overlap.")
        result[day] = spans
    return result


def daily_hours(windows: Windows) -> dict[str, float]:
    return {
        day: sum(end - start for start, end in map(minutes, spans)) / 60
        for day, spans in windows.items()
    }


# Where the morning ends and the afternoon begins, for rules that ask hours of each
# (Lai Châu, 001 Điều 8.1: "3 giờ buổi sáng và 3 giờ buổi chiều").
NOON = 12 * 60


def half_day_hours(windows: Windows) -> dict[str, tuple[float, float]]:
    """Per weekday, the hours open before noon and from noon on."""
    halves: dict[str, tuple[float, float]] = {}
    for day, spans in windows.items():
        morning = afternoon = 0
        for start, end in map(minutes, spans):
            morning += max(0, min(end, NOON) - start)
            afternoon += max(0, end - max(start, NOON))
        halves[day] = (morning / 60, afternoon / 60)
    return halves


def shortfall(
    windows: Windows,
    minimum_hours: float,
    what: str,
    morning_hours: float | None = None,
    afternoon_hours: float | None = None,
) -> str | None:
    """Why the windows fall short of the least hours, the whole day's and each half-day's;
    None when they meet them."""
    days = _short_days(daily_hours(windows), minimum_hours)
    if days:
        return (
            f"Every {what} must operate at least {minimum_hours:g} h every day; too short: {days}."
        )
    halves = half_day_hours(windows)
    short = _short_days({day: hours[0] for day, hours in halves.items()}, morning_hours)
    if short:
        return (
            f"Every {what} must operate at least {morning_hours:g} h every morning (before "
            f"12:00); too short: {short}."
        )
    short = _short_days({day: hours[1] for day, hours in halves.items()}, afternoon_hours)
    if short:
        return (
            f"Every {what} must operate at least {afternoon_hours:g} h every afternoon (from "
            f"12:00); too short: {short}."
        )
    return None


# Where the hub's proposed day opens when a province asks more than the defaults give: the
# morning from 07:00, the afternoon from 13:30 (the working day's hours), moved earlier only
# when the hours asked would not fit before noon or midnight.
MORNING_OPENS, AFTERNOON_OPENS, NOON, MIDNIGHT = 7 * 60, 13 * 60 + 30, 12 * 60, 24 * 60


def _span(start: int, end: int) -> str:
    return f"{start // 60:02d}:{start % 60:02d}-{end // 60:02d}:{end % 60:02d}"


def default_windows(
    defaults: Windows,
    minimum_hours: float,
    morning_hours: float | None = None,
    afternoon_hours: float | None = None,
) -> Windows:
    """The kind's default windows when they meet the province's least hours; else a day that
    just meets them (001 Điều 8.1 leaves the exact hours to the unit that runs the endpoint)."""
    if shortfall(defaults, minimum_hours, "", morning_hours, afternoon_hours) is None:
        return defaults
    morning = round(60 * (morning_hours if morning_hours is not None else minimum_hours / 2))
    afternoon = max(round(60 * (afternoon_hours or 0)), round(60 * minimum_hours) - morning)
    morning_opens = max(0, min(MORNING_OPENS, NOON - morning))
    afternoon_opens = max(NOON, min(AFTERNOON_OPENS, MIDNIGHT - afternoon))
    spans = [_span(morning_opens, morning_opens + morning)] if morning else []
    if afternoon:
        spans.append(_span(afternoon_opens, min(MIDNIGHT, afternoon_opens + afternoon)))
    return _every_day(*spans)


def _short_days(hours_by_day: dict[str, float], least: float | None) -> str:
    """The days below `least`, with their hours, for a refusal; empty when none is."""
    return ", ".join(
        f"{day} {hours:g} h" for day, hours in hours_by_day.items() if hours < (least or 0)
    )
