from datetime import datetime

from nguon.areas.levels import AreaLevel
from nguon.bulletins.enums import BulletinKind, Category, Priority
from nguon.endpoints.windows import EndpointKind
from nguon.kit.schemas import ResponseModel


class PlaylistMedia(ResponseModel):
    id: str
    url: str  # relative to the hub; the broadcast rendition for radio where there is one
    content_type: str
    sha256: str
    size: int
    duration_s: float | None
    width: int | None
    height: int | None
    # The bulletin's words read aloud by the hub's speech engine (a text bulletin on radio),
    # not a recording of its own.
    speech: bool = False


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
    body: str | None
    media: list[PlaylistMedia]
    slot: datetime | None
    valid_until: datetime
    # A CAP Test or Exercise from the central system: play it, and show or announce it as an
    # exercise, never as a real alert.
    exercise: bool


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
