"""The department's pages: the endpoints board, accounts and keys, the audit log, statistics."""

import re
from datetime import timedelta

from httpx import AsyncClient, Response
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from nguon.areas.sources import AreaRecord
from nguon.audit.checks import AuditChecks
from nguon.audit.models import AuditRecord
from nguon.audit.repository import AuditCheckRepository
from nguon.console.admin import AUDIT_PAGE
from nguon.identity.roles import Role
from nguon.incidents.watch import check_audit_when_due
from tests.bulletins.test_workflow import text_bulletin
from tests.conftest import (
    AN_GIANG,
    LAI_CHAU,
    PASSWORD,
    MakeEndpoint,
    MakeUser,
    communes_of,
    count_users,
    districts_of,
)
from tests.console.conftest import SignInAs, sign_in
from tests.dispatch.test_queue import publish
from tests.endpoints.test_heartbeat import beat

NEW_PASSWORD = "another-long-secret"


def row(page: str, row_id: str) -> str:
    found = re.search(rf'<tr id="{re.escape(row_id)}"[^>]*>(.*?)</tr>', page, re.S)
    assert found, f"no row {row_id}"
    return found.group(0)


async def new_user(
    client: AsyncClient, token: str, username: str, area: str = AN_GIANG, **fields: str
) -> Response:
    """The new-account form, sent as a browser sends it."""
    form = {"role": "editor", "password": NEW_PASSWORD, **fields}
    return await client.post(
        "/console/users", data={"csrf_token": token, "username": username, "area": area, **form}
    )


async def test_the_board_tells_online_stale_and_offline_endpoints_in_words(
    client: AsyncClient,
    sign_in_as: SignInAs,
    make_user: MakeUser,
    make_endpoint: MakeEndpoint,
    areas: list[AreaRecord],
) -> None:
    commune = communes_of(areas, AN_GIANG)[0]
    online = await make_endpoint("AG-ON", "radio", commune)
    stale = await make_endpoint("AG-STALE", "radio", commune)
    await make_endpoint("AG-OFF", "radio", commune)
    admin = await make_user("board.api", Role.admin, AN_GIANG)
    current = (await client.get("/api/v1/endpoints/AG-ON", headers=admin)).json()
    version = current["playlist_version"]
    await beat(client, online, playlist_etag=f'"{version}.9f86d081884c7d65"')
    await beat(client, stale)  # holds none of the hub's playlists

    await sign_in_as("board.viewer", Role.viewer, AN_GIANG)
    page = await client.get("/console/endpoints")
    assert page.status_code == 200
    assert '<table id="endpoint-board"' in page.text
    assert 'hx-get="/console/endpoints/board" hx-trigger="every 5s"' in page.text
    shown_online = row(page.text, "endpoint-AG-ON")
    assert "trực tuyến" in shown_online
    assert f"<td>{version}</td>" in shown_online
    assert "chưa cập nhật" in row(page.text, "endpoint-AG-STALE")
    offline = row(page.text, "endpoint-AG-OFF")
    assert "ngoại tuyến" in offline
    assert "chưa bao giờ" in offline  # no heartbeat ever

    api = (await client.get("/api/v1/endpoints", headers=admin)).json()["items"]
    by_code = {item["code"]: item for item in api}
    assert by_code["AG-ON"]["online"]
    assert not by_code["AG-ON"]["stale"]
    assert by_code["AG-STALE"]["stale"]
    assert not by_code["AG-OFF"]["online"]

    fragment = await client.get("/console/endpoints/board", headers={"HX-Request": "true"})
    assert fragment.status_code == 200
    assert "<html" not in fragment.text
    assert 'id="endpoint-board"' in fragment.text
    assert "trực tuyến" in row(fragment.text, "endpoint-AG-ON")


async def test_an_account_made_with_the_form_can_sign_in(
    client: AsyncClient, sign_in_as: SignInAs, areas: list[AreaRecord]
) -> None:
    commune = communes_of(areas, AN_GIANG)[0]
    token = await sign_in_as("users.admin", Role.admin, AN_GIANG)
    page = await client.get("/console/users")
    assert page.status_code == 200
    assert '<form method="post" action="/console/users" id="new-user"' in page.text
    assert "users.admin" in row(page.text, "user-users.admin")

    made = await new_user(
        client, token, "xa.moi", commune, full_name="Nguyễn Văn Mới", role="commune_chair"
    )
    assert made.status_code == 303
    listed = await client.get("/console/users")
    shown = row(listed.text, "user-xa.moi")
    assert "Nguyễn Văn Mới" in shown
    assert "Chủ tịch UBND xã" in shown

    assert (await sign_in(client, "xa.moi", NEW_PASSWORD)).status_code == 303
    home = await client.get("/console/")
    assert "Chủ tịch UBND xã" in home.text


