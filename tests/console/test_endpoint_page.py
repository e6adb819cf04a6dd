"""An endpoint's page beyond its commands: the focal person the department calls, the
maintenance and inspections done on it, and its uptime, each from the same service as its API
route and shown to the roles that route admits."""

import re
from datetime import datetime, timedelta
from typing import Any

import pytest
from httpx import AsyncClient
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from nguon.areas.sources import AreaRecord
from nguon.console.web import numbers_in
from nguon.dispatch.slots import LOCAL
from nguon.endpoints.models import Endpoint
from nguon.identity.roles import Role
from nguon.kit.db import utcnow
from tests.conftest import AN_GIANG, MakeEndpoint, MakeUser, communes_of
from tests.console.conftest import SignInAs
from tests.endpoints.test_heartbeat import beat
from tests.incidents.test_auto_open import silence

CODE = "AG-RADIO-01"
PAGE = f"/console/endpoints/{CODE}"
API = f"/api/v1/endpoints/{CODE}"
FOCAL = {"name": "Nguyễn Văn An", "phone": "0296 3852 123", "organisation": "UBND xã Mỹ Hòa"}
WORK = {
    "day": "2026-03-09",
    "kind": "repair",
    "performed_by": "Công ty Viễn thông An Giang",
    "outcome": "Đã thay loa số 2",
    "notes": "Loa số 2 rè từ đợt mưa bão.",
}


@pytest.fixture
async def radio(make_endpoint: MakeEndpoint, areas: list[AreaRecord]) -> dict[str, str]:
    return await make_endpoint(CODE, "radio", communes_of(areas, AN_GIANG)[0])


def maintenance_rows(page: str) -> list[str]:
    return re.findall(r'<tr id="maintenance-\d+">.*?</tr>', page, re.S)


async def focal_person(client: AsyncClient, headers: dict[str, str]) -> Any:
    answer = await client.get(API, headers=headers)
    assert answer.status_code == 200, answer.text
    return answer.json()["focal_person"]


async def test_an_admin_names_the_focal_person_and_names_nobody_again_000_004_dieu_7_4(
    client: AsyncClient, sign_in_as: SignInAs, make_user: MakeUser, radio: dict[str, str]
) -> None:
    """000/004 Điều 7.4: each endpoint has a person the department calls; the console sets the
    same field the API reads, and the change is audited against the endpoint."""
    api = await make_user("focal.api", Role.admin, AN_GIANG)
    token = await sign_in_as("focal.admin", Role.admin, AN_GIANG)
    page = await client.get(PAGE)
    assert "Chưa có người phụ trách thiết bị này." in page.text
    assert 'id="focal-person-form"' in page.text

    named = await client.post(f"{PAGE}/focal-person", data={"csrf_token": token, **FOCAL})
    assert named.status_code == 303, named.text
    page = await client.get(named.headers["location"])
    assert "Nguyễn Văn An" in page.text
    assert 'href="tel:02963852123"' in page.text
    assert await focal_person(client, api) == FOCAL

    cleared = await client.post(
        f"{PAGE}/focal-person", data={"csrf_token": token, **FOCAL, "clear": "1"}
    )
    assert cleared.status_code == 303, cleared.text
    assert "Chưa có người phụ trách thiết bị này." in (await client.get(PAGE)).text
    assert await focal_person(client, api) is None

    audit = await client.get(
        "/api/v1/audit",
        params={"action": "POST /console/endpoints/{code}/focal-person"},
        headers=api,
    )
    assert [(r["target"], r["outcome"]) for r in audit.json()["items"]] == [
        (f"endpoint:{CODE}", "success"),
        (f"endpoint:{CODE}", "success"),
    ]


