from datetime import datetime
from typing import Annotated

from pydantic import Field, model_validator

from nguon.endpoints.schemas import EndpointCode, FocalPersonRead
from nguon.incidents.models import IncidentKind, IncidentStatus, Severity, TimelineEvent
from nguon.kit.schemas import RequestModel, ResponseModel, pattern

AreaCode = Annotated[
    str, Field(pattern=pattern(r"^[A-Za-z0-9]{1,16}$", "1 to 16 letters or digits"))
]
Note = Annotated[str, Field(max_length=2000)]


class IncidentCreate(RequestModel):
    kind: IncidentKind
    severity: Severity
    title: Annotated[str, Field(min_length=1, max_length=200)]
    description: Annotated[str, Field(max_length=5000)] = ""
    endpoints: Annotated[
        list[EndpointCode],
        Field(default_factory=list, max_length=100, description="Endpoints concerned, by code"),
    ]
    areas: Annotated[
        list[AreaCode],
        Field(default_factory=list, max_length=100, description="Administrative units concerned"),
    ]

    @model_validator(mode="after")
    def _concerns_something(self) -> "IncidentCreate":
        if not self.endpoints and not self.areas:
            raise ValueError("name the endpoints or the areas the incident concerns")
        return self


class IncidentNote(RequestModel):
    note: Note = ""


class IncidentResolution(RequestModel):
    note: Annotated[
        str, Field(min_length=1, max_length=2000, description="What was done, or found")
    ]


class TimelineEntryRead(ResponseModel):
    event: TimelineEvent
    actor: str
    at: datetime
    note: str


class IncidentEndpoint(ResponseModel):
    code: str
    name: str
    area: str
    focal_person: FocalPersonRead | None


class IncidentRead(ResponseModel):
    id: int
    kind: IncidentKind
    severity: Severity
    status: IncidentStatus
    title: str
    description: str
    area: Annotated[str, Field(description="The narrowest unit holding everything concerned")]
    endpoints: list[IncidentEndpoint]
    areas: list[str]
    cause: Annotated[
        str | None, Field(description="What the hub opened it for; null when a person did")
    ]
    opened_by: str
    opened_at: datetime
    resolved_at: datetime | None
    timeline: list[TimelineEntryRead]


class IncidentPage(ResponseModel):
    items: list[IncidentRead]
    next_before_id: int | None
