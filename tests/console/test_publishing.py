"""The publisher's pages: compose a bulletin, upload its media, send it for approval, and see
its status and why it was rejected, in Vietnamese, through the API's own services and rules."""

import re
from pathlib import Path
from typing import Any

from httpx import AsyncClient

from nguon.areas.levels import AreaLevel
from nguon.areas.sources import AreaRecord
from nguon.bulletins.enums import BulletinKind, BulletinStatus, Category, Priority
from nguon.bulletins.schemas import Weekday
from nguon.console.translations import vietnamese_catalog
from nguon.identity.roles import Role
from tests.conftest import AN_GIANG, LAI_CHAU, PASSWORD, MakeUser, communes_of, districts_of
from tests.console.conftest import SignInAs

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "media"
TITLE = "Thông báo lịch tiêm chủng mở rộng"
BODY = "Trạm y tế xã tổ chức tiêm chủng vào sáng thứ Bảy, người dân mang theo sổ tiêm."


async def api_headers(client: AsyncClient, username: str) -> dict[str, str]:
    answer = await client.post(
        "/api/v1/auth/token", data={"username": username, "password": PASSWORD}
    )
    assert answer.status_code == 200, answer.text
    return {"Authorization": f"Bearer {answer.json()['access_token']}"}


def compose_form(token: str, target: str, **fields: Any) -> dict[str, Any]:
    return {
        "csrf_token": token,
        "title": TITLE,
        "kind": "text",
        "priority": "normal",
        "category": "access_to_information",
        "language": "vi",
        "body": BODY,
        "targets": [target],
        "contributor": "Nguyễn Thị Hồng Nhung",
        "valid_from": "2026-12-10T07:30",
        "valid_until": "2026-12-17T18:00",
        **fields,
    }


def sent_for_approval(token: str, target: str, **fields: Any) -> dict[str, Any]:
    """The edit form as its `Gửi duyệt` button posts it."""
    return compose_form(token, target, send_for_approval="true", **fields)


def created_id(answer: Any) -> str:
    assert answer.status_code == 303, answer.text
    found = re.fullmatch(r"/console/bulletins/([0-9a-f]{32})/edit", answer.headers["location"])
    assert found, answer.headers["location"]
    return found.group(1)


async def listed(client: AsyncClient, headers: dict[str, str]) -> list[dict[str, Any]]:
    answer = await client.get("/api/v1/bulletins", headers=headers)
    assert answer.status_code == 200, answer.text
    items: list[dict[str, Any]] = answer.json()["items"]
    return items


async def test_a_publisher_composes_a_bulletin_in_vietnamese_on_the_provinces_clock(
    client: AsyncClient, sign_in_as: SignInAs, areas: list[AreaRecord]
) -> None:
    district = districts_of(areas, LAI_CHAU)[0]
    commune = communes_of(areas, district)[0]
    token = await sign_in_as("pub.huyen", Role.publisher, district)
    page = await client.get("/console/bulletins/new")
    assert page.status_code == 200
    assert '<form id="compose"' in page.text
    assert f'<option value="{commune}"' in page.text  # the district's own communes to target
    assert f'<option value="{communes_of(areas, districts_of(areas, LAI_CHAU)[1])[0]}"' not in (
        page.text
    )
    assert ">Tạo tin</button>" in page.text
    assert "Cấp xã" in page.text
    created = await client.post("/console/bulletins/new", data=compose_form(token, commune))
    bulletin_id = created_id(created)
    stored = (
        await client.get(
            f"/api/v1/bulletins/{bulletin_id}", headers=await api_headers(client, "pub.huyen")
        )
    ).json()
    assert (stored["title"], stored["body"]) == (TITLE, BODY)
    assert stored["contributor"] == "Nguyễn Thị Hồng Nhung"
    assert stored["status"] == "draft"
    assert stored["targets"] == [commune]
    # 07:30 in Vietnam is 00:30 UTC.
    assert stored["valid_from"].startswith("2026-12-10T00:30:00")
    assert stored["valid_until"].startswith("2026-12-17T11:00:00")
    edit = await client.get(f"/console/bulletins/{bulletin_id}/edit")
    assert edit.status_code == 200
    assert f'value="{TITLE}"' in edit.text
    assert 'value="2026-12-10T07:30"' in edit.text
    assert "bản nháp" in edit.text
    saved = await client.post(
        f"/console/bulletins/{bulletin_id}/edit",
        data=compose_form(token, commune, title=f"{TITLE} (sửa)", valid_from="", valid_until=""),
    )
    assert saved.status_code == 303, saved.text
    assert saved.headers["location"] == f"/console/bulletins/{bulletin_id}/edit?saved=true"
    assert "Đã lưu." in (await client.get(saved.headers["location"])).text
    listing = await client.get("/console/bulletins")
    assert f"{TITLE} (sửa)" in listing.text
    assert "bản nháp" in listing.text
    assert "03/12/2026" in listing.text or re.search(r"\d\d/\d\d/\d{4} \d\d:\d\d", listing.text)
    assert f'href="/console/bulletins/{bulletin_id}/edit"' in listing.text
    assert f'href="/console/bulletins/{bulletin_id}"' in listing.text


