"""The review pages: the queue, a bulletin with its media and actions, its deliveries, and the
emergencies on air, all through the same services and guards as the API."""

import re
from typing import Any

import pytest
from httpx import AsyncClient, Response

from nguon.areas.sources import AreaRecord
from nguon.identity.roles import Role
from tests.bulletins.test_workflow import act, text_bulletin
from tests.conftest import AN_GIANG, LAI_CHAU, MakeEndpoint, MakeUser, communes_of
from tests.console.conftest import SignInAs
from tests.dispatch.test_emergencies import beat, fetch_playlist
from tests.media.test_upload import png_bytes


@pytest.fixture
async def newsroom(
    client: AsyncClient, make_user: MakeUser, areas: list[AreaRecord]
) -> dict[str, Any]:
    """A province publisher who writes bulletins for a commune of An Giang."""
    return {
        "commune": communes_of(areas, AN_GIANG)[0],
        "publisher": await make_user("review.publisher", Role.publisher, AN_GIANG),
    }


async def submitted(client: AsyncClient, newsroom: dict[str, Any], **overrides: Any) -> str:
    """A bulletin written and sent for approval through the JSON API."""
    body = text_bulletin(newsroom["commune"], **overrides)
    created = await client.post("/api/v1/bulletins", json=body, headers=newsroom["publisher"])
    assert created.status_code == 201, created.text
    bulletin_id = str(created.json()["id"])
    sent = await act(client, bulletin_id, "submit", newsroom["publisher"])
    assert sent.status_code == 200, sent.text
    return bulletin_id


async def status_of(client: AsyncClient, bulletin_id: str, headers: dict[str, str]) -> str:
    answer = await client.get(f"/api/v1/bulletins/{bulletin_id}", headers=headers)
    assert answer.status_code == 200, answer.text
    return str(answer.json()["status"])


async def press(
    client: AsyncClient, bulletin_id: str, action: str, token: str, **fields: str
) -> Response:
    return await client.post(
        f"/console/bulletins/{bulletin_id}/{action}", data={"csrf_token": token, **fields}
    )


def button(page: str, id_: str) -> str | None:
    """The text of the button with this id, if the page has one."""
    found = re.search(rf'<button[^>]*id="{id_}"[^>]*>([^<]*)</button>', page)
    return found.group(1).strip() if found else None


async def test_an_editor_finds_a_submitted_bulletin_in_the_queue_and_approves_it(
    client: AsyncClient, newsroom: dict[str, Any], sign_in_as: SignInAs
) -> None:
    bulletin_id = await submitted(client, newsroom)
    token = await sign_in_as("review.editor", Role.editor, AN_GIANG)

    queue = await client.get("/console/review")
    assert queue.status_code == 200
    assert 'id="review-submitted"' in queue.text
    assert f'href="/console/bulletins/{bulletin_id}"' in queue.text
    assert "Thông báo lịch tiêm chủng" in queue.text
    assert "Tin chờ thẩm định" not in queue.text  # editors do not appraise

    page = await client.get(f"/console/bulletins/{bulletin_id}")
    assert page.status_code == 200
    assert "Đã gửi, chờ duyệt" in page.text
    assert "Bản tin ký tự" in page.text
    assert "Tiếp cận thông tin, dân chủ ở cơ sở" in page.text
    assert "Bản tin thông thường" in page.text
    assert newsroom["commune"] in page.text
    assert "Trạm y tế xã tổ chức tiêm chủng" in page.text
    assert (button(page.text, "approve"), button(page.text, "reject")) == ("Duyệt", "Từ chối")
    assert button(page.text, "appraise") is None
    assert button(page.text, "revoke") is None

    approved = await press(client, bulletin_id, "approve", token)
    assert approved.status_code == 303
    assert approved.headers["location"] == f"/console/bulletins/{bulletin_id}"
    assert await status_of(client, bulletin_id, newsroom["publisher"]) == "published"
    page = await client.get(f"/console/bulletins/{bulletin_id}")
    assert "Đã phát hành, đang phát" in page.text
    assert "Phiên bản 1 được user:review.editor duyệt lúc" in page.text
    assert button(page.text, "approve") is None
    assert button(page.text, "revoke") == "Thu hồi"
    queue = await client.get("/console/review")
    assert "Không có tin nào đang chờ." in queue.text

    await client.post("/console/language", data={"language": "en", "csrf_token": token})
    page = await client.get(f"/console/bulletins/{bulletin_id}")
    assert "Published, on air" in page.text
    assert button(page.text, "revoke") == "Revoke"


