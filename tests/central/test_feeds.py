"""CAP messages shaped as real feeds send them (tests/fixtures/cap/): what the hub puts on air
from each, what it ends, and what it refuses rather than answer "accepted" for nothing."""

from typing import Any

from httpx import AsyncClient
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from nguon.audit.models import AuditRecord
from nguon.dispatch.models import Delivery
from tests.central.conftest import counts, nothing_on_air, playlist, refused
from tests.central.feeds import feed, to_now
from tests.central.simulator import CentralSystem

DEVICES = ("radio", "board", "far")


async def refusals_audited(sessionmaker: async_sessionmaker[AsyncSession]) -> list[int | None]:
    async with sessionmaker() as session:
        statuses = await session.scalars(
            select(AuditRecord.status).where(
                AuditRecord.action == "POST /api/v1/central/alerts", AuditRecord.status >= 400
            )
        )
        return list(statuses.all())


async def deliveries(sessionmaker: async_sessionmaker[AsyncSession]) -> int:
    async with sessionmaker() as session:
        return int(await session.scalar(select(func.count()).select_from(Delivery)) or 0)


async def test_an_area_named_only_in_words_is_refused_as_reaching_no_endpoint(
    client: AsyncClient, hub: dict[str, Any], sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    central: CentralSystem = hub["central"]
    body = feed("areadesc_only_an_giang.xml", to_now())

    detail = await refused(await central.post(body, central.headers(body)), 422, "no-endpoint")

    assert "Các xã ven sông Hậu, tỉnh An Giang" in detail
    for what_the_hub_reads in ("VN-ADMIN", "polygons", "circles"):
        assert what_the_hub_reads in detail
    assert await counts(sessionmaker) == (0, 0)
    assert await deliveries(sessionmaker) == 0
    await nothing_on_air(client, hub)
    assert await refusals_audited(sessionmaker) == [422]


async def test_a_zone_warning_in_foreign_codes_only_reaches_no_endpoint(
    hub: dict[str, Any], sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    central: CentralSystem = hub["central"]
    body = feed("nws_winter_storm_warning.xml", to_now())

    # SAME and UGC codes are not the hub's: they are not read, not refused as unknown places.
    detail = await refused(await central.post(body, central.headers(body)), 422, "no-endpoint")

    assert "Carlton/South St. Louis; Southern Lake/North Shore" in detail
    assert await counts(sessionmaker) == (0, 0)


async def test_foreign_geocodes_beside_the_hubs_own_are_ignored(
    client: AsyncClient, hub: dict[str, Any]
) -> None:
    central: CentralSystem = hub["central"]
    body = feed("dwd_style_thunderstorm.xml", to_now())

    sent = await central.post(body, central.headers(body))

    assert sent.status_code == 201, sent.text
    [bulletin_id] = sent.json()["alert"]["bulletins"]
    for device in DEVICES:
        assert [i["bulletin_id"] for i in await playlist(client, hub[device])] == [bulletin_id]


async def test_a_tsunami_centres_cancel_that_expires_as_sent_ends_the_warning(
    client: AsyncClient, hub: dict[str, Any]
) -> None:
    central: CentralSystem = hub["central"]
    moved = to_now()
    warning = feed("tsunami_warning_an_giang.xml", moved)
    on_air = await central.post(warning, central.headers(warning))
    assert on_air.status_code == 201, on_air.text
    [bulletin_id] = on_air.json()["alert"]["bulletins"]
    assert [i["bulletin_id"] for i in await playlist(client, hub["radio"])] == [bulletin_id]

    cancel = feed("tsunami_cancel_an_giang.xml", moved)
    ended = await central.post(cancel, central.headers(cancel))

    assert ended.status_code == 201, ended.text
    assert ended.json()["ended"] == [bulletin_id]
    await nothing_on_air(client, hub)
