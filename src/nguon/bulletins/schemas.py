from datetime import datetime, time
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import Field, model_validator

from nguon.areas.levels import AreaLevel
from nguon.bulletins.enums import BulletinKind, BulletinStatus, Category, Priority
from nguon.kit.schemas import Instant, RequestModel, ResponseModel, kept_if_omitted, pattern
from nguon.media.kinds import MediaKind
from nguon.speech.models import SpeechStatus

# BCP 47: a 2–3 letter language (ISO 639-1/-3, so minority languages too) and optional subtags.
LANGUAGE_PATTERN = pattern(
    r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$", "a language tag such as vi, km or en-US"
)
TARGET_PATTERN = pattern(
    r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$",
    "an area or endpoint code: up to 64 letters, digits, '.', '_' or '-'",
)
ID_PATTERN = pattern(r"^[0-9a-f]{32}$", "32 hexadecimal digits (0-9, a-f)")

Title = Annotated[str, Field(min_length=1, max_length=300)]
Body = Annotated[str, Field(max_length=20_000)]
# 35 characters: what RFC 5646 (4.4.1) asks every implementation to hold, and the column holds.
LANGUAGE_LENGTH = 35
Language = Annotated[
    str,
    Field(pattern=LANGUAGE_PATTERN, max_length=LANGUAGE_LENGTH, examples=["vi", "km", "en"]),
]
Targets = Annotated[
    list[Annotated[str, Field(pattern=TARGET_PATTERN)]],
    Field(min_length=1, max_length=1000, description="Area codes and/or endpoint codes"),
]
MediaIds = Annotated[list[Annotated[str, Field(pattern=ID_PATTERN)]], Field(max_length=20)]
Contributor = Annotated[str, Field(min_length=1, max_length=200)]
BulletinId = Annotated[str, Field(pattern=ID_PATTERN)]
ShareWithCentral = Annotated[
    bool,
    Field(
        description="A province bulletin also sent up to the central source system, each "
        "revision as it goes on air"
    ),
]


class Weekday(StrEnum):
    mon = "mon"
    tue = "tue"
    wed = "wed"
    thu = "thu"
    fri = "fri"
    sat = "sat"
    sun = "sun"


class Schedule(RequestModel):
    """When to play: once at an instant, daily at local times, or on weekdays at local times
    (Asia/Ho_Chi_Minh); each play may repeat `repeat` times, `gap_minutes` apart."""

    type: Literal["once", "daily", "weekdays"]
    at: Instant | None = None
    times: Annotated[list[time], Field(max_length=24, default_factory=list)]
    weekdays: Annotated[list[Weekday], Field(max_length=7, default_factory=list)]
    repeat: Annotated[int, Field(ge=1, le=20)] = 1
    gap_minutes: Annotated[int, Field(ge=0, le=1440)] = 0

    @model_validator(mode="after")
    def _complete(self) -> "Schedule":
        if self.type == "once" and (self.at is None or self.times or self.weekdays):
            raise ValueError("a `once` schedule takes `at` only")
        if self.type == "daily" and (not self.times or self.at or self.weekdays):
            raise ValueError("a `daily` schedule takes `times` only")
        if self.type == "weekdays" and (not self.times or not self.weekdays or self.at):
            raise ValueError("a `weekdays` schedule takes `weekdays` and `times`")
        if self.repeat > 1 and self.gap_minutes == 0:
            raise ValueError("repeats need a `gap_minutes` above 0")
        return self


class SubtitleChoice(RequestModel):
    """A subtitle file for one of the bulletin's videos, in one language."""

    media: Annotated[str, Field(pattern=ID_PATTERN, description="A media id of kind subtitle")]
    language: Language
    video: Annotated[
        str | None,
        Field(
            pattern=ID_PATTERN,
            description="The video it is for; may be left out when the bulletin has one video",
        ),
    ] = None


Subtitles = Annotated[list[SubtitleChoice], Field(max_length=20)]