async def test_a_rejection_needs_a_reason_and_shows_it(
    client: AsyncClient, newsroom: dict[str, Any], sign_in_as: SignInAs
) -> None:
    bulletin_id = await submitted(client, newsroom)
    token = await sign_in_as("review.rejecter", Role.editor, AN_GIANG)

    for typed in ("", "ab"):
        refused = await press(client, bulletin_id, "reject", token, reason=typed)
        assert refused.status_code == 422
        assert "Lý do từ chối phải có ít nhất 3 ký tự" in refused.text
        assert 'aria-describedby="reject-error"' in refused.text
        assert 'name="reason" rows="3" maxlength="1000" required' in refused.text
        assert f">{typed}</textarea>" in refused.text
    assert await status_of(client, bulletin_id, newsroom["publisher"]) == "submitted"

    reason = "Thiếu địa điểm tiêm chủng."
    rejected = await press(client, bulletin_id, "reject", token, reason=reason)
    assert rejected.status_code == 303
    assert await status_of(client, bulletin_id, newsroom["publisher"]) == "rejected"
    page = await client.get(f"/console/bulletins/{bulletin_id}")
    assert "Bị từ chối" in page.text
    assert "Lý do từ chối" in page.text
    assert reason in page.text
    assert button(page.text, "reject") is None


async def test_an_appraiser_appraises_what_the_editor_may_not_approve_yet(
    client: AsyncClient, newsroom: dict[str, Any], sign_in_as: SignInAs
) -> None:
    bulletin_id = await submitted(
        client, newsroom, sensitive=True, category="foreign_affairs_border"
    )
    editor_token = await sign_in_as("review.early", Role.editor, AN_GIANG)
    too_early = await press(client, bulletin_id, "approve", editor_token)
    assert too_early.status_code == 409
    assert "phải được thẩm định trước khi duyệt" in too_early.text
    assert 'id="approve-error"' in too_early.text

    token = await sign_in_as("review.appraiser", Role.appraiser, AN_GIANG)
    queue = await client.get("/console/review")
    assert 'id="review-appraise"' in queue.text
    assert 'id="review-submitted"' not in queue.text  # appraisers do not decide
    assert f'href="/console/bulletins/{bulletin_id}"' in queue.text
    page = await client.get(f"/console/bulletins/{bulletin_id}")
    assert button(page.text, "appraise") == "Thẩm định"
    assert button(page.text, "approve") is None
    appraised = await press(client, bulletin_id, "appraise", token, reason="Nội dung phù hợp.")
    assert appraised.status_code == 303
    assert await status_of(client, bulletin_id, newsroom["publisher"]) == "appraised"
    page = await client.get(f"/console/bulletins/{bulletin_id}")
    assert "Đã thẩm định, chờ duyệt" in page.text
    assert "Nội dung phù hợp." in page.text
    assert "Tin chờ thẩm định" in (await client.get("/console/review")).text
    assert "Không có tin nào đang chờ." in (await client.get("/console/review")).text
    again = await press(client, bulletin_id, "appraise", token)
    assert again.status_code == 409
    assert "tin đang ở trạng thái đã thẩm định" in again.text

    editor_token = await sign_in_as("review.later", Role.editor, AN_GIANG)
    assert (await press(client, bulletin_id, "approve", editor_token)).status_code == 303
    assert await status_of(client, bulletin_id, newsroom["publisher"]) == "published"


