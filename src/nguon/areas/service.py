"""Loading administrative units and answering questions about the hierarchy."""

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession

from nguon.areas.levels import AreaLevel
from nguon.areas.models import Area
from nguon.areas.repository import AreaRepository
from nguon.areas.sources import AreaRecord
from nguon.kit.errors import InvalidInput, NotFound

NATIONAL_CODE = "VN"
NATIONAL_NAME = "Việt Nam"


@dataclass(frozen=True, slots=True)
class ImportResult:
    created: int
    updated: int
    unchanged: int


def _overlaps(area: Area, record: AreaRecord) -> bool:
    starts_before_other_ends = (
        record.valid_from is None
        or area.valid_until is None
        or record.valid_from <= area.valid_until
    )
    other_starts_before_end = (
        area.valid_from is None
        or record.valid_until is None
        or area.valid_from <= record.valid_until
    )
    return starts_before_other_ends and other_starts_before_end


class AreaService:
    def __init__(self, session: AsyncSession) -> None:
        self.repository = AreaRepository(session)

    async def get_by_code(self, code: str, on: date | None = None) -> Area:
        area = await self.repository.find_by_code(code, on)
        if area is None:
            when = f" on {on.isoformat()}" if on else ""
            raise NotFound(f"No administrative unit has the code {code!r}{when}.")
        return area

    async def children_of(self, parent_code: str | None, on: date | None) -> list[tuple[Area, int]]:
        """The units below a parent (the national root when none is named), each with the
        number of units directly below it."""
        if parent_code is None:
            units = await self.repository.roots()
        else:
            units = await self.repository.children(await self.get_by_code(parent_code, on), on)
        counts = await self.repository.count_children([unit.id for unit in units])
        return [(unit, counts.get(unit.id, 0)) for unit in units]

    async def subtree(self, area_id: int) -> Sequence[Area]:
        """A unit and every unit below it, parents before children. A unit's children share
        its time (a unit that moves is a new unit), so a retired unit's subtree is the one
        its old codes still name."""
        area = await self.repository.get(area_id)
        if area is None:
            raise NotFound(f"No administrative unit has the id {area_id}.")
        return await self.repository.subtree(area)

    async def describe(self, code: str, on: date | None) -> tuple[Area, Sequence[Area], int]:
        """A unit, its ancestors from the root down, and how many units lie directly below it."""
        area = await self.get_by_code(code, on)
        ancestors = await self.repository.ancestors(area)
        counts = await self.repository.count_children([area.id])
        return area, ancestors, counts.get(area.id, 0)

    async def national_root(self) -> Area:
        root = await self.repository.find_by_code(NATIONAL_CODE, None)
        if root is None:
            root = Area(code=NATIONAL_CODE, name=NATIONAL_NAME, level=AreaLevel.central)
            await self.repository.add_all([(root, None)])
        return root

    async def import_records(self, records: Sequence[AreaRecord]) -> ImportResult:
        """Create or update units; the same records imported twice change nothing.

        A unit is the same unit when code, level and start of validity agree. A code that
        would name two units at the same time is refused, naming both.
        """
        root = await self.national_root()
        existing: dict[str, list[Area]] = defaultdict(list)
        for area in await self.repository.list_with_codes(sorted({r.code for r in records})):
            existing[area.code].append(area)
        placed: dict[str, Area] = {}
        created = updated = unchanged = 0
        by_rank: dict[int, list[AreaRecord]] = defaultdict(list)
        for record in records:
            by_rank[record.level.rank].append(record)
        for rank in sorted(by_rank):
            new_units: list[tuple[Area, Area | None]] = []
            for record in by_rank[rank]:
                parent = self._parent_of(record, placed, root)
                same = next(
                    (
                        area
                        for area in existing[record.code]
                        if area.level == record.level and area.valid_from == record.valid_from
                    ),
                    None,
                )
                if same is None:
                    self._refuse_overlap(record, existing[record.code])
                    unit = Area(
                        code=record.code,
                        name=record.name,
                        level=record.level,
                        valid_from=record.valid_from,
                        valid_until=record.valid_until,
                    )
                    new_units.append((unit, parent))
                    placed[record.code] = unit
                    created += 1
                    continue
                placed[record.code] = same
                if self._refresh(same, record, parent):
                    updated += 1
                else:
                    unchanged += 1
            await self.repository.add_all(new_units)
        return ImportResult(created=created, updated=updated, unchanged=unchanged)

    @staticmethod
    def _parent_of(record: AreaRecord, placed: dict[str, Area], root: Area) -> Area:
        if record.parent_code is None:
            return root
        parent = placed.get(record.parent_code)
        if parent is None:
            raise InvalidInput(
                f"Unit {record.code} names parent {record.parent_code}, which is not in the data."
            )
        return parent

    @staticmethod
    def _refuse_overlap(record: AreaRecord, holders: list[Area]) -> None:
        for area in holders:
            if _overlaps(area, record):
                raise InvalidInput(
                    f"Code {record.code} ({record.name}) would overlap {area.name} "
                    f"({area.level}, valid {area.valid_from or '…'} to {area.valid_until or '…'})."
                )

    @staticmethod
    def _refresh(area: Area, record: AreaRecord, parent: Area) -> bool:
        if area.parent_id != parent.id:
            raise InvalidInput(
                f"Unit {record.code} ({record.name}) is stored under another parent; a unit that "
                "moves is a new unit: give it its own validity dates."
            )
        changed = (area.name, area.valid_until) != (record.name, record.valid_until)
        area.name = record.name
        area.valid_until = record.valid_until
        return changed
