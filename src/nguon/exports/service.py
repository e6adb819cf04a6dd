"""The inspection export of an area and a period of local days (001 Điều 9.1: content,
advertising content and broadcast times kept for inspection)."""

import asyncio
import contextlib
import os
import tempfile
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession

from nguon.areas.models import Area
from nguon.areas.service import AreaService
from nguon.dispatch.slots import LOCAL
from nguon.exports.repository import ExportRepository
from nguon.exports.workbook import (
    BROADCAST_HEADERS,
    BULLETIN_HEADERS,
    SHEETS,
    InspectionWorkbook,
    bulletin_cells,
    play_cells,
)
from nguon.identity.principal import Principal
from nguon.kit.errors import InvalidInput
from nguon.stats.service import check_period

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@dataclass(frozen=True, slots=True)
class Export:
    path: Path
    filename: str
    bulletins: int
    advertising: int
    broadcasts: int


def local_period(first: date, last: date) -> tuple[datetime, datetime]:
    """[midnight of the first day, midnight after the last) on the local clock: the "to" day
    is included."""
    if last < first:
        raise InvalidInput(
            f"The period must not end before it starts: to {last.isoformat()} is before from "
            f"{first.isoformat()}."
        )
    start = datetime.combine(first, time(), LOCAL)
    end = datetime.combine(last + timedelta(days=1), time(), LOCAL)
    check_period(start, end)
    return start, end


class ExportService:
    def __init__(self, session: AsyncSession) -> None:
        self.repository = ExportRepository(session)
        self.areas = AreaService(session)

    async def inspection_for(
        self, actor: Principal, area_code: str | None, first: date, last: date, directory: Path
    ) -> Export:
        """The export of an area within the actor's own (their own area when none is named)."""
        if area_code is None:
            area = await self.areas.repository.get(actor.area.id)
            assert area is not None  # areas are never deleted under accounts (RESTRICT)
        else:
            area = await self.areas.get_by_code(area_code)
        actor.require_within(area, "the inspection export")
        return await self.inspection(area, first, last, directory)

    async def inspection(self, area: Area, first: date, last: date, directory: Path) -> Export:
        start, end = local_period(first, last)
        filename = f"kiem-tra-{area.code}-{first.isoformat()}-{last.isoformat()}.xlsx"
        handle, name = tempfile.mkstemp(suffix=".xlsx", dir=directory)
        os.close(handle)  # xlsxwriter opens it by name
        path = Path(name)
        book = InspectionWorkbook(
            path, f"Dữ liệu phục vụ thanh tra, kiểm tra: {area.name}, {first} – {last}"
        )
        sheets = {
            "bulletins": book.sheet(SHEETS["bulletins"], BULLETIN_HEADERS),
            "advertising": book.sheet(SHEETS["advertising"], BULLETIN_HEADERS),
            "broadcasts": book.sheet(SHEETS["broadcasts"], BROADCAST_HEADERS),
        }
        try:
            for sheet in sheets.values():
                sheet.open()
            # Each batch is written in a thread: a year of a province's plays is millions of
            # rows, and the event loop goes on serving the devices' polls meanwhile.
            for key, advertising in (("bulletins", False), ("advertising", True)):
                async for batch in self.repository.bulletins(area.path, start, end, advertising):
                    await asyncio.to_thread(sheets[key].write_all, map(bulletin_cells, batch))
            async for plays in self.repository.plays(area.path, start, end):
                await asyncio.to_thread(sheets["broadcasts"].write_all, map(play_cells, plays))
            await asyncio.to_thread(book.close)
        except BaseException:  # a cancelled request too: no half workbook stays behind
            with contextlib.suppress(FileNotFoundError):
                os.unlink(name)
            raise
        return Export(
            path,
            filename,
            sheets["bulletins"].count,
            sheets["advertising"].count,
            sheets["broadcasts"].count,
        )
