"""The regulation's order of play (Decision 002, Điều 8), in one place.

Emergency before priority before normal; within a class the origin level, central before
province before district before commune; then the scheduled time, then the publication time.
Every queue and playlist sorts with this key.
"""

from collections.abc import Iterable
from datetime import UTC, datetime
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


def in_play_order(items: Iterable[P]) -> list[P]:
    return sorted(items, key=play_order)
