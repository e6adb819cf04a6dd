from enum import StrEnum

from nguon.media.kinds import MediaKind


class BulletinKind(StrEnum):
    """Bulletin forms (Decision 002, Điều 7)."""

    text = "text"  # ký tự: read aloud on radio, shown on displays
    audio = "audio"  # âm thanh: radio
    image = "image"
    infographic = "infographic"  # đồ họa
    video = "video"  # with subtitles, displays


class Priority(StrEnum):
    """Điều 8: emergency plays at once; priority in the order of origin; normal is offered."""

    emergency = "emergency"
    priority = "priority"
    normal = "normal"


class Category(StrEnum):
    """Content categories (Decision 002 Điều 6, Lai Châu Điều 7)."""

    policy_and_law = "policy_and_law"
    local_programmes = "local_programmes"
    economy_science = "economy_science"
    security_order = "security_order"
    disaster_fire_epidemic = "disaster_fire_epidemic"
    good_examples = "good_examples"
    crime_prevention = "crime_prevention"
    products_services = "products_services"
    access_to_information = "access_to_information"
    foreign_affairs_border = "foreign_affairs_border"
    advertising = "advertising"


class BulletinStatus(StrEnum):
    draft = "draft"
    submitted = "submitted"
    appraised = "appraised"
    published = "published"
    scheduled = "scheduled"
    rejected = "rejected"
    revoked = "revoked"
    expired = "expired"


ON_AIR = frozenset({BulletinStatus.published, BulletinStatus.scheduled})

# The media kind each bulletin kind carries; text carries none.
MEDIA_KIND_FOR: dict[BulletinKind, MediaKind | None] = {
    BulletinKind.text: None,
    BulletinKind.audio: MediaKind.audio,
    BulletinKind.image: MediaKind.image,
    BulletinKind.infographic: MediaKind.image,
    BulletinKind.video: MediaKind.video,
}