async def test_an_editor_revokes_a_bulletin_on_air_with_a_reason(
    client: AsyncClient, newsroom: dict[str, Any], sign_in_as: SignInAs
) -> None:
    bulletin_id = await submitted(client, newsroom)
    token = await sign_in_as("review.revoker", Role.editor, AN_GIANG)
    assert (await press(client, bulletin_id, "approve", token)).status_code == 303

    refused = await press(client, bulletin_id, "revoke", token, reason="")
    assert refused.status_code == 422
    assert "Lý do thu hồi phải có ít nhất 3 ký tự" in refused.text
    assert 'id="revoke-error"' in refused.text
    assert await status_of(client, bulletin_id, newsroom["publisher"]) == "published"

    revoked = await press(client, bulletin_id, "revoke", token, reason="Thông tin đã cũ.")
    assert revoked.status_code == 303
    assert await status_of(client, bulletin_id, newsroom["publisher"]) == "revoked"
    page = await client.get(f"/console/bulletins/{bulletin_id}")
    assert "Đã thu hồi, ngừng phát" in page.text
    assert "Lý do thu hồi" in page.text
    assert "Thông tin đã cũ." in page.text
    assert button(page.text, "revoke") is None


async def test_people_of_another_area_neither_see_nor_act_on_it(
    client: AsyncClient,
    newsroom: dict[str, Any],
    sign_in_as: SignInAs,
    make_user: MakeUser,
    areas: list[AreaRecord],
) -> None:
    bulletin_id = await submitted(client, newsroom)
    outsider = await make_user("review.api.outsider", Role.editor, LAI_CHAU)
    api = await client.get(f"/api/v1/bulletins/{bulletin_id}", headers=outsider)
    token = await sign_in_as("review.outsider", Role.editor, LAI_CHAU)

    page = await client.get(f"/console/bulletins/{bulletin_id}")
    assert page.status_code == api.status_code == 404
    assert f"Không có tin {bulletin_id} trong phạm vi user:review.outsider được xem." in page.text
    assert bulletin_id not in (await client.get("/console/review")).text
    for action, fields in (("approve", {}), ("reject", {"reason": "Không phù hợp."})):
        refused = await press(client, bulletin_id, action, token, **fields)
        assert refused.status_code == 404
    assert await status_of(client, bulletin_id, newsroom["publisher"]) == "submitted"

    # A commune chair sees the province's bulletins but decides only the commune's own.
    chair_token = await sign_in_as("review.chair", Role.commune_chair, newsroom["commune"])
    page = await client.get(f"/console/bulletins/{bulletin_id}")
    assert page.status_code == 200
    assert button(page.text, "approve") is None
    assert bulletin_id not in (await client.get("/console/review")).text
    refused = await press(client, bulletin_id, "approve", chair_token)
    assert refused.status_code == 403
    assert "Chủ tịch UBND xã chỉ quyết định tin của chính xã mình" in refused.text
    assert await status_of(client, bulletin_id, newsroom["publisher"]) == "submitted"

    # A publisher reads the bulletin but has no review queue and no buttons.
    await sign_in_as("review.reader", Role.publisher, AN_GIANG)
    page = await client.get(f"/console/bulletins/{bulletin_id}")
    assert page.status_code == 200
    assert 'id="bulletin-actions"' not in page.text
    assert 'href="/console/review"' not in page.text
    queue = await client.get("/console/review")
    assert queue.status_code == 200
    assert "Vai trò của bạn không duyệt và không thẩm định tin." in queue.text
    assert bulletin_id not in queue.text


async def test_a_commune_chair_approves_the_communes_own_bulletin(
    client: AsyncClient, make_user: MakeUser, sign_in_as: SignInAs, areas: list[AreaRecord]
) -> None:
    commune, neighbour = communes_of(areas, AN_GIANG)[:2]
    own = {"commune": commune, "publisher": await make_user("xa.pub", Role.publisher, commune)}
    bulletin_id = await submitted(client, own)
    await sign_in_as("xa.neighbour", Role.commune_chair, neighbour)
    assert (await client.get(f"/console/bulletins/{bulletin_id}")).status_code == 404
    token = await sign_in_as("xa.chair", Role.commune_chair, commune)
    queue = await client.get("/console/review")
    assert f'href="/console/bulletins/{bulletin_id}"' in queue.text
    assert (await press(client, bulletin_id, "approve", token)).status_code == 303
    assert await status_of(client, bulletin_id, own["publisher"]) == "published"


