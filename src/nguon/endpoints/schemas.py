from datetime import datetime
from typing import Annotated

from pydantic import AnyHttpUrl, Field, field_validator

from nguon.endpoints.windows import DisplayProfile, EndpointKind, Windows
from nguon.kit.schemas import RequestModel, ResponseModel

# Endpoint codes start with a letter, so that a bulletin target never reads as both an
# endpoint and an administrative unit (whose codes are digits, or "VN").
CODE_PATTERN = r"^[A-Za-z][A-Za-z0-9._-]{2,63}$"
EndpointCode = Annotated[str, Field(pattern=CODE_PATTERN, examples=["AG-LX-RADIO-01"])]
Language = Annotated[str, Field(pattern=r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$")]
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
    area: Annotated[str, Field(pattern=r"^\d{5}$", description="The commune it stands in")]
    latitude: Latitude | None = None
    longitude: Longitude | None = None
    languages: Languages | None = None
    windows: Windows | None = None
    push_url: AnyHttpUrl | None = None
    enabled: bool = True

    _push_url = field_validator("push_url")(check_push_url)


class EndpointUpdate(RequestModel):
    name: Annotated[str | None, Field(min_length=1, max_length=200)] = None
    latitude: Latitude | None = None
    longitude: Longitude | None = None
    languages: Languages | None = None
    windows: Windows | None = None
    push_url: AnyHttpUrl | None = None
    enabled: bool | None = None

    _push_url = field_validator("push_url")(check_push_url)


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
    created_at: datetime
    updated_at: datetime


class EndpointCreated(EndpointRead):
    api_key: Annotated[str, Field(description="The endpoint's key. Shown this once.")]
