"""Advertising on the clusters (Lai Châu 001 Điều 3.5: "Luật Quảng cáo"; Điều 7.5: advertising
is content of the clusters; Điều 8.3: its airtime "thực hiện theo quy định của pháp luật về
quảng cáo"): who publishes it, its airtime limit per province and profile, held at approval."""

from typing import Any

from httpx import AsyncClient
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from nguon.areas.sources import AreaRecord
from nguon.dispatch.models import Delivery
from nguon.identity.roles import Role
from tests.bulletins.test_workflow import act, text_bulletin
from tests.conftest import AN_GIANG, MakeEndpoint, MakeUser, communes_of
from tests.rules.test_hours import PROBLEM, every_day


def advert(target: str, times: list[str] | None = None, **fields: Any) -> dict[str, Any]:
    schedule = {"schedule": {"type": "daily", "times": times}} if times else {}
    return text_bulletin(
        target, title="Gạo ST25 giá tốt", category="advertising", **schedule, **fields
    )


async def submitted(client: AsyncClient, author: dict[str, str], body: dict[str, Any]) -> str:
    created = await client.post("/api/v1/bulletins", json=body, headers=author)
    assert created.status_code == 201, created.text
    bulletin_id = str(created.json()["id"])
    assert (await act(client, bulletin_id, "submit", author)).status_code == 200
    return bulletin_id


async def deliveries_of(sessionmaker: async_sessionmaker[AsyncSession], bulletin_id: str) -> int:
    async with sessionmaker() as session:
        query = select(func.count()).where(Delivery.bulletin_id == bulletin_id)
        return await session.scalar(query) or 0


async def test_advertising_limits_are_kept_per_province_and_profile(
    client: AsyncClient, make_user: MakeUser
) -> None:
    """001 Điều 8.3 leaves the airtime to the law on advertising (its Điều 22: 10% of a day's
    airtime), the hub's default; a province's admin keeps its own, per endpoint profile."""
    admin = await make_user("ad.admin", Role.admin, AN_GIANG)
    editor = await make_user("ad.editor", Role.editor, AN_GIANG)
    read = await client.get("/api/v1/rules/advertising", headers=editor)
    assert read.status_code == 200, read.text
    assert {
        row["profile"]: (row["percent_of_day"], row["source"]) for row in read.json()["items"]
    } == {"radio": (10, "default"), "eboard": (10, "default"), "border_gate": (10, "default")}

    change = {"profile": "eboard", "minutes_per_day": 12, "percent_of_day": None}
    refused = await client.put("/api/v1/rules/advertising", json=change, headers=editor)
    assert refused.status_code == 403, refused.text
    assert refused.headers["content-type"] == PROBLEM
    kept = await client.put("/api/v1/rules/advertising", json=change, headers=admin)
    assert kept.status_code == 200, kept.text
    assert kept.json() == {"province": AN_GIANG, "profile": "eboard", "minutes_per_day": 12,
                           "percent_of_day": None, "source": "province"}  # fmt: skip
    read = await client.get(f"/api/v1/rules/advertising?province={AN_GIANG}", headers=editor)
    eboard = next(row for row in read.json()["items"] if row["profile"] == "eboard")
    assert (eboard["minutes_per_day"], eboard["source"]) == (12, "province")

    back = {"profile": "eboard", "minutes_per_day": None, "percent_of_day": None}
    reset = await client.put("/api/v1/rules/advertising", json=back, headers=admin)
    assert (reset.json()["percent_of_day"], reset.json()["source"]) == (10, "default")


