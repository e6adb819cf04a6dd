"""The regulation's order of play (Decision 002, Điều 8), in one place.

Emergency before priority before normal; within a class the origin level, central before
province before district before commune; then the scheduled time, then the publication time.
Every queue and playlist sorts with this key. Where priority items from above collide with the
commune's own priority items (the same slot), the commune chair may order them (Điều 8.2): the
chair's positions rearrange those items among the places they hold, and nothing else moves.
A timeline of slots (a device's offline cache) runs slot by slot, each slot in that order.
"""

from collections import defaultdict
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from itertools import groupby
from typing import Protocol, TypeVar

from nguon.areas.levels import AreaLevel
from nguon.bulletins.enums import Priority

PRIORITY_RANK = {Priority.emergency: 0, Priority.priority: 1, Priority.normal: 2}
_NO_SLOT = datetime.max.replace(tzinfo=UTC)


class Playable(Protocol):
    @property
    def bulletin_id(self) -> str: ...

    @property
    def priority(self) -> Priority: ...

    @property
    def level(self) -> AreaLevel: ...

    @property
    def slot(self) -> datetime | None: ...

    @property
    def published_at(self) -> datetime: ...


P = TypeVar("P", bound=Playable)


def play_order(item: Playable) -> tuple[int, int, datetime, datetime, str]:
    """The sort key; the bulletin id last makes the order total, whatever the input order."""
    return (
        PRIORITY_RANK[item.priority],
        item.level.rank,
        item.slot or _NO_SLOT,
        item.published_at,
        item.bulletin_id,
    )


def colliding(items: Iterable[P]) -> list[P]:
    """Priority items sharing a slot with both the commune's own and another level's."""
    by_slot: dict[datetime | None, list[P]] = defaultdict(list)
    for item in items:
        if item.priority is Priority.priority:
            by_slot[item.slot].append(item)
    return [
        item
        for group in by_slot.values()
        if {member.level is AreaLevel.commune for member in group} == {True, False}
        for item in group
    ]


def in_play_order(items: Iterable[P], chair_positions: Mapping[str, int] | None = None) -> list[P]:
    ordered = sorted(items, key=play_order)
    if not chair_positions:
        return ordered
    chosen = {
        id(item): chair_positions[item.bulletin_id]
        for item in colliding(ordered)
        if item.bulletin_id in chair_positions
    }
    places = [index for index, item in enumerate(ordered) if id(item) in chosen]
    by_chair = sorted((ordered[index] for index in places), key=lambda item: chosen[id(item)])
    for index, item in zip(places, by_chair, strict=True):
        ordered[index] = item
    return ordered


def in_slot_order(items: Iterable[P], chair_positions: Mapping[str, int] | None = None) -> list[P]:
    """Slot by slot in time, each slot's items in the order of play, the chair's included."""
    by_time = sorted(items, key=lambda item: item.slot or _NO_SLOT)
    return [
        item
        for _slot, group in groupby(by_time, key=lambda item: item.slot)
        for item in in_play_order(group, chair_positions)
    ]
