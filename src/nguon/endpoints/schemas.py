from datetime import date, datetime
from enum import StrEnum
from typing import Annotated

from pydantic import AnyHttpUrl, Field, field_validator

from nguon.endpoints.models import Endpoint, MaintenanceKind
from nguon.endpoints.windows import DisplayProfile, EndpointKind, Windows
from nguon.kit.schemas import RequestModel, ResponseModel, kept_if_omitted, pattern

# Endpoint codes start with a letter, so that a bulletin target never reads as both an
# endpoint and an administrative unit (whose codes are digits, or "VN").
CODE_PATTERN = pattern(
    r"^[A-Za-z][A-Za-z0-9._-]{2,63}$",
    "3 to 64 letters, digits, '.', '_' or '-', starting with a letter",
)
EndpointCode = Annotated[str, Field(pattern=CODE_PATTERN, examples=["AG-LX-RADIO-01"])]
Language = Annotated[
    str,
    Field(
        pattern=pattern(
            r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$", "a language tag such as vi, km or en-US"
        )
    ),
]
Languages = Annotated[list[Language], Field(min_length=1, max_length=10)]
Latitude = Annotated[float, Field(ge=-90, le=90)]
Longitude = Annotated[float, Field(ge=-180, le=180)]


def check_push_url(url: AnyHttpUrl | None) -> AnyHttpUrl | None:
    if url is not None and (url.username or url.password):
        raise ValueError("the push URL must not carry credentials")
    return url


class EndpointCreate(RequestModel):
    code: EndpointCode
    name: Annotated[str, Field(min_length=1, max_length=200)]
    kind: EndpointKind
    profile: DisplayProfile | None = None
    area: Annotated[
        str, Field(pattern=pattern(r"^\d{5}$", "5 digits"), description="The commune it stands in")
    ]
    latitude: Latitude | None = None
    longitude: Longitude | None = None
    languages: Languages | None = None
    windows: Windows | None = None
    push_url: AnyHttpUrl | None = None
    enabled: bool = True

    _push_url = field_validator("push_url")(check_push_url)


Phone = Annotated[
    str,
    Field(
        pattern=pattern(r"^\+?[0-9][0-9 .-]{5,30}$", "a phone number: digits, spaces, '.', '-'"),
        examples=["0296 3852 123"],
    ),
]


class FocalPerson(RequestModel):
    """Who the department calls about an endpoint (An Giang 004 Điều 7.4)."""

    name: Annotated[str, Field(min_length=1, max_length=200)]
    phone: Phone
    organisation: Annotated[str, Field(min_length=1, max_length=200)]


class FocalPersonRead(ResponseModel):
    name: str
    phone: str
    organisation: str


def focal_person(endpoint: Endpoint) -> FocalPersonRead | None:
    if endpoint.focal_name is None:
        return None
    return FocalPersonRead(
        name=endpoint.focal_name,
        phone=endpoint.focal_phone or "",
        organisation=endpoint.focal_organisation or "",
    )


class EndpointUpdate(RequestModel):
    name: Annotated[str, Field(min_length=1, max_length=200)] = kept_if_omitted()
    latitude: Latitude | None = None
    longitude: Longitude | None = None
    languages: Languages = kept_if_omitted()
    windows: Windows | None = None  # null: the defaults of the kind and profile
    push_url: AnyHttpUrl | None = None
    enabled: bool = kept_if_omitted()
    focal_person: Annotated[
        FocalPerson | None, Field(description="null: nobody is named any more")
    ] = None

    _push_url = field_validator("push_url")(check_push_url)


BulletinId = Annotated[
    str, Field(pattern=pattern(r"^[0-9a-f]{32}$", "32 hexadecimal digits (0-9, a-f)"))
]


class HeartbeatStatus(StrEnum):
    ok = "ok"
    degraded = "degraded"  # playing, with a fault worth a visit (a dead speaker, low signal)
    fault = "fault"  # cannot play


class HeartbeatReport(RequestModel):
    status: HeartbeatStatus
    volume: Annotated[int | None, Field(ge=0, le=100)] = None
    current_item: Annotated[
        BulletinId | None, Field(description="The bulletin playing now, if any")
    ] = None
    playlist_etag: Annotated[
        str | None,
        Field(max_length=100, description="The ETag of the playlist the device holds"),
    ] = None
    message: Annotated[str | None, Field(max_length=500)] = None


class HeartbeatRead(ResponseModel):
    received_at: datetime
    status: HeartbeatStatus
    volume: int | None
    current_item: str | None
    playlist_etag: str | None
    message: str | None


class HeartbeatAnswer(ResponseModel):
    received_at: datetime
    stale: Annotated[
        bool, Field(description="The device holds an older playlist than the hub's, or none")
    ]
    playlist_version: int


class PlaysRecorded(ResponseModel):
    accepted: Annotated[int, Field(description="Plays stored now")]
    duplicates: Annotated[int, Field(description="Plays stored before (the same device id)")]


class EndpointRead(ResponseModel):
    code: str
    name: str
    kind: EndpointKind
    profile: DisplayProfile | None
    area: str
    latitude: float | None
    longitude: float | None
    languages: list[str]
    windows: Windows
    daily_hours: dict[str, float]
    push_url: str | None
    enabled: bool
    focal_person: FocalPersonRead | None = None
    switched_off: Annotated[
        bool,
        Field(
            description="Switched off from the hub (a switch_off command): plays only emergencies"
        ),
    ] = False
    playlist_version: int
    last_heartbeat: HeartbeatRead | None
    online: Annotated[
        bool, Field(description="A heartbeat came within NGUON_ENDPOINT_OFFLINE_SECONDS")
    ]
    stale: Annotated[
        bool, Field(description="Enabled, and its last heartbeat reports an older playlist")
    ]
    created_at: datetime
    updated_at: datetime


class EndpointCreated(EndpointRead):
    api_key: Annotated[str, Field(description="The endpoint's key. Shown this once.")]


class MaintenanceCreate(RequestModel):
    """Maintenance, inspection or repair done on an endpoint (An Giang 004 Điều 4.1c, 6.8; Lai
    Châu 001 Điều 11.1a)."""

    day: Annotated[date, Field(description="The local day it was done; not after today")]
    kind: MaintenanceKind
    performed_by: Annotated[
        str, Field(min_length=1, max_length=200, description="Who did it: person or company")
    ]
    notes: Annotated[str, Field(max_length=5000)] = ""
    outcome: Annotated[
        str, Field(max_length=500, description="What it found or left: working, parts ordered…")
    ] = ""


class MaintenanceRead(ResponseModel):
    id: int
    day: date
    kind: MaintenanceKind
    performed_by: str
    notes: str
    outcome: str
    recorded_by: str
    recorded_at: datetime


class MaintenanceLog(ResponseModel):
    items: list[MaintenanceRead]
