from typing import Annotated, Literal, Self

from pydantic import Field, model_validator

from nguon.endpoints.windows import EndpointProfile
from nguon.kit.schemas import RequestModel, ResponseModel, pattern

ProvinceCode = Annotated[str, Field(pattern=pattern(r"^[0-9]{2}$", "2 digits"))]
DayHours = Annotated[float, Field(ge=0, le=24)]
HalfDayHours = Annotated[float, Field(ge=0, le=12)]
RuleSource = Annotated[
    Literal["province", "default"],
    Field(description="`province`: kept for the province; `default`: the hub's setting"),
]


class HoursRuleRead(ResponseModel):
    province: Annotated[str, Field(description="The province's code")]
    profile: EndpointProfile
    daily_hours: Annotated[float, Field(description="Least operating hours every day")]
    morning_hours: Annotated[
        float | None, Field(description="Of those, the least before 12:00; null: no such rule")
    ]
    afternoon_hours: Annotated[
        float | None, Field(description="Of those, the least from 12:00 on; null: no such rule")
    ]
    source: RuleSource


class HoursRules(ResponseModel):
    items: list[HoursRuleRead]


class HoursRuleChange(RequestModel):
    province: Annotated[
        ProvinceCode | None, Field(description="Default: the province you act in")
    ] = None
    profile: EndpointProfile
    daily_hours: Annotated[
        DayHours | None, Field(description="null: back to the hub's setting (and no half-days)")
    ]
    morning_hours: HalfDayHours | None = None
    afternoon_hours: HalfDayHours | None = None

    @model_validator(mode="after")
    def halves_fit_the_day(self) -> Self:
        halves = (self.morning_hours or 0) + (self.afternoon_hours or 0)
        if self.daily_hours is None and halves:
            raise ValueError("morning_hours and afternoon_hours need daily_hours")
        if self.daily_hours is not None and halves > self.daily_hours:
            raise ValueError(
                f"morning_hours and afternoon_hours ({halves:g} h) exceed daily_hours "
                f"({self.daily_hours:g} h)"
            )
        return self


class AdvertisingLimitRead(ResponseModel):
    province: Annotated[str, Field(description="The province's code")]
    profile: EndpointProfile
    minutes_per_day: Annotated[
        float | None, Field(description="Most advertising minutes a day; null: no such limit")
    ]
    percent_of_day: Annotated[
        float | None,
        Field(
            description="Most advertising a day as a percentage of the endpoint's operating "
            "windows that day; null: no such limit"
        ),
    ]
    source: RuleSource


class AdvertisingLimits(ResponseModel):
    items: list[AdvertisingLimitRead]


class AdvertisingLimitChange(RequestModel):
    province: Annotated[
        ProvinceCode | None, Field(description="Default: the province you act in")
    ] = None
    profile: EndpointProfile
    minutes_per_day: Annotated[
        float | None, Field(ge=0, le=24 * 60, description="null: no limit in minutes")
    ] = None
    percent_of_day: Annotated[
        float | None, Field(ge=0, le=100, description="null: no limit as a share")
    ] = None
