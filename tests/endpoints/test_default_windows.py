"""The day the hub proposes when a province asks more hours than an endpoint kind's defaults."""

from nguon.endpoints.windows import DEFAULT_WINDOWS, EndpointKind, daily_hours, default_windows

RADIO = DEFAULT_WINDOWS[(EndpointKind.radio, None)]


def test_defaults_that_meet_the_rule_are_kept() -> None:
    """002 Điều 10.1: a radio's two daily programmes stand when the province asks 3 h."""
    assert default_windows(RADIO, 3) is RADIO


def test_a_day_without_halves_is_split_between_morning_and_afternoon() -> None:
    """A province asking 8 h a day, with no half-day rule: 4 h from 07:00 and 4 h from 13:30."""
    day = default_windows(RADIO, 8)
    assert day["wed"] == ["07:00-11:00", "13:30-17:30"]
    assert set(daily_hours(day).values()) == {8}


def test_a_long_morning_opens_earlier_to_end_by_noon() -> None:
    """Six hours asked of the morning cannot start at 07:00 and still be a morning."""
    day = default_windows(RADIO, 9, morning_hours=6, afternoon_hours=3)
    assert day["mon"] == ["06:00-12:00", "13:30-16:30"]
