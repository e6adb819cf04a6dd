"""The answer of `GET /api/v1/emergencies/{id}`: how an emergency reached its endpoints."""

from datetime import datetime
from typing import Annotated

from pydantic import Field

from nguon.areas.levels import AreaLevel
from nguon.bulletins.enums import BulletinStatus
from nguon.bulletins.schemas import ID_PATTERN
from nguon.dispatch.models import DeliveryStatus
from nguon.endpoints.schemas import CODE_PATTERN
from nguon.endpoints.windows import EndpointKind
from nguon.kit.schemas import Page, ResponseModel, pattern

# A page of deliveries goes on after an endpoint code and a bulletin id: "<code>:<bulletin id>".
CURSOR_PATTERN = pattern(
    CODE_PATTERN.removesuffix("$") + ":" + ID_PATTERN.removeprefix("^"),
    "the next_cursor of the page before",
)
# The most straggler codes listed in full; a province-wide emergency can have ten thousand.
STRAGGLERS_SHOWN = 1000

Seconds = Annotated[
    float | None,
    Field(description="From the approval of the revision a delivery carries; null when none has"),
]


class EmergencyBulletin(ResponseModel):
    id: str
    title: str
    language: str
    status: BulletinStatus
    exercise: Annotated[bool, Field(description="A CAP Test or Exercise, not a real alert")]
    level: AreaLevel
    valid_until: datetime
    translation_of: Annotated[str | None, Field(description="Null for the original")]
    revision: Annotated[
        int | None, Field(description="The revision on air, or the last that was; null if none")
    ]
    on_air_at: Annotated[datetime | None, Field(description="When that revision was approved")]


class EmergencyCounts(ResponseModel):
    targeted: Annotated[int, Field(description="Deliveries, one per endpoint and bulletin")]
    delivered: Annotated[int, Field(description="Reached their endpoint (fetched or pushed)")]
    acknowledged: Annotated[
        int, Field(description="Confirmed: a heartbeat on the playlist, a gateway's 2xx, a play")
    ]
    played: Annotated[int, Field(description="With a play reported (played or interrupted)")]
    pending: Annotated[int, Field(description="Live, and not yet fetched or pushed")]
    failed: int
    ended: Annotated[int, Field(description="Revoked or expired")]
    stragglers: Annotated[int, Field(description="Live and not acknowledged")]
    stragglers_online: Annotated[int, Field(description="Of those, the endpoints online")]


class EndpointDeliveryRead(ResponseModel):
    endpoint: str
    endpoint_name: str
    endpoint_kind: EndpointKind
    area: str
    bulletin_id: Annotated[str, Field(description="The original or the variant delivered")]
    status: DeliveryStatus
    delivered_at: datetime | None
    acked_at: datetime | None
    played_at: Annotated[
        datetime | None, Field(description="The start of the first play reported of it")
    ]
    online: Annotated[bool, Field(description="A heartbeat within NGUON_ENDPOINT_OFFLINE_SECONDS")]
    last_seen: Annotated[datetime | None, Field(description="The last heartbeat")]
    drives: Annotated[int, Field(description="Times announced again since it went on air")]


class EndpointDeliveryPage(Page[EndpointDeliveryRead]):
    next_cursor: Annotated[str | None, Field(description="Pass as `cursor` for the next page")]


class EmergencyRead(ResponseModel):
    id: Annotated[str, Field(description="The original bulletin")]
    generated_at: Annotated[datetime, Field(description="The moment `online` is judged at")]
    bulletins: Annotated[
        list[EmergencyBulletin], Field(description="The original, then its language variants")
    ]
    counts: EmergencyCounts
    first_delivery_seconds: Seconds
    last_delivery_seconds: Seconds
    first_acknowledgement_seconds: Seconds
    last_acknowledgement_seconds: Seconds
    stragglers: Annotated[
        list[str],
        Field(
            description="Codes of endpoints with a live delivery not acknowledged, online ones "
            f"first, at most {STRAGGLERS_SHOWN:,} (all of them: `endpoints` with "
            "`state=stragglers`)"
        ),
    ]
    endpoints: EndpointDeliveryPage
