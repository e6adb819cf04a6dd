"""Schedules become concrete slots inside an endpoint's windows; emergencies ignore them."""

from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from nguon.bulletins.enums import Priority
from nguon.dispatch.slots import LOCAL, segment_at, slots, window_spans
from nguon.endpoints.windows import DEFAULT_WINDOWS, DisplayProfile, EndpointKind, normalise

RADIO = DEFAULT_WINDOWS[(EndpointKind.radio, None)]
EBOARD = DEFAULT_WINDOWS[(EndpointKind.display, DisplayProfile.eboard)]


def local(day: int, hour: int, minute: int = 0) -> datetime:
    """A local wall-clock time in November 2026 (Asia/Ho_Chi_Minh), as an aware instant."""
    return datetime(2026, 11, day, hour, minute, tzinfo=LOCAL)


def radio_slots(
    schedule: dict[str, Any] | None,
    first: datetime,
    priority: Priority = Priority.priority,
    days: int = 2,
) -> list[datetime]:
    return slots(
        priority=priority,
        schedule=schedule,
        first=first,
        valid_until=first + timedelta(days=7),
        windows=RADIO,
        start=local(25, 0),
        end=local(25, 0) + timedelta(days=days),
    )


def test_unscheduled_bulletins_play_at_every_window_opening() -> None:
    assert radio_slots(None, local(24, 12)) == [
        local(25, 5),
        local(25, 17),
        local(26, 5),
        local(26, 17),
    ]


def test_going_on_air_mid_window_plays_at_once() -> None:
    assert radio_slots(None, local(25, 17, 40), days=1) == [local(25, 17, 40)]


def test_a_scheduled_time_inside_a_window_is_kept_and_one_outside_moves_to_the_next_opening() -> (
    None
):
    daily = {"type": "daily", "times": ["05:15", "12:00"]}
    assert radio_slots(daily, local(24, 0), days=1) == [local(25, 5, 15), local(25, 17)]


def test_repeats_follow_the_gap() -> None:
    once = {"type": "once", "at": local(25, 17, 0).isoformat(), "repeat": 3, "gap_minutes": 20}
    assert radio_slots(once, local(24, 0)) == [local(25, 17), local(25, 17, 20), local(25, 17, 40)]


def test_weekdays_pick_their_days() -> None:
    # 25 November 2026 is a Wednesday.
    weekly = {"type": "weekdays", "weekdays": ["thu"], "times": ["17:30"]}
    assert radio_slots(weekly, local(24, 0), days=7) == [local(26, 17, 30)]


def test_an_emergency_plays_at_once_whatever_the_windows() -> None:
    noon = local(25, 12)
    assert radio_slots(None, noon, Priority.emergency) == [noon]
    repeated = {"type": "once", "at": noon.isoformat(), "repeat": 2, "gap_minutes": 10}
    assert radio_slots(repeated, noon, Priority.emergency) == [noon, local(25, 12, 10)]


def test_nothing_plays_after_validity() -> None:
    found = slots(
        priority=Priority.priority,
        schedule=None,
        first=local(25, 4),
        valid_until=local(25, 6),
        windows=RADIO,
        start=local(25, 0),
        end=local(27, 0),
    )
    assert found == [local(25, 5)]


def test_segments_are_windows_and_the_gaps_between_them() -> None:
    inside = segment_at(EBOARD, local(25, 18))
    assert (inside.start, inside.end, inside.on) == (local(25, 17), local(25, 22), True)
    gap = segment_at(EBOARD, local(25, 12))
    assert (gap.start, gap.end, gap.on) == (local(25, 7), local(25, 17), False)


def test_windows_across_midnight_join() -> None:
    late = normalise({day: ["20:00-24:00", "00:00-02:00"] for day in RADIO})
    spans = window_spans(late, local(25, 21), local(25, 23))
    assert [(s.start, s.end) for s in spans] == [(local(25, 20), local(26, 2))]


start_minutes = st.integers(min_value=0, max_value=3 * 24 * 60)
schedules = st.none() | st.builds(
    lambda times, repeat, gap: {
        "type": "daily",
        "times": times,
        "repeat": repeat,
        "gap_minutes": gap if repeat > 1 else 0,
    },
    st.lists(
        st.builds(lambda h, m: f"{h:02d}:{m:02d}", st.integers(0, 23), st.integers(0, 59)),
        min_size=1,
        max_size=4,
    ),
    st.integers(1, 4),
    st.integers(1, 90),
)


@given(schedules, start_minutes, st.sampled_from([RADIO, EBOARD]))
def test_every_slot_of_a_non_emergency_lies_inside_a_window(
    schedule: dict[str, Any] | None, offset: int, windows: dict[str, list[str]]
) -> None:
    first = datetime(2026, 11, 24, tzinfo=UTC) + timedelta(minutes=offset)
    start, end = first - timedelta(hours=6), first + timedelta(days=2)
    found = slots(
        priority=Priority.normal,
        schedule=schedule,
        first=first,
        valid_until=first + timedelta(days=1),
        windows=windows,
        start=start,
        end=end,
    )
    spans = window_spans(windows, start, end)
    assert found == sorted(set(found))
    for moment in found:
        assert first <= moment < first + timedelta(days=1)
        assert any(span.holds(moment) for span in spans), moment


@given(schedules, start_minutes)
def test_slots_of_a_horizon_are_the_slots_of_its_parts(
    schedule: dict[str, Any] | None, offset: int
) -> None:
    """Computing a day in two halves gives what computing it whole gives: a device that
    polls across a boundary sees no slot appear or vanish."""
    first = datetime(2026, 11, 24, tzinfo=UTC)
    start = first + timedelta(minutes=offset)
    middle, end = start + timedelta(hours=9), start + timedelta(days=1)

    def between(a: datetime, b: datetime) -> list[datetime]:
        return slots(
            priority=Priority.priority,
            schedule=schedule,
            first=first,
            valid_until=first + timedelta(days=5),
            windows=EBOARD,
            start=a,
            end=b,
        )

    assert between(start, end) == between(start, middle) + between(middle, end)
