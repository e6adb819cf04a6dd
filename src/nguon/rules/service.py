"""A province's rules for its endpoints: their operating hours and their advertising airtime.

The regulations set them per province and per kind of endpoint (An Giang's border gates 8 h a
day, 000 Điều 4.3; Lai Châu's public displays 6 h, 3 in the morning and 3 in the afternoon,
001 Điều 8.1), so they are data, kept per province and profile; the hub's settings hold for a
province, or a column, without one. Advertising's airtime "follows the law on advertising"
(001 Điều 8.3), which caps it by share of the day's airtime; a province may keep a share, a
number of minutes, or both (the smaller holds).
"""

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from nguon.areas.levels import AreaLevel
from nguon.areas.models import Area
from nguon.areas.service import AreaService
from nguon.endpoints.windows import EndpointProfile
from nguon.identity.principal import Principal
from nguon.kit.errors import InvalidInput
from nguon.kit.settings import Settings
from nguon.rules.models import BroadcastRule
from nguon.rules.repository import RuleRepository


@dataclass(frozen=True, slots=True)
class HoursRule:
    """The least an endpoint of a profile operates each day in its province."""

    daily_hours: float
    morning_hours: float | None = None
    afternoon_hours: float | None = None
    from_province: bool = False  # False: the hub's settings


@dataclass(frozen=True, slots=True)
class AdvertisingLimit:
    """The most advertising an endpoint of a profile gives in a day: minutes, a percentage of
    its operating windows that day, or both (the smaller holds)."""

    minutes: float | None
    percent: float | None
    from_province: bool = False  # False: the hub's setting (a percentage)

    def seconds(self, window_seconds: float) -> float:
        """The most advertising seconds in a day whose windows last `window_seconds`."""
        limits = [window_seconds * self.percent / 100] if self.percent is not None else []
        if self.minutes is not None:
            limits.append(self.minutes * 60)
        return min(limits)


@dataclass(frozen=True, slots=True)
class ProvinceRule:
    province: Area
    profile: EndpointProfile
    hours: HoursRule
    advertising: AdvertisingLimit


def default_hours(settings: Settings, profile: EndpointProfile) -> float:
    return {
        EndpointProfile.radio: settings.min_daily_hours_radio,
        EndpointProfile.eboard: settings.min_daily_hours_eboard,
        EndpointProfile.border_gate: settings.min_daily_hours_border_gate,
    }[profile]


def hours_rule(
    settings: Settings, profile: EndpointProfile, rule: BroadcastRule | None
) -> HoursRule:
    """The rule a stored row gives, the hub's setting where it (or its daily figure) is empty."""
    if rule is None or rule.daily_hours is None:
        return HoursRule(default_hours(settings, profile))
    return HoursRule(rule.daily_hours, rule.morning_hours, rule.afternoon_hours, True)


def advertising_limit(settings: Settings, rule: BroadcastRule | None) -> AdvertisingLimit:
    """The limit a stored row gives, the hub's share where it keeps neither figure."""
    if rule is None or (rule.advertising_minutes is None and rule.advertising_percent is None):
        return AdvertisingLimit(None, settings.advertising_percent)
    return AdvertisingLimit(rule.advertising_minutes, rule.advertising_percent, True)


def province_rule(
    settings: Settings, province: Area, profile: EndpointProfile, rule: BroadcastRule | None
) -> ProvinceRule:
    return ProvinceRule(
        province, profile, hours_rule(settings, profile, rule), advertising_limit(settings, rule)
    )


class ProvinceRules:
    """The rules of every province at once, for reports over many endpoints."""

    def __init__(self, settings: Settings, by_path: Sequence[tuple[str, BroadcastRule]]) -> None:
        self.settings = settings
        self.by_path = by_path

    def _rule(self, area_path: str, profile: EndpointProfile) -> BroadcastRule | None:
        for province_path, rule in self.by_path:
            if rule.profile is profile and area_path.startswith(province_path):
                return rule
        return None

    def hours(self, area_path: str, profile: EndpointProfile) -> HoursRule:
        return hours_rule(self.settings, profile, self._rule(area_path, profile))

    def advertising(self, area_path: str, profile: EndpointProfile) -> AdvertisingLimit:
        return advertising_limit(self.settings, self._rule(area_path, profile))


