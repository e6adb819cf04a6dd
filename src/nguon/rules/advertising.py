"""Advertising airtime against a province's limit (Lai Châu 001 Điều 3.5, 8.3: advertising on
the clusters follows the law on advertising, which caps its share of a day's airtime).

The limit is held where an advertisement is approved, not by the playlist: a publisher learns
then, with the endpoint and the day named, that it does not fit, and an approved advertisement
plays as approved. What an advertisement claims of a day is known up front: its length (the
longest of its recordings and videos, or `advertising_still_seconds` for text and pictures)
times the plays its schedule names that day, or once in every window when it has none,
counted on the days the endpoint operates.
"""

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from nguon.bulletins.enums import BulletinStatus
from nguon.bulletins.models import Bulletin
from nguon.dispatch.repository import DeliveryRepository
from nguon.dispatch.slots import LOCAL
from nguon.endpoints.windows import WEEKDAYS, Windows, endpoint_profile, minutes
from nguon.kit.errors import Conflict
from nguon.kit.settings import Settings
from nguon.media.kinds import MediaKind
from nguon.media.repository import MediaRepository
from nguon.rules.repository import RuleRepository
from nguon.rules.service import AdvertisingLimit, ProvinceRules

TIMED_MEDIA = frozenset({MediaKind.audio, MediaKind.video})
# Days ahead an approval is checked over: a schedule repeats weekly, so a longer validity
# only repeats the weeks already checked.
DAYS_CHECKED = 14


@dataclass(frozen=True, slots=True)
class Advert:
    """An advertisement's on-air revision, as far as its airtime goes."""

    bulletin_id: str
    schedule: Mapping[str, Any] | None
    valid_from: datetime
    valid_until: datetime
    seconds_per_play: float


def plays_on(schedule: Mapping[str, Any] | None, windows: Windows, day: date) -> int:
    """How many times an advertisement plays on a local day the endpoint operates."""
    weekday = WEEKDAYS[day.weekday()]
    if not windows.get(weekday):
        return 0
    if schedule is None:
        return len(windows[weekday])  # an unscheduled bulletin plays once in every window
    repeat = int(schedule.get("repeat", 1))
    if schedule["type"] == "once":
        at = datetime.fromisoformat(schedule["at"]).astimezone(LOCAL).date()
        return repeat if at == day else 0
    if weekday not in set(schedule.get("weekdays") or WEEKDAYS):
        return 0
    return len(schedule["times"]) * repeat


def window_seconds(windows: Windows, day: date) -> float:
    return sum(
        60.0 * (closes - opens)
        for opens, closes in map(minutes, windows.get(WEEKDAYS[day.weekday()], []))
    )


def _days(start: datetime, end: datetime) -> Iterator[date]:
    day = start.astimezone(LOCAL).date()
    last = min(end.astimezone(LOCAL).date(), day + timedelta(days=DAYS_CHECKED - 1))
    while day <= last:
        yield day
        day += timedelta(days=1)


def _day_span(day: date) -> tuple[datetime, datetime]:
    start = datetime.combine(day, time(), tzinfo=LOCAL)
    return start.astimezone(UTC), (start + timedelta(days=1)).astimezone(UTC)


@dataclass(frozen=True, slots=True)
class Excess:
    day: date
    minutes: float
    limit_minutes: float


def first_excess(
    adverts: Iterable[Advert],
    windows: Windows,
    limit: AdvertisingLimit,
    start: datetime,
    end: datetime,
) -> Excess | None:
    """The first local day in [start, end) whose advertising exceeds the limit, if any."""
    adverts = list(adverts)
    for day in _days(start, end):
        day_start, day_end = _day_span(day)
        seconds = sum(
            plays_on(advert.schedule, windows, day) * advert.seconds_per_play
            for advert in adverts
            if advert.valid_from < day_end and advert.valid_until > day_start
        )
        allowed = limit.seconds(window_seconds(windows, day))
        if seconds > allowed:
            return Excess(day, round(seconds / 60, 2), round(allowed / 60, 2))
    return None


class AdvertisingGuard:
    def __init__(self, session: AsyncSession, settings: Settings) -> None:
        self.deliveries = DeliveryRepository(session)
        self.media = MediaRepository(session)
        self.rules = RuleRepository(session)
        self.settings = settings

    async def hold_limit(
        self, bulletin: Bulletin, now: datetime, status_before: BulletinStatus
    ) -> None:
        """Refuse (409) an advertisement just dispatched that takes an endpoint it reaches
        past its province's limit on a day of its validity; the request's rollback then
        takes the approval back, to `status_before`."""
        beside = await self.deliveries.adverts_beside(bulletin.id)
        adverts = await self._adverts(beside.contents)
        rules = ProvinceRules(self.settings, await self.rules.by_province_path())
        # Endpoints alike in windows, limit and advertisements are judged once.
        judged: set[tuple[str, AdvertisingLimit, frozenset[str]]] = set()
        for endpoint in beside.endpoints:
            placed = frozenset(beside.placed.get(endpoint.id, ()))
            limit = rules.advertising(endpoint.area_path, endpoint_profile(endpoint.profile))
            key = (repr(sorted(endpoint.windows.items())), limit, placed)
            if key in judged:
                continue
            judged.add(key)
            excess = first_excess(
                (adverts[advert_id] for advert_id in placed),
                endpoint.windows,
                limit,
                max(bulletin.valid_from, now),
                bulletin.valid_until,
            )
            if excess is not None:
                raise Conflict(
                    f"Bulletin {bulletin.id} would take endpoint {endpoint.code} "
                    f"({endpoint.name}) to {excess.minutes:g} minutes of "
                    f"advertising on {excess.day.isoformat()}, past its limit of "
                    f"{excess.limit_minutes:g} minutes (Lai Châu 001 Điều 8.3); shorten "
                    "it, play it less often or on fewer endpoints.",
                    current_status=status_before.value,
                )

    async def _adverts(self, contents: Mapping[str, Mapping[str, Any]]) -> dict[str, Advert]:
        media = await self.media.many(
            [media_id for content in contents.values() for media_id in content["media"]]
        )
        adverts: dict[str, Advert] = {}
        for bulletin_id, content in contents.items():
            lengths = [
                media[media_id].duration_s or 0.0
                for media_id in content["media"]
                if media_id in media and media[media_id].kind in TIMED_MEDIA
            ]
            adverts[bulletin_id] = Advert(
                bulletin_id,
                content["schedule"],
                datetime.fromisoformat(content["valid_from"]),
                datetime.fromisoformat(content["valid_until"]),
                max(lengths, default=0.0) or self.settings.advertising_still_seconds,
            )
        return adverts
