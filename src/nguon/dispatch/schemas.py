from datetime import datetime

from nguon.areas.levels import AreaLevel
from nguon.bulletins.enums import BulletinKind, Category, Priority
from nguon.endpoints.windows import EndpointKind
from nguon.kit.schemas import ResponseModel


class PlaylistSubtitle(ResponseModel):
    """A subtitle track of a display's video: a WebVTT file (`url`, `sha256`) or a stream
    inside the video (`stream_index`)."""

    language: str | None  # a file's as the bulletin names it; a stream's as its container does
    url: str | None  # WebVTT, relative to the hub (an SRT upload's `webvtt` rendition)
    content_type: str | None
    sha256: str | None
    stream_index: int | None


class PlaylistMedia(ResponseModel):
    id: str
    url: str  # relative to the hub; the broadcast rendition for radio where there is one
    content_type: str
    sha256: str
    size: int
    duration_s: float | None
    width: int | None
    height: int | None
    subtitles: list[PlaylistSubtitle]  # of a video on a display; none otherwise
    # The bulletin's words read aloud by the hub's speech engine (a text bulletin on radio),
    # not a recording of its own.
    speech: bool = False


class PlaylistTranslation(ResponseModel):
    """A language variant shown with its original on a display that takes both languages."""

    bulletin_id: str
    revision: int
    language: str
    title: str
    body: str | None


class PlaylistItem(ResponseModel):
    bulletin_id: str
    revision: int
    priority: Priority
    level: AreaLevel
    origin_area: str
    kind: BulletinKind
    language: str
    category: Category
    title: str
    body: str | None  # radios: when it has no recording, to be read aloud
    media: list[PlaylistMedia]  # what the endpoint's kind plays: audio on radio, pictures
    # and video on displays
    slot: datetime | None
    valid_until: datetime
    # A CAP Test or Exercise from the central system: play it, and show or announce it as an
    # exercise, never as a real alert.
    exercise: bool
    # An ad hoc or important-event posting (Điều 10.2): a display plays it at its times even
    # when its windows are closed; show it as such.
    outside_windows: bool
    # On a display: the variants in its other languages, shown as one item with the original.
    translations: list[PlaylistTranslation]


class PlaylistWindow(ResponseModel):
    start: datetime
    end: datetime
    open: bool  # inside an operating window; when closed only emergencies play


class PlaylistRead(ResponseModel):
    endpoint: str
    kind: EndpointKind
    version: int
    window: PlaylistWindow
    items: list[PlaylistItem]
    upcoming: list[PlaylistItem]
    # Switched off from the hub: only emergencies are in the playlist (nguon.commands.service).
    switched_off: bool = False
