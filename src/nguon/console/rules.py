"""The province's broadcast rules page ("Quy định phát"): each endpoint profile's least daily
operating hours (002 Điều 10; 000/004 Điều 4.3; 001 Điều 8.1) and its advertising airtime
limit (001 Điều 8.3), read and changed by the province's administrators through the same
service and schemas as `/api/v1/rules`."""

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from pydantic import Field
from starlette.responses import RedirectResponse, Response

from nguon.console.endpoints import CONSOLE, keep_on_refusal
from nguon.console.forms import validated
from nguon.console.session import ConsoleAccess
from nguon.console.web import render
from nguon.endpoints.windows import EndpointProfile
from nguon.identity.access import ADMIN
from nguon.identity.principal import Principal
from nguon.kit.schemas import FormModel
from nguon.rules.endpoints import Rules, hours_of
from nguon.rules.schemas import AdvertisingLimitChange, HoursRuleChange
from nguon.rules.service import ProvinceRule

router = APIRouter(prefix=CONSOLE, include_in_schema=False)

Admin = Annotated[Principal, Depends(ConsoleAccess(ADMIN))]

Figure = Annotated[str, Field(max_length=16)]


class RuleFields(FormModel):
    """One profile's rules as typed; an empty box is no figure (the hub's setting)."""

    daily_hours: Figure = ""
    morning_hours: Figure = ""
    afternoon_hours: Figure = ""
    minutes_per_day: Figure = ""
    percent_of_day: Figure = ""

    def figures(self) -> dict[str, str | None]:
        return {name: value.strip() or None for name, value in self.model_dump().items()}


def _typed(rule: ProvinceRule) -> dict[str, str]:
    """The stored figures as the form shows them; the hub's setting shows as empty."""

    def shown(value: float | None, own: bool) -> str:
        return f"{value:g}" if own and value is not None else ""

    hours, advertising = rule.hours, rule.advertising
    return {
        "daily_hours": shown(hours.daily_hours, hours.from_province),
        "morning_hours": shown(hours.morning_hours, hours.from_province),
        "afternoon_hours": shown(hours.afternoon_hours, hours.from_province),
        "minutes_per_day": shown(advertising.minutes, advertising.from_province),
        "percent_of_day": shown(advertising.percent, advertising.from_province),
    }


async def _page(rules: Rules, person: Principal) -> dict[str, Any]:
    found = await rules.of_province(person, None)
    return {
        "province": found[0].province.name,
        "rules": [(rule, _typed(rule)) for rule in found],
        "saved": None,
        "refused": None,
    }


@router.get("/rules")
async def rules_page(request: Request, rules: Rules, person: Admin) -> Response:
    page = await _page(rules, person)
    return render(request, "rules.html", {**page, "saved": request.query_params.get("saved")})


@router.post("/rules/{profile}")
async def save_rules(
    request: Request,
    profile: EndpointProfile,
    rules: Rules,
    person: Admin,
    fields: Annotated[RuleFields, Form()],
) -> Response:
    page = await _page(rules, person)
    typed = fields.model_dump()
    shown = [(rule, typed if rule.profile is profile else form) for rule, form in page["rules"]]
    keep_on_refusal(request, "rules.html", {**page, "rules": shown, "refused": profile.value})
    figures = fields.figures()
    hours = validated(
        HoursRuleChange,
        {"profile": profile, **{k: figures[k] for k in ("daily_hours", "morning_hours",
                                                         "afternoon_hours")}},
    )  # fmt: skip
    advertising = validated(
        AdvertisingLimitChange,
        {"profile": profile, **{k: figures[k] for k in ("minutes_per_day", "percent_of_day")}},
    )
    await rules.set_hours(person, None, profile, hours_of(hours))
    await rules.set_advertising(
        person, None, profile, advertising.minutes_per_day, advertising.percent_of_day
    )
    return RedirectResponse(f"{CONSOLE}/rules?saved={profile.value}", status_code=303)