@pytest.mark.parametrize(
    ("typed", "field", "said"),
    [
        ({"name": ""}, "focal-name", "name: không được để trống"),
        ({"organisation": "x" * 201}, "focal-organisation", "organisation: tối đa 200 ký tự"),
    ],
)
async def test_a_refused_focal_person_is_shown_in_vietnamese_and_changes_nothing(
    client: AsyncClient,
    sign_in_as: SignInAs,
    make_user: MakeUser,
    radio: dict[str, str],
    typed: dict[str, str],
    field: str,
    said: str,
) -> None:
    api = await make_user("refused.api", Role.admin, AN_GIANG)
    token = await sign_in_as("refused.admin", Role.admin, AN_GIANG)
    named = await client.post(f"{PAGE}/focal-person", data={"csrf_token": token, **FOCAL})
    assert named.status_code == 303, named.text

    refused = await client.post(
        f"{PAGE}/focal-person", data={"csrf_token": token, **FOCAL, **typed}
    )
    assert refused.status_code == 422
    assert 'id="focal-person-error"' in refused.text
    assert re.search(rf'id="{field}"[^>]*aria-invalid="true"', refused.text)
    assert f"1 trường không hợp lệ: {said}" in refused.text
    for value in typed.values():
        assert f'value="{value}"' in refused.text  # what was typed, kept
    assert 'id="command-error"' not in refused.text  # the refusal is the form's, not a command's
    assert await focal_person(client, api) == FOCAL


async def test_an_admin_records_maintenance_listed_on_the_page_and_by_the_api_000_004_dieu_6_8(
    client: AsyncClient, sign_in_as: SignInAs, make_user: MakeUser, radio: dict[str, str]
) -> None:
    """000/004 Điều 4.1c, 6.8; 001 Điều 11.1a: maintenance and inspections are recorded with
    when, what, by whom and with what outcome; the latest come first."""
    api = await make_user("work.api", Role.viewer, AN_GIANG)
    token = await sign_in_as("work.admin", Role.admin, AN_GIANG)
    page = await client.get(PAGE)
    assert "Chưa ghi nhận lần bảo trì, kiểm tra nào của thiết bị này." in page.text
    inspection = {**WORK, "day": "2026-03-02", "kind": "inspection", "outcome": "Loa số 2 rè"}
    for work in (inspection, WORK):
        recorded = await client.post(f"{PAGE}/maintenance", data={"csrf_token": token, **work})
        assert recorded.status_code == 303, recorded.text

    rows = maintenance_rows((await client.get(PAGE)).text)
    assert len(rows) == 2
    for shown in ("09/03/2026", "Sửa chữa", "Đã thay loa số 2", "Loa số 2 rè từ đợt mưa bão."):
        assert shown in rows[0]
    assert "user:work.admin" in rows[0]
    for shown in ("02/03/2026", "Kiểm tra", "Loa số 2 rè"):
        assert shown in rows[1]
    listed = (await client.get(f"{API}/maintenance", headers=api)).json()["items"]
    assert [(r["day"], r["kind"], r["outcome"], r["recorded_by"]) for r in listed] == [
        ("2026-03-09", "repair", "Đã thay loa số 2", "user:work.admin"),
        ("2026-03-02", "inspection", "Loa số 2 rè", "user:work.admin"),
    ]


async def test_work_dated_after_today_is_refused_in_vietnamese_and_not_stored(
    client: AsyncClient, sign_in_as: SignInAs, make_user: MakeUser, radio: dict[str, str]
) -> None:
    """000/004 Điều 6.8: a record says what was done, so not a day to come."""
    api = await make_user("ahead.api", Role.admin, AN_GIANG)
    token = await sign_in_as("ahead.admin", Role.admin, AN_GIANG)
    today = datetime.now(LOCAL).date()
    tomorrow = (today + timedelta(days=1)).isoformat()
    refused = await client.post(
        f"{PAGE}/maintenance", data={"csrf_token": token, **WORK, "day": tomorrow}
    )
    assert refused.status_code == 422
    assert 'id="maintenance-error"' in refused.text
    assert (
        f"Ngày {tomorrow} ở sau hôm nay ({today.isoformat()}): chỉ ghi nhận công việc đã làm xong."
        in refused.text
    )
    assert f'value="{tomorrow}"' in refused.text
    assert "Đã thay loa số 2" in refused.text  # what was typed, kept
    assert maintenance_rows(refused.text) == []
    listed = await client.get(f"{API}/maintenance", headers=api)
    assert listed.json()["items"] == []


