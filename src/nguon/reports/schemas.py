from datetime import date, datetime
from enum import StrEnum
from typing import Annotated

from pydantic import Field

from nguon.incidents.models import IncidentKind, Severity
from nguon.kit.notices import NoticeStatus
from nguon.kit.schemas import RequestModel, ResponseModel
from nguon.stats.schemas import AreaRef, StatsReport
from nguon.stats.uptime import UptimeReport


class ReportStatus(StrEnum):
    upcoming = "upcoming"  # the period has not begun
    open = "open"  # begun, not written, the deadline ahead
    written = "written"  # a narrative is kept
    overdue = "overdue"  # the deadline passed with nothing written


class ReminderRead(ResponseModel):
    written_at: Annotated[datetime, Field(description="When the worker reminded the area")]
    status: Annotated[
        NoticeStatus,
        Field(description="Its notice to the department's webhook: `pending` until it is sent"),
    ]
    sent_at: datetime | None


class PeriodRead(ResponseModel):
    id: Annotated[str, Field(description="`2026-H1`, `2026-H2`, `2026-Y`")]
    title: Annotated[
        str, Field(description="How the report names it: `6 tháng đầu năm 2026`, `năm 2026`")
    ]
    first_day: Annotated[date, Field(description="First local day of the figures")]
    last_day: Annotated[date, Field(description="Last local day of the figures, included")]
    due_before: Annotated[
        date, Field(description="The area reports before this day: its level's deadline")
    ]
    units_due_before: Annotated[date, Field(description="Communes and districts")]
    department_due_before: Annotated[date, Field(description="The province's department")]
    status: ReportStatus
    reminder: Annotated[
        ReminderRead | None,
        Field(description="The reminder before the deadline, once written (see the settings)"),
    ] = None


class AreaPeriods(ResponseModel):
    area: AreaRef
    periods: list[PeriodRead]


class IncidentCounts(ResponseModel):
    total: Annotated[int, Field(description="Incidents of the area opened in the period")]
    open: Annotated[int, Field(description="Of those, not resolved yet")]
    resolved: int
    by_kind: dict[IncidentKind, int]
    by_severity: dict[Severity, int]


class ContentOrigin(ResponseModel):
    built_locally: Annotated[
        int, Field(description="Bulletins from the area itself: the statistics' `total`")
    ]
    received_from_above: Annotated[
        int, Field(description="Bulletins from above the area delivered to its endpoints")
    ]


class SectionRead(ResponseModel):
    key: str
    title: str
    text: str


class NarrativeRead(ResponseModel):
    outline: str
    sections: list[SectionRead]
    updated_by: str | None
    updated_at: datetime | None


class NarrativeWrite(RequestModel):
    sections: Annotated[
        dict[str, Annotated[str, Field(max_length=20000)]],
        Field(
            description="Text per section key of the report's outline; keys left out keep "
            "their text"
        ),
    ]


class ReportRead(ResponseModel):
    area: AreaRef
    period: PeriodRead
    generated_at: datetime
    statistics: Annotated[
        StatsReport,
        Field(description="`GET /api/v1/stats` for the period, up to now when it is running"),
    ]
    uptime: UptimeReport
    incidents: IncidentCounts
    content: ContentOrigin
    narrative: NarrativeRead
