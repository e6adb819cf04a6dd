"""Importing units: idempotent, any depth, no two units holding a code at once."""

from datetime import date

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from nguon.areas.levels import AreaLevel
from nguon.areas.models import Area
from nguon.areas.repository import AreaRepository
from nguon.areas.service import AreaService
from nguon.areas.sources import AreaRecord
from nguon.kit.errors import InvalidInput
from tests.conftest import AN_GIANG, LAI_CHAU, districts_of


async def count_areas(session: AsyncSession) -> int:
    return await session.scalar(select(func.count()).select_from(Area)) or 0


async def test_importing_twice_changes_nothing(
    sessionmaker: async_sessionmaker[AsyncSession], demo_area_records: list[AreaRecord]
) -> None:
    async with sessionmaker() as session:
        first = await AreaService(session).import_records(demo_area_records)
        await session.commit()
        stored = await count_areas(session)
    async with sessionmaker() as session:
        second = await AreaService(session).import_records(demo_area_records)
        await session.commit()
        assert await count_areas(session) == stored
    assert first.created == len(demo_area_records)
    assert (second.created, second.updated, second.unchanged) == (0, 0, len(demo_area_records))
    assert stored == len(demo_area_records) + 1  # and the national root


async def test_renamed_unit_is_updated_in_place(
    sessionmaker: async_sessionmaker[AsyncSession], areas: list[AreaRecord]
) -> None:
    province = next(r for r in areas if r.code == AN_GIANG)
    renamed = AreaRecord(
        province.code, "An Giang (đổi tên)", province.level, None, province.valid_from, None
    )
    async with sessionmaker() as session:
        result = await AreaService(session).import_records([renamed])
        await session.commit()
        area = await AreaService(session).get_by_code(AN_GIANG)
    assert (result.created, result.updated) == (0, 1)
    assert area.name == "An Giang (đổi tên)"


async def test_overlapping_holder_of_a_code_is_refused(
    sessionmaker: async_sessionmaker[AsyncSession], areas: list[AreaRecord]
) -> None:
    clash = AreaRecord(LAI_CHAU, "Another 12", AreaLevel.province, None, date(2025, 1, 1), None)
    async with sessionmaker() as session:
        with pytest.raises(InvalidInput, match="would overlap"):
            await AreaService(session).import_records([clash])


async def test_subtree_and_ancestors_at_any_depth(
    sessionmaker: async_sessionmaker[AsyncSession], areas: list[AreaRecord]
) -> None:
    district = districts_of(areas, LAI_CHAU)[0]
    async with sessionmaker() as session:
        service = AreaService(session)
        repository = AreaRepository(session)
        province = await service.get_by_code(LAI_CHAU)
        subtree = await repository.subtree(province)
        district_area = await service.get_by_code(district)
        district_subtree = await repository.subtree(district_area)
        ancestors = await repository.ancestors(district_subtree[-1])
    legacy = [r for r in areas if r.code == LAI_CHAU or r.parent_code == LAI_CHAU] + [
        r for r in areas if r.parent_code in districts_of(areas, LAI_CHAU)
    ]
    assert {a.code for a in subtree} == {r.code for r in legacy}
    assert {a.code for a in district_subtree} == {district} | {
        r.code for r in areas if r.parent_code == district
    }
    assert [a.code for a in ancestors] == ["VN", LAI_CHAU, district]
    async with sessionmaker() as session:
        on_current_day = await AreaRepository(session).subtree(province, on=date(2026, 1, 1))
    assert on_current_day == []