async def test_the_uptime_on_the_page_is_the_statistics_uptime_of_the_same_days(
    client: AsyncClient,
    sessionmaker: async_sessionmaker[AsyncSession],
    sign_in_as: SignInAs,
    make_user: MakeUser,
    radio: dict[str, str],
) -> None:
    """000/004 Điều 6.10: the department sees how long each endpoint operated, over the last 7
    and 30 local days, as `GET /api/v1/stats/uptime` counts it."""
    api = await make_user("uptime.api", Role.viewer, AN_GIANG)
    # Registered ten hours ago, two minutes online: figures far from any rounding edge, so that
    # the seconds between the two reads do not change them.
    async with sessionmaker() as session:
        await session.execute(
            update(Endpoint)
            .where(Endpoint.code == CODE)
            .values(created_at=utcnow() - timedelta(hours=10))
        )
        await session.commit()
    await beat(client, radio)
    await silence(sessionmaker, CODE, 120)
    await beat(client, radio)
    await sign_in_as("uptime.editor", Role.editor, AN_GIANG)
    page = (await client.get(PAGE)).text
    today = datetime.now(LOCAL).date()
    shown = numbers_in("vi")
    for days in (7, 30):
        first = today - timedelta(days=days - 1)
        answer = await client.get(
            "/api/v1/stats/uptime",
            params={"from": first.isoformat(), "to": today.isoformat()},
            headers=api,
        )
        assert answer.status_code == 200, answer.text
        [row] = [row for row in answer.json()["endpoints"] if row["code"] == CODE]
        assert row["seconds_online"] >= 120
        match = re.search(rf'<tr id="uptime-{days}">.*?</tr>', page, re.S)
        assert match, f"no {days}-day row"
        shown_row = match.group(0)
        assert f"{first.strftime('%d/%m/%Y')} – {today.strftime('%d/%m/%Y')}" in shown_row
        assert shown["percent"](row["uptime"]) in shown_row
        hours = [row["seconds_online"] / 3600, row["seconds_counted"] / 3600]
        assert " / ".join(shown["number"](h) for h in hours) in shown_row


async def test_a_viewer_reads_the_records_without_the_forms_and_cannot_post_them(
    client: AsyncClient,
    sign_in_as: SignInAs,
    make_user: MakeUser,
    radio: dict[str, str],
    areas: list[AreaRecord],
) -> None:
    """The API's own guards: viewers read focal person, maintenance and uptime; only admins
    change them. A commune's chair reads the page of the commune's radio, without the
    maintenance and uptime its role may not read through the API."""
    admin = await make_user("records.api", Role.admin, AN_GIANG)
    recorded = await client.post(
        f"{API}/maintenance",
        json={k: v for k, v in WORK.items() if k != "notes"},
        headers=admin,
    )
    assert recorded.status_code == 201, recorded.text
    changed = await client.patch(API, json={"focal_person": FOCAL}, headers=admin)
    assert changed.status_code == 200, changed.text

    token = await sign_in_as("records.viewer", Role.viewer, AN_GIANG)
    page = await client.get(PAGE)
    assert page.status_code == 200
    assert "Nguyễn Văn An" in page.text
    assert len(maintenance_rows(page.text)) == 1
    assert 'id="uptime-7"' in page.text
    for form in ("focal-person-form", "maintenance-form"):
        assert f'id="{form}"' not in page.text
    for path, data in (("focal-person", {**FOCAL, "clear": "1"}), ("maintenance", WORK)):
        refused = await client.post(f"{PAGE}/{path}", data={"csrf_token": token, **data})
        assert refused.status_code == 403, path
    assert await focal_person(client, admin) == FOCAL
    listed = await client.get(f"{API}/maintenance", headers=admin)
    assert len(listed.json()["items"]) == 1

    await sign_in_as("records.chair", Role.commune_chair, communes_of(areas, AN_GIANG)[0])
    page = await client.get(PAGE)
    assert page.status_code == 200
    assert "Nguyễn Văn An" in page.text
    assert 'id="maintenance"' not in page.text
    assert 'id="uptime"' not in page.text