class RuleService:
    def __init__(self, session: AsyncSession, settings: Settings) -> None:
        self.repository = RuleRepository(session)
        self.areas = AreaService(session)
        self.settings = settings

    async def province_of(self, area: Area) -> Area | None:
        """The province an area lies in (itself for a province); None above provinces."""
        if area.level is AreaLevel.province:
            return area
        for ancestor in await self.areas.repository.ancestors(area):
            if ancestor.level is AreaLevel.province:
                return ancestor
        return None

    async def hours_for(self, area: Area, profile: EndpointProfile) -> HoursRule:
        """What an endpoint of the profile standing in the area must operate each day."""
        province = await self.province_of(area)
        rule = None if province is None else await self.repository.get(province.code, profile)
        return hours_rule(self.settings, profile, rule)

    async def every_province(self) -> ProvinceRules:
        return ProvinceRules(self.settings, await self.repository.by_province_path())

    async def _province(self, actor: Principal, code: str | None) -> Area:
        """The province named, or the actor's own; refused outside the actor's area for
        changes by the caller."""
        if code is None:
            own = await self.areas.repository.get(actor.area.id)
            assert own is not None  # areas are never deleted under accounts (RESTRICT)
            province = await self.province_of(own)
            if province is None:
                raise InvalidInput(
                    f"{own.code} ({own.name}) lies in no province: name the province whose "
                    "rules you mean."
                )
            return province
        province = await self.areas.get_by_code(code)
        if province.level is not AreaLevel.province:
            raise InvalidInput(
                f"{province.code} ({province.name}) is a {province.level}; rules are kept per "
                "province."
            )
        return province

    async def of_province(self, actor: Principal, code: str | None) -> list[ProvinceRule]:
        """The rules of each profile in the province, readable by anyone in or above it and
        by those inside it."""
        province = await self._province(actor, code)
        if not actor.area.path.startswith(province.path):
            actor.require_within(province, "rules")
        stored = {rule.profile: rule for rule in await self.repository.of_province(province.code)}
        return [
            province_rule(self.settings, province, profile, stored.get(profile))
            for profile in EndpointProfile
        ]

    async def set_hours(
        self,
        actor: Principal,
        code: str | None,
        profile: EndpointProfile,
        hours: HoursRule | None,
    ) -> ProvinceRule:
        """Keep the province's hours for the profile; None goes back to the hub's setting.
        Endpoints keep their windows until they are next changed, checked then."""
        province, rule = await self._rule_to_change(actor, code, profile)
        rule.daily_hours = None if hours is None else hours.daily_hours
        rule.morning_hours = None if hours is None else hours.morning_hours
        rule.afternoon_hours = None if hours is None else hours.afternoon_hours
        return province_rule(self.settings, province, profile, rule)

    async def set_advertising(
        self,
        actor: Principal,
        code: str | None,
        profile: EndpointProfile,
        minutes: float | None,
        percent: float | None,
    ) -> ProvinceRule:
        """Keep the province's advertising limit for the profile (both None: back to the hub's
        share). Bulletins already approved keep playing; the limit holds at the next approval."""
        province, rule = await self._rule_to_change(actor, code, profile)
        rule.advertising_minutes = minutes
        rule.advertising_percent = percent
        return province_rule(self.settings, province, profile, rule)

    async def _rule_to_change(
        self, actor: Principal, code: str | None, profile: EndpointProfile
    ) -> tuple[Area, BroadcastRule]:
        province = await self._province(actor, code)
        actor.require_within(province, "rules")
        rule = await self.repository.get(province.code, profile)
        if rule is None:
            rule = BroadcastRule(province_code=province.code, profile=profile)
            await self.repository.add(rule)
        return province, rule