async def test_a_refusal_keeps_what_was_typed_says_why_in_vietnamese_and_creates_nothing(
    client: AsyncClient, sign_in_as: SignInAs, areas: list[AreaRecord]
) -> None:
    district, other = districts_of(areas, LAI_CHAU)[:2]
    token = await sign_in_as("pub.sai", Role.publisher, district)
    headers = await api_headers(client, "pub.sai")
    no_body = await client.post(
        "/console/bulletins/new",
        data=compose_form(token, communes_of(areas, district)[0], body=""),
    )
    assert no_body.status_code == 422
    assert "Tin dạng văn bản cần có nội dung." in no_body.text
    assert f'value="{TITLE}"' in no_body.text
    assert 'value="Nguyễn Thị Hồng Nhung"' in no_body.text
    assert 'value="2026-12-10T07:30"' in no_body.text
    assert 'aria-describedby="compose-error"' in no_body.text
    outside = await client.post(
        "/console/bulletins/new", data=compose_form(token, communes_of(areas, other)[0])
    )
    assert outside.status_code == 403
    assert "nằm ngoài" in outside.text
    no_target = await client.post(
        "/console/bulletins/new", data=compose_form(token, "", targets=[])
    )
    assert no_target.status_code == 422
    assert "Nơi nhận: cần chọn ít nhất 1 mục" in no_target.text
    bad_time = await client.post(
        "/console/bulletins/new",
        data=compose_form(token, communes_of(areas, district)[0], valid_until="tuần sau"),
    )
    assert bad_time.status_code == 422
    assert "Hiệu lực đến: phải là ngày giờ" in bad_time.text
    assert 'value="tuần sau"' in bad_time.text
    assert await listed(client, headers) == []