async def test_a_taken_username_is_refused_in_vietnamese_keeping_what_was_typed(
    client: AsyncClient,
    sign_in_as: SignInAs,
    make_user: MakeUser,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    await make_user("taken.name", Role.publisher, AN_GIANG)
    token = await sign_in_as("dup.admin", Role.admin, AN_GIANG)
    before = await count_users(sessionmaker)
    refused = await new_user(client, token, "taken.name", full_name="Trần Thị Trùng")
    assert refused.status_code == 409
    assert "Tên đăng nhập &#39;taken.name&#39; đã có người dùng." in refused.text
    assert 'id="new-user-error"' in refused.text
    assert 'value="taken.name"' in refused.text
    assert 'value="Trần Thị Trùng"' in refused.text
    assert '<option value="editor" selected>' in refused.text
    assert NEW_PASSWORD not in refused.text
    assert await count_users(sessionmaker) == before

    unchosen = await new_user(client, token, "chua.chon", role="")
    assert unchosen.status_code == 422
    assert "Hãy chọn một vai trò: quản trị, thẩm định" in unchosen.text
    assert 'value="chua.chon"' in unchosen.text
    short = await new_user(client, token, "ngan.qua", password="short")
    assert short.status_code == 422
    assert "Mật khẩu phải có ít nhất 10 ký tự." in short.text
    assert await count_users(sessionmaker) == before


async def test_a_new_key_is_shown_once_works_and_can_be_revoked(
    client: AsyncClient, sign_in_as: SignInAs, make_user: MakeUser
) -> None:
    admin = await make_user("keys.api", Role.admin, AN_GIANG)
    token = await sign_in_as("keys.admin", Role.admin, AN_GIANG)
    made = await client.post(
        "/console/keys",
        data={"csrf_token": token, "name": "he-thong-trung-uong", "role": "central", "area": "91"},
    )
    assert made.status_code == 201
    assert made.headers["cache-control"] == "no-store"
    secret = re.search(r'<output id="new-key-secret"[^>]*>([^<]+)</output>', made.text)
    assert secret
    key = secret.group(1)
    assert made.text.count(key) == 1

    works = await client.get("/api/v1/stats", headers={"X-Api-Key": key})
    assert works.status_code == 200

    listed = await client.get("/console/users")
    assert "he-thong-trung-uong" in listed.text
    assert key not in listed.text
    stored = (await client.get("/api/v1/keys", headers=admin)).json()["items"]
    key_id = next(item["id"] for item in stored if item["name"] == "he-thong-trung-uong")
    prefix = row(listed.text, f"key-{key_id}").split("<code>")[1].split("<")[0]
    assert prefix in key

    revoked = await client.post(f"/console/keys/{key_id}/revoke", data={"csrf_token": token})
    assert revoked.status_code == 303
    after = await client.get("/console/users")
    assert "Đã thu hồi" in row(after.text, f"key-{key_id}")
    assert (await client.get("/api/v1/stats", headers={"X-Api-Key": key})).status_code == 401

    unnamed = await client.post(
        "/console/keys", data={"csrf_token": token, "name": " ", "role": "central", "area": "91"}
    )
    assert unnamed.status_code == 422
    assert 'id="new-key-error"' in unnamed.text
    assert "Hãy đặt tên khóa" in unnamed.text


async def test_audit_filters_narrow_the_log_and_the_chain_verifies(
    client: AsyncClient, sign_in_as: SignInAs
) -> None:
    token = await sign_in_as("audit.admin", Role.admin, AN_GIANG)
    await client.post(
        "/console/keys",
        data={"csrf_token": token, "name": "kiem-tra", "role": "integration", "area": "91"},
    )
    await client.post("/console/users", data={"csrf_token": token, "username": "x"})

    everything = await client.get("/console/audit")
    assert everything.status_code == 200
    assert '<form method="get" action="/console/audit" id="audit-filter"' in everything.text
    assert "POST /console/sign-in" in everything.text
    assert "POST /console/keys" in everything.text

    keys_only = await client.get("/console/audit", params={"action": "/console/keys"})
    assert "POST /console/keys" in keys_only.text
    assert "POST /console/sign-in" not in keys_only.text
    assert 'value="/console/keys"' in keys_only.text

    refused = await client.get("/console/audit", params={"outcome": "rejected"})
    assert "POST /console/users" in refused.text
    assert "POST /console/keys" not in refused.text
    assert '<option value="rejected" selected>' in refused.text

    nobody = await client.get("/console/audit", params={"actor": "user:nobody"})
    assert "Không có bản ghi nào phù hợp." in nobody.text

    bad_day = await client.get("/console/audit", params={"since": "31/12/2026"})
    assert bad_day.status_code == 422
    assert 'id="audit-filter-error"' in bad_day.text

    verified = await client.get("/console/audit/verify")
    assert verified.status_code == 200
    assert 'id="verify-ok"' in verified.text
    assert "Chuỗi nhật ký nguyên vẹn" in verified.text
    assert "Kiểm tra chuỗi" in verified.text


async def test_statistics_show_the_numbers_of_the_api(
    client: AsyncClient,
    sign_in_as: SignInAs,
    make_user: MakeUser,
    make_endpoint: MakeEndpoint,
    areas: list[AreaRecord],
) -> None:
    commune = communes_of(areas, AN_GIANG)[0]
    await make_endpoint("AG-STATS", "radio", commune)
    publisher = await make_user("stats.pub", Role.publisher, AN_GIANG)
    editor = await make_user("stats.ed", Role.editor, AN_GIANG)
    await publish(client, publisher, editor, text_bulletin(AN_GIANG))
    await publish(
        client, publisher, editor, text_bulletin(commune, category="disaster_fire_epidemic")
    )
    await publish(client, publisher, editor, text_bulletin(commune))
    report = (await client.get("/api/v1/stats", headers=editor)).json()

    await sign_in_as("stats.viewer", Role.viewer, AN_GIANG)
    page = await client.get("/console/statistics")
    assert page.status_code == 200
    assert f'<dd id="total-bulletins">{report["bulletins"]["total"]}</dd>' in page.text
    assert report["bulletins"]["total"] == 3
    category = re.search(r'<table id="chart-category-table">.*?</table>', page.text, re.S)
    assert category
    counts = re.findall(r'<td class="number">(\d+)</td>', category.group(0))
    assert [int(count) for count in counts] == list(report["bulletins"]["by_category"].values())
    played = report["broadcast"]["communes"][0]
    assert played["code"] == commune
    shown = row(page.text, f"commune-{commune}")
    numbers = re.findall(r'<td class="number">([^<]+)</td>', shown)
    assert numbers[:4] == [
        str(played["endpoints"]),
        f"{played['played_minutes']:g}",
        f"{played['advertising_minutes']:g}",  # apart from public information (001 Điều 8.3)
        f"{played['required_minutes']:g}",
    ]
    assert '<svg id="chart-category" role="img" aria-label="Tin theo lĩnh vực"' in page.text
    assert 'id="chart-level"' in page.text
    assert 'id="chart-communes"' in page.text
    assert "<figcaption" in page.text

    earlier = await client.get("/console/statistics", params={"from": "2020-01-01", "to": ""})
    assert earlier.status_code == 422  # more than 366 days: the service's own refusal
    assert 'id="statistics-error"' in earlier.text
    assert 'value="2020-01-01"' in earlier.text
    client.cookies.set("nguon_lang", "en")
    english = await client.get("/console/statistics")
    client.cookies.delete("nguon_lang")
    assert '<svg id="chart-category" role="img" aria-label="Bulletins by category"' in english.text
    one_day = await client.get(
        "/console/statistics", params={"from": "2020-01-01", "to": "2020-01-01"}
    )
    assert '<dd id="total-bulletins">0</dd>' in one_day.text


async def test_other_roles_are_refused_the_admin_pages_as_by_the_api(
    client: AsyncClient, sign_in_as: SignInAs, make_user: MakeUser
) -> None:
    publisher = await make_user("pub.api", Role.publisher, AN_GIANG)
    for path in ("/api/v1/users", "/api/v1/audit", "/api/v1/endpoints", "/api/v1/stats"):
        assert (await client.get(path, headers=publisher)).status_code == 403
    await sign_in_as("pub.console", Role.publisher, AN_GIANG)
    for path in ("/console/users", "/console/audit", "/console/endpoints", "/console/statistics"):
        refused = await client.get(path)
        assert refused.status_code == 403, path
        assert "việc này cần vai trò" in refused.text

    token = await sign_in_as("ed.console", Role.editor, AN_GIANG)
    assert (await client.get("/console/endpoints")).status_code == 200
    assert (await client.get("/console/statistics")).status_code == 200
    assert (await client.get("/console/users")).status_code == 403
    sneaked = await client.post(
        "/console/keys",
        data={"csrf_token": token, "name": "lén", "role": "central", "area": AN_GIANG},
    )
    assert sneaked.status_code == 403


async def test_a_district_admin_sees_only_the_district(
    client: AsyncClient,
    sign_in_as: SignInAs,
    make_user: MakeUser,
    make_endpoint: MakeEndpoint,
    areas: list[AreaRecord],
) -> None:
    district = districts_of(areas, LAI_CHAU)[0]
    await make_endpoint("LC-IN", "radio", communes_of(areas, district)[0])
    await make_endpoint("AG-OUT", "radio", communes_of(areas, AN_GIANG)[0])
    await make_user("province.person", Role.editor, AN_GIANG)
    token = await sign_in_as("district.admin", Role.admin, district)

    board = await client.get("/console/endpoints")
    assert "endpoint-LC-IN" in board.text
    assert "AG-OUT" not in board.text
    users = await client.get("/console/users")
    assert "district.admin" in users.text
    assert "province.person" not in users.text

    outside = await new_user(client, token, "ngoai.vung")
    assert outside.status_code == 403
    assert "không được thao tác trên" in outside.text
    assert 'value="ngoai.vung"' in outside.text

    verify = await client.get("/console/audit/verify")
    assert verify.status_code == 403
    assert 'id="verify-error"' in verify.text
    stats = await client.get("/console/statistics", params={"area": AN_GIANG})
    assert stats.status_code == 403
    assert PASSWORD not in stats.text


async def test_the_audit_log_pages_on_and_a_broken_chain_says_where(
    client: AsyncClient,
    sign_in_as: SignInAs,
    make_user: MakeUser,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    admin = await make_user("paging.api", Role.admin, AN_GIANG)
    for _ in range(AUDIT_PAGE + 5):
        refused = await client.post("/api/v1/keys", json={"name": "x"}, headers=admin)
        assert refused.status_code == 422
    await sign_in_as("paging.admin", Role.admin, AN_GIANG)
    first = await client.get("/console/audit", params={"outcome": "rejected"})
    shown = re.findall(r'<tr>\s*<th scope="row">(\d+)</th>', first.text)
    assert len(shown) == AUDIT_PAGE
    assert shown == sorted(shown, key=int, reverse=True)  # newest first
    older = re.search(r'<a href="(/console/audit\?[^"]+)" id="audit-older"', first.text)
    assert older
    assert "outcome=rejected" in older.group(1)
    rest = await client.get(older.group(1).replace("&amp;", "&"))
    rest_shown = re.findall(r'<tr>\s*<th scope="row">(\d+)</th>', rest.text)
    assert len(rest_shown) == 5
    assert int(rest_shown[0]) < int(shown[-1])
    assert 'id="audit-older"' not in rest.text

    async with sessionmaker() as session:
        await session.execute(
            update(AuditRecord).where(AuditRecord.id == int(shown[-1])).values(actor="user:x")
        )
        await session.commit()
    broken = await client.get("/console/audit/verify")
    assert broken.status_code == 200
    assert "Chuỗi nhật ký bị đứt" in broken.text
    assert f"Bản ghi #{shown[-1]}: nội dung không khớp với mã băm: đã bị sửa" in broken.text


async def test_the_audit_page_says_when_the_chain_was_last_checked(
    client: AsyncClient, sign_in_as: SignInAs, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    """002 Điều 14.8: the administrator sees, beside the log, whether the periodic check runs
    and what it found."""
    await sign_in_as("check.page", Role.admin, AN_GIANG)
    before = await client.get("/console/audit")
    assert "Chưa được kiểm tra" in before.text
    await check_audit_when_due(sessionmaker, AuditChecks(sessionmaker, timedelta(hours=1)))
    async with sessionmaker() as session:
        check = await AuditCheckRepository(session).latest()
    assert check is not None
    after = await client.get("/console/audit")
    assert 'id="last-check"' in after.text
    assert f"nguyên vẹn, {check.records} bản ghi" in after.text