async def test_the_deliveries_and_the_media_of_an_approved_bulletin(
    client: AsyncClient,
    newsroom: dict[str, Any],
    sign_in_as: SignInAs,
    make_endpoint: MakeEndpoint,
) -> None:
    await make_endpoint("REVIEW-BOARD", "display", newsroom["commune"], profile="eboard")
    uploaded = await client.post(
        "/api/v1/media",
        files={"file": ("anh.png", png_bytes(), "image/png")},
        headers=newsroom["publisher"],
    )
    assert uploaded.status_code == 201, uploaded.text
    media_id = uploaded.json()["id"]
    bulletin_id = await submitted(client, newsroom, kind="image", body=None, media=[media_id])
    token = await sign_in_as("review.overseer", Role.editor, AN_GIANG)

    page = await client.get(f"/console/bulletins/{bulletin_id}")
    assert f'<img src="/console/media/{media_id}" alt="Thông báo lịch tiêm chủng">' in page.text
    picture = await client.get(f"/console/media/{media_id}")
    assert picture.status_code == 200
    assert picture.headers["content-type"] == "image/png"
    assert picture.content == png_bytes()
    assert "Chưa có thiết bị nào được gửi tin này." in page.text

    assert (await press(client, bulletin_id, "approve", token)).status_code == 303
    page = await client.get(f"/console/bulletins/{bulletin_id}")
    assert 'id="deliveries"' in page.text
    assert "REVIEW-BOARD" in page.text
    assert "Bảng tin điện tử" in page.text
    assert "Chờ thiết bị nhận: 1" in page.text

    # A publisher reads the bulletin and its media, but deliveries are the overseers' concern.
    await sign_in_as("review.media.reader", Role.publisher, AN_GIANG)
    page = await client.get(f"/console/bulletins/{bulletin_id}")
    assert page.status_code == 200
    assert 'id="bulletin-deliveries"' not in page.text
    assert (await client.get(f"/console/media/{media_id}")).status_code == 200
    client.cookies.delete("nguon_session")
    assert (await client.get(f"/console/media/{media_id}")).status_code == 303


async def test_the_emergency_status_follows_its_deliveries(
    client: AsyncClient,
    newsroom: dict[str, Any],
    sign_in_as: SignInAs,
    make_endpoint: MakeEndpoint,
) -> None:
    listening = await make_endpoint("REVIEW-RADIO", "radio", newsroom["commune"])
    await make_endpoint("REVIEW-SILENT", "radio", newsroom["commune"])
    await sign_in_as("review.watch", Role.editor, AN_GIANG)
    page = await client.get("/console/emergencies")
    assert page.status_code == 200
    assert "Không có tin khẩn cấp nào đang phát." in page.text

    bulletin_id = await submitted(client, newsroom, priority="emergency", title="Lũ quét")
    token = await sign_in_as("review.watcher", Role.editor, AN_GIANG)
    assert (await press(client, bulletin_id, "approve", token)).status_code == 303

    page = await client.get(f"/console/bulletins/{bulletin_id}")
    assert f'href="/console/emergencies#emergency-{bulletin_id}"' in page.text
    page = await client.get("/console/emergencies")
    assert '<section id="emergency-status"' in page.text
    assert 'hx-get="/console/emergencies/status" hx-trigger="every 5s"' in page.text
    assert "Lũ quét" in page.text
    assert "0/2 thiết bị đã nhận; 0 đã xác nhận." in page.text

    await beat(client, listening, playlist_etag=await fetch_playlist(client, listening))
    fragment = await client.get("/console/emergencies/status", headers={"HX-Request": "true"})
    assert fragment.status_code == 200
    assert "<html" not in fragment.text
    assert "1/2 thiết bị đã nhận; 1 đã xác nhận." in fragment.text
    assert '<td data-count="stragglers">1 (0 đang kết nối)</td>' in fragment.text
    assert "REVIEW-SILENT" in fragment.text
    assert "REVIEW-RADIO" not in fragment.text  # it confirmed: no longer a straggler

    revoked = await press(client, bulletin_id, "revoke", token, reason="Đã hết nguy cơ.")
    assert revoked.status_code == 303
    fragment = await client.get("/console/emergencies/status")
    assert "Không có tin khẩn cấp nào đang phát." in fragment.text

    await sign_in_as("review.not.overseer", Role.publisher, AN_GIANG)
    assert (await client.get("/console/emergencies")).status_code == 403
    stale = await client.get("/console/emergencies/status", headers={"HX-Request": "true"})
    assert stale.status_code == 403