async def test_an_upload_goes_with_the_bulletin_and_sending_it_for_approval_submits_it(
    client: AsyncClient, sign_in_as: SignInAs, areas: list[AreaRecord]
) -> None:
    district = districts_of(areas, LAI_CHAU)[0]
    commune = communes_of(areas, district)[0]
    token = await sign_in_as("pub.audio", Role.publisher, district)
    mp3 = (FIXTURES / "tone.mp3").read_bytes()
    # The page's script: the file alone, as the API takes it, the CSRF token in a header.
    uploaded = await client.post(
        "/console/media",
        files={"file": ("bản tin lũ.mp3", mp3, "audio/mpeg")},
        headers={"X-CSRF-Token": token},
    )
    assert uploaded.status_code == 201, uploaded.text
    media_id = re.search(r'value="([0-9a-f]{32})"', uploaded.text)
    assert media_id
    assert "âm thanh · bản tin lũ.mp3" in uploaded.text
    created = await client.post(
        "/console/bulletins/new",
        data=compose_form(token, commune, kind="audio", body="", media=[media_id.group(1)]),
    )
    bulletin_id = created_id(created)
    # Without the script: the whole form, and back to the edit page with the file listed.
    plain = await client.post(
        "/console/media",
        data={"csrf_token": token, "bulletin": bulletin_id},
        files={"file": ("tone-again.mp3", mp3, "audio/mpeg")},
    )
    assert plain.status_code == 303, plain.text
    assert plain.headers["location"] == (
        f"/console/bulletins/{bulletin_id}/edit?media={media_id.group(1)}"
    )
    edit = await client.get(plain.headers["location"])
    assert 'id="upload-progress"' in edit.text
    assert 'id="media-file"' in edit.text
    assert "/console/static/upload.js" in edit.text
    assert f'id="media-{media_id.group(1)}"' in edit.text
    assert ">Gửi duyệt</button>" in edit.text
    sent = await client.post(
        f"/console/bulletins/{bulletin_id}/edit",
        data=sent_for_approval(token, commune, kind="audio", body="", media=[media_id.group(1)]),
    )
    assert sent.status_code == 303, sent.text
    assert sent.headers["location"] == f"/console/bulletins/{bulletin_id}"
    stored = (
        await client.get(
            f"/api/v1/bulletins/{bulletin_id}", headers=await api_headers(client, "pub.audio")
        )
    ).json()
    assert stored["status"] == "submitted"
    assert stored["media"] == [media_id.group(1)]
    assert stored["media_details"][0]["kind"] == "audio"
    waiting = await client.get(f"/console/bulletins/{bulletin_id}/edit")
    assert "Tin đang ở trạng thái chờ duyệt, hiện không sửa được." in waiting.text
    assert 'id="submit-for-approval"' not in waiting.text
    again = await client.post(
        f"/console/bulletins/{bulletin_id}/edit",
        data=sent_for_approval(token, commune, kind="audio", body="", media=[media_id.group(1)]),
    )
    assert again.status_code == 409
    assert "chỉ sửa được tin nháp" in again.text


async def test_an_audio_bulletin_without_its_file_is_refused_and_a_bad_file_is_told(
    client: AsyncClient, sign_in_as: SignInAs, areas: list[AreaRecord]
) -> None:
    district = districts_of(areas, LAI_CHAU)[0]
    token = await sign_in_as("pub.nofile", Role.publisher, district)
    refused = await client.post(
        "/console/bulletins/new",
        data=compose_form(token, communes_of(areas, district)[0], kind="audio", body=""),
    )
    assert refused.status_code == 422
    assert "Tin dạng âm thanh cần kèm ít nhất một tệp âm thanh" in refused.text
    not_media = await client.post(
        "/console/media",
        files={"file": ("note.txt", b"not a sound at all, only words" * 20, "text/plain")},
        headers={"X-CSRF-Token": token},
    )
    assert not_media.status_code == 415
    assert 'role="alert"' in not_media.text
    assert "hệ thống nhận âm thanh MP3" in not_media.text
    forged = await client.post(
        "/console/media",
        files={"file": ("tone.mp3", b"ID3", "audio/mpeg")},
        headers={"X-CSRF-Token": "forged"},
    )
    assert forged.status_code == 403


async def test_a_publisher_of_another_area_cannot_open_the_edit_page(
    client: AsyncClient, sign_in_as: SignInAs, make_user: MakeUser, areas: list[AreaRecord]
) -> None:
    district, other = districts_of(areas, LAI_CHAU)[:2]
    owner = await make_user("pub.owner", Role.publisher, district)
    created = await client.post(
        "/api/v1/bulletins",
        json={
            "title": TITLE,
            "kind": "text",
            "body": BODY,
            "category": "access_to_information",
            "targets": [communes_of(areas, district)[0]],
        },
        headers=owner,
    )
    assert created.status_code == 201, created.text
    theirs = created.json()["id"]
    province_editor = await make_user("editor.tinh", Role.editor, LAI_CHAU)
    from_above = await client.post(
        "/api/v1/bulletins",
        json={
            "title": "Tin của tỉnh",
            "kind": "text",
            "body": BODY,
            "category": "policy_and_law",
            "targets": [LAI_CHAU],
        },
        headers=province_editor,
    )
    token = await sign_in_as("pub.other", Role.publisher, other)
    page = await client.get(f"/console/bulletins/{theirs}/edit")
    assert page.status_code == 404
    assert "Không thực hiện được" in page.text
    assert f"Không có tin {theirs}" in page.text
    post = await client.post(
        f"/console/bulletins/{theirs}/edit",
        data=compose_form(token, communes_of(areas, other)[0], title="Sửa trộm"),
    )
    assert post.status_code == 404
    # The province's bulletin is seen below, but is not the district's to edit.
    province_id = from_above.json()["id"]
    above = await client.get(f"/console/bulletins/{province_id}/edit")
    assert above.status_code == 403
    listing = await client.get("/console/bulletins")
    assert "Tin của tỉnh" in listing.text
    assert f"/console/bulletins/{province_id}/edit" not in listing.text
    assert theirs not in listing.text
    stored = (await client.get(f"/api/v1/bulletins/{theirs}", headers=owner)).json()
    assert stored["title"] == TITLE
    viewer_token = await sign_in_as("viewer.tinh", Role.viewer, LAI_CHAU)
    assert viewer_token
    assert (await client.get("/console/bulletins/new")).status_code == 403


