from collections import defaultdict
from collections.abc import Mapping, Sequence
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from nguon.communes.models import ChairOrder, ProgrammeEntry
from nguon.endpoints.models import Endpoint
from nguon.endpoints.windows import EndpointKind


class CommuneRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def radios(self, area_id: int) -> Sequence[Endpoint]:
        """The commune's radios, switched on first, then by code."""
        result = await self.session.scalars(
            select(Endpoint)
            .where(Endpoint.area_id == area_id, Endpoint.kind == EndpointKind.radio)
            .order_by(Endpoint.enabled.desc(), Endpoint.code)
        )
        return result.all()

    async def endpoints(self, area_id: int) -> Sequence[Endpoint]:
        result = await self.session.scalars(
            select(Endpoint).where(Endpoint.area_id == area_id).order_by(Endpoint.code)
        )
        return result.all()

    async def programme(
        self, area_id: int, since: datetime, until: datetime | None = None
    ) -> Sequence[ProgrammeEntry]:
        statement = select(ProgrammeEntry).where(
            ProgrammeEntry.area_id == area_id, ProgrammeEntry.slot >= since
        )
        if until is not None:
            statement = statement.where(ProgrammeEntry.slot < until)
        result = await self.session.scalars(
            statement.order_by(ProgrammeEntry.slot, ProgrammeEntry.id)
        )
        return result.all()

    async def programme_slots(self, area_id: int, since: datetime) -> dict[str, list[datetime]]:
        found: dict[str, list[datetime]] = defaultdict(list)
        for entry in await self.programme(area_id, since):
            found[entry.bulletin_id].append(entry.slot)
        return dict(found)

    async def programme_entry(self, area_id: int, entry_id: int) -> ProgrammeEntry | None:
        return await self.session.scalar(
            select(ProgrammeEntry).where(
                ProgrammeEntry.area_id == area_id, ProgrammeEntry.id == entry_id
            )
        )

    async def add_programme(self, entries: Sequence[ProgrammeEntry]) -> None:
        self.session.add_all(entries)
        await self.session.flush()

    async def remove_programme(self, entry: ProgrammeEntry) -> None:
        await self.session.delete(entry)
        await self.session.flush()

    async def chair_positions(self, area_id: int) -> dict[str, int]:
        result = await self.session.execute(
            select(ChairOrder.bulletin_id, ChairOrder.position).where(ChairOrder.area_id == area_id)
        )
        return {bulletin_id: position for bulletin_id, position in result.all()}

    async def replace_chair_order(
        self, area_id: int, positions: Mapping[str, int], set_by: str
    ) -> None:
        await self.session.execute(delete(ChairOrder).where(ChairOrder.area_id == area_id))
        self.session.add_all(
            ChairOrder(area_id=area_id, bulletin_id=bulletin_id, position=position, set_by=set_by)
            for bulletin_id, position in positions.items()
        )
        await self.session.flush()
