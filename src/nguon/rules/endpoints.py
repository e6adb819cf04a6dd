from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request

from nguon.areas.schemas import UNKNOWN_AREA
from nguon.identity.access import ADMIN, Access
from nguon.identity.principal import Principal
from nguon.identity.roles import Role
from nguon.kit.schemas import pattern
from nguon.rules.schemas import (
    AdvertisingLimitChange,
    AdvertisingLimitRead,
    AdvertisingLimits,
    HoursRuleChange,
    HoursRuleRead,
    HoursRules,
)
from nguon.rules.service import HoursRule, ProvinceRule, RuleService
from nguon.unit_of_work import Session

router = APIRouter(prefix="/api/v1/rules", tags=["rules"])

# Those who register endpoints and review bulletins meet the rules; administrators set them.
RULE_READERS = Access(Role.admin, Role.editor, Role.appraiser, Role.viewer)


def rule_service(request: Request, session: Session) -> RuleService:
    return RuleService(session, request.app.state.settings)


Rules = Annotated[RuleService, Depends(rule_service)]


def hours_of(change: HoursRuleChange) -> HoursRule | None:
    """The rule a change keeps; None: back to the hub's setting."""
    if change.daily_hours is None:
        return None
    return HoursRule(change.daily_hours, change.morning_hours, change.afternoon_hours)


def hours_read(rule: ProvinceRule) -> HoursRuleRead:
    return HoursRuleRead(
        province=rule.province.code,
        profile=rule.profile,
        daily_hours=rule.hours.daily_hours,
        morning_hours=rule.hours.morning_hours,
        afternoon_hours=rule.hours.afternoon_hours,
        source="province" if rule.hours.from_province else "default",
    )


def advertising_read(rule: ProvinceRule) -> AdvertisingLimitRead:
    return AdvertisingLimitRead(
        province=rule.province.code,
        profile=rule.profile,
        minutes_per_day=rule.advertising.minutes,
        percent_of_day=rule.advertising.percent,
        source="province" if rule.advertising.from_province else "default",
    )


ProvinceQuery = Annotated[
    str | None,
    Query(
        pattern=pattern(r"^[0-9]{2}$", "2 digits"),
        description="Province code; default: the province you act in",
    ),
]


@router.get(
    "/hours",
    summary="The least daily operating hours of each endpoint profile in a province",
    description="The windows of an endpoint must cover its province's rule every day (and the "
    "morning's and afternoon's share where the rule names them); the statistics count "
    "broadcast time against it. A profile without a rule of the province's own follows the "
    "hub's settings (`source: default`).",
    responses=UNKNOWN_AREA,
)
async def get_hours(
    rules: Rules,
    actor: Annotated[Principal, Depends(RULE_READERS)],
    province: ProvinceQuery = None,
) -> HoursRules:
    return HoursRules(items=[hours_read(rule) for rule in await rules.of_province(actor, province)])


@router.put(
    "/hours",
    summary="Set a province's least daily operating hours for one endpoint profile",
    description="`daily_hours: null` returns the profile to the hub's setting. Endpoints keep "
    "their windows; the rule is checked when their windows next change.",
    responses=UNKNOWN_AREA,
)
async def put_hours(
    rules: Rules,
    actor: Annotated[Principal, Depends(ADMIN)],
    change: HoursRuleChange,
) -> HoursRuleRead:
    return hours_read(
        await rules.set_hours(actor, change.province, change.profile, hours_of(change))
    )


@router.get(
    "/advertising",
    summary="The most advertising airtime a day of each endpoint profile in a province",
    description="Lai Châu 001 Điều 8.3 leaves advertising airtime to the law on advertising. "
    "A limit is minutes a day, a percentage of the endpoint's operating windows that day, or "
    "both (the smaller holds); a profile without one of the province's own follows the hub's "
    "setting (`source: default`). Approving an advertisement that would take an endpoint it "
    "reaches past its limit on any day is refused.",
    responses=UNKNOWN_AREA,
)
async def get_advertising(
    rules: Rules,
    actor: Annotated[Principal, Depends(RULE_READERS)],
    province: ProvinceQuery = None,
) -> AdvertisingLimits:
    return AdvertisingLimits(
        items=[advertising_read(rule) for rule in await rules.of_province(actor, province)]
    )


@router.put(
    "/advertising",
    summary="Set a province's advertising airtime limit for one endpoint profile",
    description="Both figures null return the profile to the hub's setting. Advertisements "
    "already approved keep playing; the limit holds from the next approval.",
    responses=UNKNOWN_AREA,
)
async def put_advertising(
    rules: Rules,
    actor: Annotated[Principal, Depends(ADMIN)],
    change: AdvertisingLimitChange,
) -> AdvertisingLimitRead:
    rule = await rules.set_advertising(
        actor, change.province, change.profile, change.minutes_per_day, change.percent_of_day
    )
    return advertising_read(rule)