OutsideWindows = Annotated[
    bool,
    Field(
        description="An ad hoc or important-event posting (002 Điều 10.2, 001 Điều 8.2): "
        "e-boards play it at its times even when their windows are closed, without it being "
        "an emergency; radios keep their windows. Editors alone may set or clear it."
    ),
]


class BulletinFields(RequestModel):
    title: Title
    kind: BulletinKind
    body: Body | None = None
    language: Language = "vi"
    category: Category
    priority: Priority = Priority.normal
    targets: Targets
    media: Annotated[MediaIds, Field(default_factory=list)]
    subtitles: Subtitles = Field(default_factory=list)
    sensitive: bool = False
    valid_from: Instant | None = None
    valid_until: Instant | None = None
    schedule: Schedule | None = None
    contributor: Contributor | None = None
    translation_of: BulletinId | None = None
    share_with_central: ShareWithCentral = False
    outside_windows: OutsideWindows = False


class BulletinCreate(BulletinFields):
    pass


class BulletinUpdate(RequestModel):
    """Only the fields sent change."""

    title: Title = kept_if_omitted()
    kind: BulletinKind = kept_if_omitted()
    body: Body | None = None
    language: Language = kept_if_omitted()
    category: Category = kept_if_omitted()
    priority: Priority = kept_if_omitted()
    targets: Targets = kept_if_omitted()
    media: MediaIds = kept_if_omitted()
    subtitles: Subtitles = kept_if_omitted()
    sensitive: bool = kept_if_omitted()
    valid_from: Instant = kept_if_omitted()
    valid_until: Instant = kept_if_omitted()
    schedule: Schedule | None = None
    contributor: Contributor | None = None
    translation_of: BulletinId | None = None
    share_with_central: ShareWithCentral = kept_if_omitted()
    outside_windows: OutsideWindows = kept_if_omitted()


REASON_MAX_LENGTH = 1000


class Decision(RequestModel):
    reason: Annotated[str, Field(min_length=3, max_length=REASON_MAX_LENGTH)]


class OptionalNote(RequestModel):
    reason: Annotated[str | None, Field(max_length=REASON_MAX_LENGTH)] = None


class MediaSummary(ResponseModel):
    id: str
    kind: MediaKind
    content_type: str
    sha256: str
    size: int
    duration_s: float | None
    width: int | None
    height: int | None
    url: str


class SubtitleRead(ResponseModel):
    media: str
    language: str
    video: str | None


class SpeechRead(ResponseModel):
    """The bulletin's words read aloud for radio, in one language: `ready` with its MP3,
    `no_voice` (no voice for the language, or speech off) or `failed` (the engine erred or
    timed out; `POST .../speech` makes it again), with a detail in words."""

    language: str
    status: SpeechStatus
    detail: str
    engine: str
    voice: str | None
    media: MediaSummary | None


class BulletinRead(ResponseModel):
    id: str
    status: BulletinStatus
    level: AreaLevel
    revision: int
    on_air_revision: int | None
    origin_area: str
    title: str
    kind: BulletinKind
    body: str | None
    language: str
    category: Category
    priority: Priority
    targets: list[str]
    media: list[str]
    media_details: list[MediaSummary]
    subtitles: list[SubtitleRead]
    # The working revision's speech (a body and no recording): what radios will play.
    speech: list[SpeechRead]
    sensitive: bool
    valid_from: datetime
    valid_until: datetime
    schedule: Schedule | None
    contributor: str | None
    translation_of: str | None
    exercise: bool  # a CAP Test or Exercise from the central system
    share_with_central: bool
    outside_windows: bool
    appraisal_requested: Annotated[
        bool, Field(description="An editor sent it to appraisal: approval waits for it")
    ]
    created_by: str
    appraised_by: str | None
    decided_by: str | None
    reason: str | None
    created_at: datetime
    updated_at: datetime


class BulletinPage(ResponseModel):
    items: list[BulletinRead]
    next_cursor: str | None
