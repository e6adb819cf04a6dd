"""What an area broadcast in a period: the figures the province reports upward.

`StatsService.report` needs no request: the daily report to the central system is built from
it. Counting rules that exist elsewhere are reused, not restated: on-line and stale endpoints
are judged by the registry's functions, operating windows are turned into instants by
`nguon.dispatch.slots`.
"""

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from nguon.areas.levels import AreaLevel
from nguon.areas.models import Area
from nguon.areas.service import AreaService
from nguon.bulletins.enums import BulletinKind, Category, Priority
from nguon.dispatch.slots import window_spans
from nguon.endpoints.service import is_online, is_stale
from nguon.endpoints.windows import Windows, endpoint_profile
from nguon.identity.principal import Principal
from nguon.kit.errors import InvalidInput
from nguon.kit.settings import Settings
from nguon.rules.service import ProvinceRules, RuleService
from nguon.stats.repository import (
    BulletinGroup,
    EmergencyRow,
    EndpointRow,
    PlayedSeconds,
    StatsRepository,
)
from nguon.stats.schemas import (
    AreaRef,
    BroadcastStats,
    BulletinStats,
    CommuneBroadcast,
    EmergencyStats,
    EndpointBroadcast,
    EndpointCounts,
    Period,
    SourceCount,
    StatsReport,
)

DEFAULT_PERIOD = timedelta(hours=24)
# A year, leap day included: the longest report anyone asks for, and a bound on the work.
LONGEST_PERIOD = timedelta(days=366)


def check_period(start: datetime, end: datetime) -> None:
    """Refuse a period no report can cover. Checked by the service, not the route alone: the
    daily report to the central system asks without a request."""
    if start.tzinfo is None or end.tzinfo is None:
        raise InvalidInput(
            "The period's instants need a time zone, e.g. 2026-05-01T00:00:00+07:00."
        )
    if start >= end:
        raise InvalidInput(
            f"The period must start before it ends: from {start.isoformat()} is not before "
            f"to {end.isoformat()}."
        )
    if end - start > LONGEST_PERIOD:
        raise InvalidInput(
            f"The period from {start.isoformat()} to {end.isoformat()} spans "
            f"{(end - start) / timedelta(days=1):g} days; a report covers at most "
            f"{LONGEST_PERIOD.days} days. Ask for it in parts."
        )


def period_or_default(
    start: datetime | None, end: datetime | None, now: datetime
) -> tuple[datetime, datetime]:
    """The period asked for; without an end it ends now, without a start it lasts a day."""
    end = end or now
    return start or end - DEFAULT_PERIOD, end


def required_seconds(windows: Windows, start: datetime, end: datetime) -> float:
    """How long the operating windows stay open within [start, end)."""
    return sum(
        (min(span.end, end) - max(span.start, start)).total_seconds()
        for span in window_spans(windows, start, end)
    )


def _minutes(seconds: float) -> float:
    return round(seconds / 60, 2)


def _ratio(played: float, required: float) -> float | None:
    return round(played / required, 4) if required > 0 else None


Key = TypeVar("Key", bound=StrEnum)


def _every(keys: Iterable[Key], counts: Counter[Key]) -> dict[Key, int]:
    """Every value of the enum, zeros included: a report reads the same whatever happened."""
    return {key: counts[key] for key in keys}


@dataclass(slots=True)
class _Tally:
    """A commune's endpoints and their seconds, summed unrounded."""

    endpoints: int = 0
    played: float = 0.0
    advertising: float = 0.0
    required: float = 0.0
    minimum: float = 0.0

    def add(self, played: PlayedSeconds, required: float, minimum: float) -> None:
        self.endpoints += 1
        self.played += played.public
        self.advertising += played.advertising
        self.required += required
        self.minimum += minimum