async def test_the_list_shows_why_a_bulletin_was_rejected_and_filters_by_status(
    client: AsyncClient, sign_in_as: SignInAs, make_user: MakeUser, areas: list[AreaRecord]
) -> None:
    commune = communes_of(areas, AN_GIANG)[0]
    token = await sign_in_as("pub.xa", Role.publisher, commune)
    bulletin_id = created_id(
        await client.post("/console/bulletins/new", data=compose_form(token, commune))
    )
    publisher = await api_headers(client, "pub.xa")
    submitted = await client.post(f"/api/v1/bulletins/{bulletin_id}/submit", headers=publisher)
    assert submitted.status_code == 200, submitted.text
    editor = await make_user("editor.an", Role.editor, AN_GIANG)
    reason = "Thiếu nguồn trích dẫn, đề nghị bổ sung."
    rejected = await client.post(
        f"/api/v1/bulletins/{bulletin_id}/reject", json={"reason": reason}, headers=editor
    )
    assert rejected.status_code == 200, rejected.text
    listing = await client.get("/console/bulletins")
    assert f"Lý do từ chối: {reason}" in listing.text
    assert ">bị từ chối</span>" in listing.text
    assert f'href="/console/bulletins/{bulletin_id}/edit"' in listing.text
    only_rejected = await client.get("/console/bulletins", params={"status": "rejected"})
    assert TITLE in only_rejected.text
    only_drafts = await client.get("/console/bulletins", params={"status": "draft"})
    assert TITLE not in only_drafts.text
    assert "Không có tin nào." in only_drafts.text
    edit = await client.get(f"/console/bulletins/{bulletin_id}/edit")
    assert f"Lý do từ chối: {reason}" in edit.text
    # Sending it again edits it into a new revision, then submits that.
    again = await client.post(
        f"/console/bulletins/{bulletin_id}/edit",
        data=sent_for_approval(token, commune, body=f"{BODY} Nguồn: Trạm y tế xã."),
    )
    assert again.status_code == 303, again.text
    stored = (await client.get(f"/api/v1/bulletins/{bulletin_id}", headers=publisher)).json()
    assert (stored["status"], stored["revision"], stored["reason"]) == ("submitted", 2, None)


def test_every_status_kind_priority_category_level_and_weekday_reads_in_vietnamese() -> None:
    catalogue = vietnamese_catalog()
    shown = [*BulletinStatus, *BulletinKind, *Priority, *Category, *AreaLevel, *Weekday]
    assert [value.value for value in shown if not catalogue.get(value.value)] == []


async def test_a_commune_chair_writes_text_bulletins_but_uploads_nothing_as_on_the_api(
    client: AsyncClient, sign_in_as: SignInAs, areas: list[AreaRecord]
) -> None:
    commune = communes_of(areas, AN_GIANG)[1]
    token = await sign_in_as("chair.xa", Role.commune_chair, commune)
    page = await client.get("/console/bulletins/new")
    assert page.status_code == 200
    assert 'id="media-file"' not in page.text
    bulletin_id = created_id(
        await client.post("/console/bulletins/new", data=compose_form(token, commune))
    )
    assert bulletin_id
    refused = await client.post(
        "/console/media",
        files={"file": ("tone.mp3", (FIXTURES / "tone.mp3").read_bytes(), "audio/mpeg")},
        headers={"X-CSRF-Token": token},
    )
    assert refused.status_code == 403
    assert "việc này cần vai trò biên tập, cung cấp tin" in refused.text


