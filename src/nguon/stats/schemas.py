"""The statistics report: what an area broadcast in a period, as the province reports it upward.

The report is the answer of `GET /api/v1/stats` and, unchanged, the body of the daily report to
the central system, so its field names are a contract.
"""

from datetime import datetime
from typing import Annotated

from pydantic import ConfigDict, Field

from nguon.areas.levels import AreaLevel
from nguon.bulletins.enums import BulletinKind, Category, Priority
from nguon.endpoints.windows import EndpointKind
from nguon.kit.schemas import ResponseModel

Minutes = Annotated[float, Field(ge=0, description="Minutes, to two decimals")]
AdvertisingMinutes = Annotated[
    float,
    Field(
        ge=0,
        description="Minutes of advertising played (Lai Châu 001 Điều 8.3), apart from "
        "played_minutes: advertising is not public information and counts toward no "
        "operating-hours rule",
    ),
]
Ratio = Annotated[
    float | None,
    Field(description="played_minutes / required_minutes; null when nothing was required"),
]
MinimumMinutes = Annotated[
    float,
    Field(
        ge=0,
        description="The least operating time the province's rule (or the hub's setting) asks "
        "of the endpoints over the period, pro rata of its days: daily hours × days",
    ),
]
MinimumRatio = Annotated[
    float | None,
    Field(description="played_minutes / minimum_minutes; null when the rule asks nothing"),
]


class Period(ResponseModel):
    # `from` is a Python keyword: the fields have other names and every dump uses the aliases,
    # so that a report sent on by `model_dump_json()` reads like the API's answer.
    model_config = ConfigDict(from_attributes=True, serialize_by_alias=True)

    start: Annotated[datetime, Field(serialization_alias="from", description="Included")]
    end: Annotated[datetime, Field(serialization_alias="to", description="Excluded")]


class AreaRef(ResponseModel):
    code: str
    name: str
    level: AreaLevel


class SourceCount(ResponseModel):
    code: Annotated[str, Field(description="The administrative unit the bulletins came from")]
    name: str
    bulletins: int


class BulletinStats(ResponseModel):
    total: Annotated[
        int,
        Field(
            description="Bulletins from the area that went on air in the period, exercises apart"
        ),
    ]
    by_kind: dict[BulletinKind, int]
    by_priority: dict[Priority, int]
    by_level: dict[AreaLevel, int]
    by_category: dict[Category, int]
    by_source: Annotated[list[SourceCount], Field(description="Most bulletins first")]
    exercises: Annotated[
        int, Field(description="CAP Test/Exercise bulletins that went on air, never in `total`")
    ]


class EndpointBroadcast(ResponseModel):
    code: str
    name: str
    kind: EndpointKind
    enabled: bool
    commune_code: str
    commune_name: str
    played_minutes: Minutes
    advertising_minutes: AdvertisingMinutes
    required_minutes: Minutes
    ratio: Ratio
    minimum_minutes: MinimumMinutes
    minimum_ratio: MinimumRatio


class CommuneBroadcast(ResponseModel):
    code: str
    name: str
    endpoints: int
    played_minutes: Minutes
    advertising_minutes: AdvertisingMinutes
    required_minutes: Minutes
    ratio: Ratio
    minimum_minutes: MinimumMinutes
    minimum_ratio: MinimumRatio


class BroadcastStats(ResponseModel):
    played_minutes: Annotated[
        float,
        Field(
            description="Played or interrupted plays of real (not exercise) bulletins of "
            "public information (advertising apart), clipped to the period"
        ),
    ]
    advertising_minutes: AdvertisingMinutes
    required_minutes: Annotated[
        float, Field(description="The endpoints' operating windows in the period, local time")
    ]
    ratio: Ratio
    minimum_minutes: MinimumMinutes
    minimum_ratio: MinimumRatio
    communes: list[CommuneBroadcast]
    endpoints: list[EndpointBroadcast]


class EndpointCounts(ResponseModel):
    total: int
    enabled: int
    online: Annotated[
        int, Field(description="A heartbeat within NGUON_ENDPOINT_OFFLINE_SECONDS of generated_at")
    ]
    stale: Annotated[
        int, Field(description="Enabled, and the last heartbeat reports an older playlist")
    ]


class EmergencyStats(ResponseModel):
    id: str
    title: str
    exercise: bool
    on_air_at: datetime
    deliveries: Annotated[int, Field(description="Deliveries to endpoints in the area")]
    delivered: Annotated[int, Field(description="Of those, how many reached their endpoint")]
    acknowledged: Annotated[int, Field(description="Of those, how many their endpoint confirmed")]
    first_delivery_seconds: Annotated[
        float | None, Field(description="From on air to the first delivery reaching its endpoint")
    ]
    last_delivery_seconds: Annotated[
        float | None, Field(description="From on air to the last delivery reaching its endpoint")
    ]
    all_delivered: bool


class StatsReport(ResponseModel):
    period: Period
    area: AreaRef
    generated_at: Annotated[
        datetime, Field(description="When the report was made: the moment `endpoints` describes")
    ]
    bulletins: BulletinStats
    broadcast: BroadcastStats
    endpoints: EndpointCounts
    emergencies: Annotated[
        list[EmergencyStats],
        Field(
            description="Emergency bulletins that went on air in the period, with a delivery "
            "in the area, in order of airing"
        ),
    ]
