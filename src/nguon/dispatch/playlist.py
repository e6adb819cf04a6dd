"""What an endpoint plays: now, and over the next 24 hours for offline caching.

`plan` is a pure function of what is on air for the endpoint, its windows, the commune's
programme and the chair's order, and a moment. The device API and the editors' preview both
call it, so a preview shows exactly what the device will be given.

A plan depends on the moment only through the window segment it falls in (and emergencies
that start or anything that ends inside it), so it carries `fresh_until`: until then the same
inputs give the same bytes, which is what lets an unchanged poll be answered from memory.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from nguon.areas.levels import AreaLevel
from nguon.bulletins.enums import BulletinKind, Category, Priority
from nguon.bulletins.models import Bulletin, BulletinRevision
from nguon.dispatch.order import in_play_order, in_slot_order
from nguon.dispatch.slots import DAY, Segment, segment_at, slots
from nguon.endpoints.windows import EndpointKind, Windows


@dataclass(frozen=True, slots=True)
class OnAir:
    """A bulletin as its on-air revision was approved: what endpoints play, whatever edits
    are pending on the working copy."""

    bulletin_id: str
    revision: int
    title: str
    kind: BulletinKind
    body: str | None
    language: str
    category: Category
    priority: Priority
    level: AreaLevel
    origin_area: str
    media: tuple[str, ...]
    schedule: Mapping[str, Any] | None
    valid_from: datetime
    valid_until: datetime
    published_at: datetime
    exercise: bool = False  # a CAP Test or Exercise: played, and shown as such
    # Ad hoc or important-event posting: displays play it at its times, windows closed or not.
    outside_windows: bool = False
    subtitles: tuple[Mapping[str, Any], ...] = ()
    translation_of: str | None = None
    # Variants shown with this original as one item (on displays; `fold_translations`).
    translations: tuple["OnAir", ...] = ()

    @classmethod
    def of(cls, bulletin: Bulletin, revision: BulletinRevision) -> "OnAir":
        content = revision.content
        return cls(
            bulletin_id=bulletin.id,
            revision=revision.number,
            title=content["title"],
            kind=BulletinKind(content["kind"]),
            body=content["body"],
            language=content["language"],
            category=Category(content["category"]),
            priority=Priority(content["priority"]),
            level=bulletin.level,
            origin_area=bulletin.origin_area_code,
            media=tuple(content["media"]),
            schedule=content["schedule"],
            valid_from=datetime.fromisoformat(content["valid_from"]),
            valid_until=datetime.fromisoformat(content["valid_until"]),
            published_at=revision.approved_at,
            exercise=bulletin.exercise,
            # Revisions approved before a rule was part of content lack its field.
            outside_windows=content.get("outside_windows", False),
            # Revisions approved before subtitles and variants were part of content lack them.
            subtitles=tuple(content.get("subtitles", ())),
            translation_of=content.get("translation_of"),
        )

    @property
    def first(self) -> datetime:
        """The earliest moment it may play: on air and valid."""
        return max(self.valid_from, self.published_at)


@dataclass(frozen=True, slots=True)
class Entry:
    """One bulletin at one slot; sorts with the regulation's order (`nguon.dispatch.order`)."""

    on_air: OnAir
    slot: datetime | None

    @property
    def bulletin_id(self) -> str:
        return self.on_air.bulletin_id

    @property
    def priority(self) -> Priority:
        return self.on_air.priority

    @property
    def level(self) -> AreaLevel:
        return self.on_air.level

    @property
    def published_at(self) -> datetime:
        return self.on_air.published_at


@dataclass(frozen=True, slots=True)
class Plan:
    segment: Segment
    items: list[Entry]  # what plays now, in order
    upcoming: list[Entry]  # slots after the current segment, up to a day past its end
    fresh_until: datetime


@dataclass(frozen=True, slots=True)
class Programme:
    """What the commune has decided for its radio: the normal items the chair put into slots,
    and the chair's positions for colliding priority items."""

    slots: Mapping[str, Sequence[datetime]] = field(default_factory=dict)
    chair_positions: Mapping[str, int] = field(default_factory=dict)


NO_PROGRAMME = Programme()


def fold_translations(on_air: Sequence[OnAir]) -> list[OnAir]:
    """A display that takes an original and its language variants shows them as one item:
    the original, carrying the variants (Lai Châu 001 Điều 2.2, 10.1a: vi–en, vi–zh). A
    variant whose original it does not take stays an item of its own."""
    originals = {bulletin.bulletin_id for bulletin in on_air}
    variants: dict[str, list[OnAir]] = {}
    for bulletin in on_air:
        if bulletin.translation_of in originals:
            variants.setdefault(bulletin.translation_of, []).append(bulletin)
    return [
        replace(bulletin, translations=tuple(variants.get(bulletin.bulletin_id, ())))
        for bulletin in on_air
        if bulletin.translation_of not in originals
    ]


def slots_of(
    on_air: OnAir,
    kind: EndpointKind,
    windows: Windows,
    programme: Programme,
    start: datetime,
    end: datetime,
) -> list[datetime]:
    """When the bulletin plays on the endpoint in [start, end). On radio a normal bulletin
    plays only where the commune chair put it (Điều 8.3); on a display an ad hoc posting
    plays at its own times, windows closed or not (Điều 10.2)."""
    if kind is EndpointKind.radio and on_air.priority is Priority.normal:
        chosen = programme.slots.get(on_air.bulletin_id, ())
        return sorted(
            slot
            for slot in chosen
            if start <= slot < end and on_air.first <= slot < on_air.valid_until
        )
    return slots(
        priority=on_air.priority,
        schedule=on_air.schedule,
        first=on_air.first,
        valid_until=on_air.valid_until,
        windows=windows,
        start=start,
        end=end,
        any_time=plays_any_time(on_air, kind),
    )


def plays_any_time(on_air: OnAir, kind: EndpointKind) -> bool:
    """An ad hoc posting on a display: outside the windows, not an emergency, still plays."""
    return kind is EndpointKind.display and on_air.outside_windows


def plan(
    on_air: Sequence[OnAir],
    kind: EndpointKind,
    windows: Windows,
    programme: Programme,
    at: datetime,
) -> Plan:
    """Inside a window: everything whose slot falls in it; outside: emergencies, and on
    displays the ad hoc postings whose slot falls in the gap (Điều 8.1, 10.2). An emergency
    stays in `items` from its first moment until it ends."""
    segment = segment_at(windows, at)
    horizon = segment.end + DAY
    now: list[Entry] = []
    later: list[Entry] = []
    edges = [segment.end]
    for bulletin in on_air:
        edges.append(bulletin.valid_until)
        found = slots_of(bulletin, kind, windows, programme, segment.start, horizon)
        if bulletin.priority is Priority.emergency:
            if bulletin.first <= at:
                now.append(Entry(bulletin, bulletin.first))
            else:
                edges.append(bulletin.first)
            later += [Entry(bulletin, slot) for slot in found if slot > bulletin.first]
            continue
        for slot in found:
            if slot >= segment.end:
                later.append(Entry(bulletin, slot))
            elif segment.on or plays_any_time(bulletin, kind):
                now.append(Entry(bulletin, slot))
    positions = programme.chair_positions if kind is EndpointKind.radio else None
    return Plan(
        segment=segment,
        items=in_play_order(now, positions),
        upcoming=in_slot_order(later, positions),
        fresh_until=min(edge for edge in edges if edge > at),
    )