async def scripted_upload(client: AsyncClient, token: str, name: str) -> tuple[str, str]:
    """Upload as the page's script does; the file's id and the list item the hub answers."""
    uploaded = await client.post(
        "/console/media",
        files={"file": (name, (FIXTURES / name).read_bytes())},
        headers={"X-CSRF-Token": token},
    )
    assert uploaded.status_code == 201, uploaded.text
    found = re.search(r'value="([0-9a-f]{32})"', uploaded.text)
    assert found
    return found.group(1), uploaded.text


async def test_a_bulletin_of_text_audio_and_subtitled_video_shows_what_each_channel_gets(
    client: AsyncClient, sign_in_as: SignInAs, areas: list[AreaRecord]
) -> None:
    district = districts_of(areas, LAI_CHAU)[0]
    commune = communes_of(areas, district)[0]
    token = await sign_in_as("pub.mixed", Role.publisher, district)
    audio, _item = await scripted_upload(client, token, "tone.mp3")
    video, _item = await scripted_upload(client, token, "clip.webm")
    subtitles, row = await scripted_upload(client, token, "clip.vi.vtt")
    # A subtitle file is a row with its language and the video it is for.
    assert f'name="subtitle_media" value="{subtitles}"' in row
    assert 'name="subtitle_language"' in row
    assert "Ngôn ngữ phụ đề" in row
    bulletin_id = created_id(
        await client.post(
            "/console/bulletins/new",
            data=compose_form(
                token,
                commune,
                media=[audio, video],
                subtitle_media=[subtitles],
                subtitle_language=["vi"],
                subtitle_video=[video],
            ),
        )
    )
    edit = await client.get(f"/console/bulletins/{bulletin_id}/edit")
    assert f'id="media-{audio}"' in edit.text
    assert f'id="media-{video}"' in edit.text
    assert f'<option value="{video}" selected>clip.webm</option>' in edit.text
    sent = await client.post(
        f"/console/bulletins/{bulletin_id}/edit",
        data=sent_for_approval(
            token,
            commune,
            media=[audio, video],
            subtitle_media=[subtitles],
            subtitle_language=["vi"],
            subtitle_video=[video],
        ),
    )
    assert sent.status_code == 303, sent.text
    stored = (
        await client.get(
            f"/api/v1/bulletins/{bulletin_id}", headers=await api_headers(client, "pub.mixed")
        )
    ).json()
    assert (stored["status"], stored["media"]) == ("submitted", [audio, video])
    assert stored["subtitles"] == [{"media": subtitles, "language": "vi", "video": video}]
    page = await client.get(f"/console/bulletins/{bulletin_id}")
    assert "Nội dung mỗi kênh nhận được" in page.text
    radio = re.search(r'<dd id="channel-radio">(.*?)</dd>', page.text, re.S)
    display = re.search(r'<dd id="channel-display">(.*?)</dd>', page.text, re.S)
    assert radio
    assert display
    assert radio.group(1) == "âm thanh tone.mp3"
    assert display.group(1) == "nội dung chữ; video clip.webm có phụ đề vi"


async def test_a_video_without_subtitles_is_kept_as_a_draft_with_the_reason(
    client: AsyncClient, sign_in_as: SignInAs, areas: list[AreaRecord]
) -> None:
    district = districts_of(areas, LAI_CHAU)[0]
    commune = communes_of(areas, district)[0]
    token = await sign_in_as("pub.video", Role.publisher, district)
    video, _item = await scripted_upload(client, token, "clip.webm")
    bulletin_id = created_id(
        await client.post(
            "/console/bulletins/new", data=compose_form(token, commune, kind="video", media=[video])
        )
    )
    refused = await client.post(
        f"/console/bulletins/{bulletin_id}/edit",
        data=sent_for_approval(token, commune, kind="video", media=[video]),
    )
    assert refused.status_code == 422
    assert f"Video {video} chưa có phụ đề" in refused.text
    assert "Điều 7.2" in refused.text
