"""Which kinds of endpoint a bulletin reaches, and what each kind plays of it (Decision 002
Điều 7): radios take text and audio bulletins; displays take text, video with subtitles,
images and infographics. A bulletin may carry several of these at once; each channel gets its
own part of it."""

from collections.abc import Iterable
from dataclasses import dataclass

from nguon.endpoints.windows import EndpointKind
from nguon.media.kinds import MediaKind

RADIO_MEDIA = frozenset({MediaKind.audio})
DISPLAY_MEDIA = frozenset({MediaKind.image, MediaKind.video})


@dataclass(frozen=True, slots=True)
class Content:
    """What a bulletin's revision carries, as far as channels care."""

    has_body: bool
    media_kinds: frozenset[MediaKind]

    @classmethod
    def of(cls, body: str | None, media_kinds: Iterable[MediaKind]) -> "Content":
        return cls(bool((body or "").strip()), frozenset(media_kinds))

    @property
    def has_recording(self) -> bool:
        return MediaKind.audio in self.media_kinds


@dataclass(frozen=True, slots=True)
class Played:
    """The part of a bulletin one kind of endpoint is given: the body or not, and the media of
    these kinds."""

    body: bool
    media_kinds: frozenset[MediaKind]


def endpoint_kinds_reached(content: Content) -> frozenset[EndpointKind]:
    """Radios when there is a recording or a body to read; displays when there is a body, a
    picture or a video to show."""
    reached = set[EndpointKind]()
    if content.has_recording or content.has_body:
        reached.add(EndpointKind.radio)
    if content.has_body or content.media_kinds & DISPLAY_MEDIA:
        reached.add(EndpointKind.display)
    return frozenset(reached)


def played_by(kind: EndpointKind, content: Content) -> Played:
    """Radios play the recording, or read the body where there is none; displays show the
    body, the pictures and the video, never the sound."""
    if kind is EndpointKind.radio:
        return Played(body=not content.has_recording, media_kinds=RADIO_MEDIA)
    return Played(body=True, media_kinds=DISPLAY_MEDIA)
