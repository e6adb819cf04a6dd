from collections.abc import Sequence
from datetime import date

from sqlalchemy import ColumnElement, Select, and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from nguon.areas.levels import AreaLevel
from nguon.areas.models import Area


def valid_on(day: date) -> ColumnElement[bool]:
    return and_(
        or_(Area.valid_from.is_(None), Area.valid_from <= day),
        or_(Area.valid_until.is_(None), Area.valid_until >= day),
    )


class AreaRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, area_id: int) -> Area | None:
        return await self.session.get(Area, area_id)

    async def find_by_code(self, code: str, on: date | None) -> Area | None:
        """The unit that the code names on `on`; without a day, the current one, or else the
        one that held the code last (archives and old integrations still speak retired codes)."""
        if on is not None:
            return await self._first(select(Area).where(Area.code == code, valid_on(on)))
        latest_first = (
            select(Area)
            .where(Area.code == code)
            .order_by(Area.valid_until.is_not(None), Area.valid_until.desc())
        )
        return await self._first(latest_first)

    async def children(self, parent: Area, on: date | None) -> Sequence[Area]:
        statement = select(Area).where(Area.parent_id == parent.id)
        if on is not None:
            statement = statement.where(valid_on(on))
        result = await self.session.scalars(statement.order_by(Area.code))
        return result.all()

    async def roots(self) -> Sequence[Area]:
        result = await self.session.scalars(
            select(Area).where(Area.parent_id.is_(None)).order_by(Area.code)
        )
        return result.all()

    async def provinces(self) -> Sequence[Area]:
        """Every province the hub holds, retired ones too: a hub keeps serving its units
        under their old codes until it imports the new ones."""
        result = await self.session.scalars(
            select(Area).where(Area.level == AreaLevel.province).order_by(Area.code)
        )
        return result.all()

    async def ancestors(self, area: Area) -> Sequence[Area]:
        """From the root down to the parent."""
        ids = area.ancestor_ids
        if not ids:
            return []
        result = await self.session.scalars(select(Area).where(Area.id.in_(ids)))
        by_id = {ancestor.id: ancestor for ancestor in result}
        return [by_id[ancestor_id] for ancestor_id in ids]

    async def subtree(self, area: Area, on: date | None = None) -> Sequence[Area]:
        """The unit and every unit below it, at any depth."""
        statement = select(Area).where(Area.path.startswith(area.path, autoescape=True))
        if on is not None:
            statement = statement.where(valid_on(on))
        result = await self.session.scalars(statement.order_by(Area.path))
        return result.all()

    async def count_children(self, parent_ids: Sequence[int]) -> dict[int, int]:
        if not parent_ids:
            return {}
        rows = await self.session.execute(
            select(Area.parent_id, func.count())
            .where(Area.parent_id.in_(parent_ids))
            .group_by(Area.parent_id)
        )
        return {parent_id: count for parent_id, count in rows.all() if parent_id is not None}

    async def list_with_codes(self, codes: Sequence[str]) -> Sequence[Area]:
        found: list[Area] = []
        for start in range(0, len(codes), 500):
            chunk = codes[start : start + 500]
            result = await self.session.scalars(select(Area).where(Area.code.in_(chunk)))
            found.extend(result)
        return found

    async def latest_with_codes(self, codes: Sequence[str]) -> dict[str, Area]:
        """For each code, the unit find_by_code(code, None) gives, for many codes at once."""
        found = await self.list_with_codes(list(dict.fromkeys(codes)))
        latest: dict[str, Area] = {}
        # The current unit last, after those retired latest: the last one seen per code wins.
        for area in sorted(found, key=lambda a: (a.valid_until is None, a.valid_until or date.min)):
            latest[area.code] = area
        return latest

    async def add_all(self, areas: Sequence[tuple[Area, Area | None]]) -> None:
        """Insert units under already stored parents; a path needs the unit's own id, so the
        ids are drawn first and the paths written in a second flush."""
        for area, _parent in areas:
            area.path = ""
            self.session.add(area)
        await self.session.flush()
        for area, parent in areas:
            area.parent_id = parent.id if parent else None
            area.path = f"{parent.path if parent else '/'}{area.id}/"
        await self.session.flush()

    async def _first(self, statement: Select[Area]) -> Area | None:
        result = await self.session.scalars(statement.limit(1))
        return result.first()
