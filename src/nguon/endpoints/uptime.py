"""Uptime history: each heartbeat credits the time since the one before to the endpoint's
hours, when the two came close enough together that the endpoint never counted as offline.

Heartbeats come every minute or so; keeping each would be tens of millions of rows a year for
a province. One row per endpoint and UTC hour holds what the statistics need: the local day
(Asia/Ho_Chi_Minh, UTC+7, no daylight saving) is a whole number of UTC hours.
"""

from datetime import datetime, timedelta

HOUR = timedelta(hours=1)


def hour_of(moment: datetime) -> datetime:
    return moment.replace(minute=0, second=0, microsecond=0)


def online_seconds_by_hour(
    previous: datetime | None, now: datetime, offline_after: timedelta
) -> dict[datetime, int]:
    """The seconds from the previous heartbeat to this one, by the hour they fall in; none
    when there was no previous one, or the gap was long enough to count as offline."""
    if previous is None or not timedelta(0) < now - previous <= offline_after:
        return {}
    spans: dict[datetime, int] = {}
    start = previous
    while start < now:
        end = min(hour_of(start) + HOUR, now)
        seconds = round((end - start).total_seconds())
        if seconds:
            spans[hour_of(start)] = spans.get(hour_of(start), 0) + seconds
        start = end
    return spans