async def test_who_publishes_advertising_and_how(
    client: AsyncClient, make_user: MakeUser, areas: list[AreaRecord]
) -> None:
    """001 Điều 7.5 and 8.3: advertising is carried beside public information, through an
    editor: a commune chair does not author it, and it takes neither an urgent rank nor the
    windows-closed postings of important events (002 Điều 10.2)."""
    commune = communes_of(areas, AN_GIANG)[0]
    chair = await make_user("ad.chair", Role.commune_chair, commune)
    editor = await make_user("ad.editor", Role.editor, AN_GIANG)
    publisher = await make_user("ad.publisher", Role.publisher, AN_GIANG)

    by_chair = await client.post("/api/v1/bulletins", json=advert(commune), headers=chair)
    assert by_chair.status_code == 403, by_chair.text
    assert by_chair.headers["content-type"] == PROBLEM
    assert "Commune chairs do not publish advertising" in by_chair.json()["detail"]

    urgent = await client.post(
        "/api/v1/bulletins", json=advert(AN_GIANG, priority="priority"), headers=publisher
    )
    assert urgent.status_code == 422, urgent.text
    assert "never of priority priority" in urgent.json()["detail"]
    any_time = await client.post(
        "/api/v1/bulletins", json=advert(AN_GIANG, outside_windows=True), headers=editor
    )
    assert any_time.status_code == 422, any_time.text
    assert "outside_windows" in any_time.json()["detail"]

    # A bulletin of another category, edited into advertising, meets the same rules.
    created = await client.post("/api/v1/bulletins", json=text_bulletin(commune), headers=chair)
    assert created.status_code == 201, created.text
    edited = await client.patch(
        f"/api/v1/bulletins/{created.json()['id']}",
        json={"category": "advertising"},
        headers=chair,
    )
    assert edited.status_code == 403, edited.text
    assert (await client.post("/api/v1/bulletins", json=advert(AN_GIANG), headers=publisher)
            ).status_code == 201  # fmt: skip

    # A commune's own publisher writes an advertisement; its chair, who approves the
    # commune's own bulletins, does not approve this one: an editor does.
    commune_publisher = await make_user("ad.commune.publisher", Role.publisher, commune)
    local_advert = await submitted(client, commune_publisher, advert(commune))
    by_chair = await act(client, local_advert, "approve", chair)
    assert by_chair.status_code == 403, by_chair.text
    assert "which an editor approves" in by_chair.json()["detail"]
    assert (await act(client, local_advert, "approve", editor)).status_code == 200


async def test_approval_refuses_an_advert_past_the_daily_limit(
    client: AsyncClient,
    make_user: MakeUser,
    make_endpoint: MakeEndpoint,
    areas: list[AreaRecord],
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    """001 Điều 8.3: the province's limit for e-boards (here 1 minute a day) holds on every
    endpoint an advertisement reaches, counting those already on air; the refused approval
    changes nothing, and the publisher can fit the advertisement by playing it less."""
    admin = await make_user("ad.admin", Role.admin, AN_GIANG)
    editor = await make_user("ad.editor", Role.editor, AN_GIANG)
    publisher = await make_user("ad.publisher", Role.publisher, AN_GIANG)
    limit = {"profile": "eboard", "minutes_per_day": 1}
    assert (await client.put("/api/v1/rules/advertising", json=limit, headers=admin)).is_success
    commune = communes_of(areas, AN_GIANG)[0]
    await make_endpoint(
        "AG-BOARD", "display", commune, profile="eboard", windows=every_day("07:00-11:00")
    )

    # A still advertisement counts 30 s a showing: three a day are 1.5 minutes.
    too_often = await submitted(client, publisher, advert(AN_GIANG, ["07:00", "08:00", "09:00"]))
    refused = await act(client, too_often, "approve", editor)
    assert refused.status_code == 409, refused.text
    assert refused.headers["content-type"] == PROBLEM
    problem = refused.json()
    assert "endpoint AG-BOARD" in problem["detail"]
    assert "1.5 minutes of advertising" in problem["detail"]
    assert "limit of 1 minutes" in problem["detail"]
    assert problem["current_status"] == "submitted"
    state = await client.get(f"/api/v1/bulletins/{too_often}", headers=editor)
    assert state.json()["status"] == "submitted"
    assert await deliveries_of(sessionmaker, too_often) == 0

    twice = await submitted(client, publisher, advert(AN_GIANG, ["07:00", "09:00"]))
    approved = await act(client, twice, "approve", editor)
    assert approved.status_code == 200, approved.text
    assert approved.json()["status"] == "published"

    # The minute is used: one more showing by another advertisement does not fit.
    once_more = await submitted(client, publisher, advert(AN_GIANG, ["10:00"]))
    assert (await act(client, once_more, "approve", editor)).status_code == 409
    # Public information is no advertising: it is not held to the limit.
    news = await submitted(client, publisher, text_bulletin(AN_GIANG))
    assert (await act(client, news, "approve", editor)).status_code == 200


async def test_the_default_limit_is_a_share_of_the_days_windows(
    client: AsyncClient, make_user: MakeUser, make_endpoint: MakeEndpoint, areas: list[AreaRecord]
) -> None:
    """001 Điều 8.3 with the law on advertising's 10%: a radio operating 10 minutes a day
    gives at most 1 minute to advertising; an unscheduled advertisement plays once a window."""
    editor = await make_user("ad.editor", Role.editor, AN_GIANG)
    commune = communes_of(areas, AN_GIANG)[0]
    await make_endpoint(
        "AG-RADIO", "radio", commune, windows=every_day("06:00-06:05", "17:00-17:05")
    )
    fits = await submitted(client, editor, advert(commune))  # 2 windows × 30 s
    assert (await act(client, fits, "approve", editor)).status_code == 200
    past = await submitted(client, editor, advert(commune, ["06:01"]))
    refused = await act(client, past, "approve", editor)
    assert refused.status_code == 409, refused.text
    assert "AG-RADIO" in refused.json()["detail"]