class StatsService:
    def __init__(self, session: AsyncSession, settings: Settings) -> None:
        self.session = session
        self.repository = StatsRepository(session)
        self.areas = AreaService(session)
        self.settings = settings

    async def report_for(
        self,
        actor: Principal,
        area_code: str | None,
        start: datetime | None,
        end: datetime | None,
        now: datetime,
    ) -> StatsReport:
        """The report on an area within the actor's own (their own area when none is named)."""
        if area_code is None:
            area = await self.areas.repository.get(actor.area.id)
            assert area is not None  # areas are never deleted under accounts and keys (RESTRICT)
        else:
            area = await self.areas.get_by_code(area_code)
        actor.require_within(area, "statistics")
        start, end = period_or_default(start, end, now)
        return await self.report(area, start, end, now)

    async def report(
        self, area: Area, start: datetime, end: datetime, now: datetime
    ) -> StatsReport:
        """Bulletins from the area that went on air in [start, end), what the area's
        endpoints played against what their windows required, how its emergencies reached
        them, and the endpoints' state at `now`."""
        check_period(start, end)
        endpoints = await self.repository.endpoints(area.path)
        return StatsReport(
            period=Period(start=start, end=end),
            area=AreaRef(code=area.code, name=area.name, level=area.level),
            generated_at=now,
            bulletins=self._bulletins(await self.repository.bulletin_groups(area.path, start, end)),
            broadcast=self._broadcast(
                endpoints,
                await RuleService(self.session, self.settings).every_province(),
                await self.repository.played_seconds(area.path, start, end),
                start,
                end,
            ),
            endpoints=self._endpoint_counts(endpoints, now),
            emergencies=[
                self._emergency(row)
                for row in await self.repository.emergencies(area.path, start, end)
            ],
        )

    @staticmethod
    def _bulletins(groups: Sequence[BulletinGroup]) -> BulletinStats:
        real = [group for group in groups if not group.exercise]
        kinds: Counter[BulletinKind] = Counter()
        priorities: Counter[Priority] = Counter()
        levels: Counter[AreaLevel] = Counter()
        categories: Counter[Category] = Counter()
        sources: Counter[tuple[str, str]] = Counter()
        for group in real:
            kinds[group.kind] += group.bulletins
            priorities[group.priority] += group.bulletins
            levels[group.level] += group.bulletins
            categories[group.category] += group.bulletins
            sources[group.source_code, group.source_name] += group.bulletins
        return BulletinStats(
            total=sum(group.bulletins for group in real),
            by_kind=_every(BulletinKind, kinds),
            by_priority=_every(Priority, priorities),
            by_level=_every(AreaLevel, levels),
            by_category=_every(Category, categories),
            by_source=[
                SourceCount(code=code, name=name, bulletins=count)
                for (code, name), count in sorted(
                    sources.items(), key=lambda item: (-item[1], item[0][0])
                )
            ],
            exercises=sum(group.bulletins for group in groups if group.exercise),
        )

    @staticmethod
    def _broadcast(
        endpoints: Sequence[EndpointRow],
        rules: ProvinceRules,
        played: dict[int, PlayedSeconds],
        start: datetime,
        end: datetime,
    ) -> BroadcastStats:
        # Most endpoints keep the regulation's default windows and were registered before the
        # period: each distinct set is laid out over the period once, not once per endpoint.
        required_by_windows: dict[
            tuple[datetime, tuple[tuple[str, tuple[str, ...]], ...]], float
        ] = {}
        rows: list[EndpointBroadcast] = []
        communes: dict[tuple[str, str], _Tally] = defaultdict(_Tally)
        for endpoint in endpoints:
            # An endpoint owes its hours from its registration on, not before it stood.
            owes_from = min(max(start, endpoint.registered_at), end)
            windows = tuple((day, tuple(spans)) for day, spans in sorted(endpoint.windows.items()))
            key = (owes_from, windows)
            if key not in required_by_windows:
                required_by_windows[key] = required_seconds(endpoint.windows, owes_from, end)
            required = required_by_windows[key]
            rule = rules.hours(endpoint.area_path, endpoint_profile(endpoint.profile))
            minimum = rule.daily_hours * 3600 * ((end - owes_from) / timedelta(days=1))
            aired = played.get(endpoint.id, PlayedSeconds())
            rows.append(
                EndpointBroadcast(
                    code=endpoint.code,
                    name=endpoint.name,
                    kind=endpoint.kind,
                    enabled=endpoint.enabled,
                    commune_code=endpoint.commune_code,
                    commune_name=endpoint.commune_name,
                    played_minutes=_minutes(aired.public),
                    advertising_minutes=_minutes(aired.advertising),
                    required_minutes=_minutes(required),
                    ratio=_ratio(aired.public, required),
                    minimum_minutes=_minutes(minimum),
                    minimum_ratio=_ratio(aired.public, minimum),
                )
            )
            communes[endpoint.commune_code, endpoint.commune_name].add(aired, required, minimum)
        total_played = sum(commune.played for commune in communes.values())
        total_advertising = sum(commune.advertising for commune in communes.values())
        total_required = sum(commune.required for commune in communes.values())
        total_minimum = sum(commune.minimum for commune in communes.values())
        return BroadcastStats(
            played_minutes=_minutes(total_played),
            advertising_minutes=_minutes(total_advertising),
            required_minutes=_minutes(total_required),
            ratio=_ratio(total_played, total_required),
            minimum_minutes=_minutes(total_minimum),
            minimum_ratio=_ratio(total_played, total_minimum),
            communes=[
                CommuneBroadcast(
                    code=code,
                    name=name,
                    endpoints=tally.endpoints,
                    played_minutes=_minutes(tally.played),
                    advertising_minutes=_minutes(tally.advertising),
                    required_minutes=_minutes(tally.required),
                    ratio=_ratio(tally.played, tally.required),
                    minimum_minutes=_minutes(tally.minimum),
                    minimum_ratio=_ratio(tally.played, tally.minimum),
                )
                for (code, name), tally in communes.items()
            ],
            endpoints=rows,
        )

    def _endpoint_counts(self, endpoints: Sequence[EndpointRow], now: datetime) -> EndpointCounts:
        return EndpointCounts(
            total=len(endpoints),
            enabled=sum(endpoint.enabled for endpoint in endpoints),
            online=sum(is_online(e.heard_at, now, self.settings) for e in endpoints),
            stale=sum(
                is_stale(e.enabled, e.playlist_version, e.heard_at is not None, e.held_version)
                for e in endpoints
            ),
        )

    @staticmethod
    def _emergency(row: EmergencyRow) -> EmergencyStats:
        def seconds_after_on_air(moment: datetime | None) -> float | None:
            return None if moment is None else (moment - row.on_air_at).total_seconds()

        return EmergencyStats(
            id=row.id,
            title=row.title,
            exercise=row.exercise,
            on_air_at=row.on_air_at,
            deliveries=row.deliveries,
            delivered=row.delivered,
            acknowledged=row.acknowledged,
            first_delivery_seconds=seconds_after_on_air(row.first_delivered_at),
            last_delivery_seconds=seconds_after_on_air(row.last_delivered_at),
            all_delivered=row.delivered == row.deliveries,
        )
