"""Bulletins from draft to air, by the rules of the editorial board."""

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from httpx import AsyncClient
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from nguon.app import create_app
from nguon.areas.sources import AreaRecord
from nguon.audit.models import AuditRecord
from nguon.bulletins.models import Bulletin
from nguon.bulletins.service import BulletinService
from nguon.identity.roles import Role
from nguon.kit.settings import Settings
from tests.conftest import AN_GIANG, LAI_CHAU, MakeUser, communes_of, districts_of

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "media"


def text_bulletin(target: str, **overrides: Any) -> dict[str, Any]:
    return {
        "title": "Thông báo lịch tiêm chủng",
        "kind": "text",
        "body": "Trạm y tế xã tổ chức tiêm chủng vào sáng thứ Bảy.",
        "language": "vi",
        "category": "access_to_information",
        "priority": "normal",
        "targets": [target],
        **overrides,
    }


async def act(
    client: AsyncClient, bulletin_id: str, action: str, headers: dict[str, str], **body: Any
) -> Any:
    return await client.post(
        f"/api/v1/bulletins/{bulletin_id}/{action}", json=body or None, headers=headers
    )


async def bulletin_count(sessionmaker: async_sessionmaker[AsyncSession]) -> int:
    async with sessionmaker() as session:
        return await session.scalar(select(func.count()).select_from(Bulletin)) or 0


async def test_district_audio_bulletin_from_upload_to_air(
    client: AsyncClient, make_user: MakeUser, areas: list[AreaRecord]
) -> None:
    district, other_district = districts_of(areas, LAI_CHAU)[:2]
    publisher = await make_user("huyen.publisher", Role.publisher, district)
    editor = await make_user("tinh.editor", Role.editor, LAI_CHAU)
    mp3 = (FIXTURES / "tone.mp3").read_bytes()
    uploaded = await client.post(
        "/api/v1/media", files={"file": ("ban-tin.mp3", mp3, "audio/mpeg")}, headers=publisher
    )
    assert uploaded.status_code == 201, uploaded.text
    media = uploaded.json()
    commune = communes_of(areas, district)[0]
    created = await client.post(
        "/api/v1/bulletins",
        json={
            "title": "Bản tin phòng chống lũ",
            "kind": "audio",
            "language": "vi",
            "category": "disaster_fire_epidemic",
            "priority": "priority",
            "targets": [commune],
            "media": [media["id"]],
            "contributor": "Lò Văn Minh",
        },
        headers=publisher,
    )
    assert created.status_code == 201, created.text
    draft = created.json()
    assert (draft["status"], draft["level"], draft["revision"]) == ("draft", "district", 1)
    bulletin_id = draft["id"]
    assert (await act(client, bulletin_id, "submit", publisher)).json()["status"] == "submitted"
    approved = await act(client, bulletin_id, "approve", editor)
    assert approved.status_code == 200, approved.text
    shown = (await client.get(f"/api/v1/bulletins/{bulletin_id}", headers=publisher)).json()
    assert (shown["status"], shown["level"], shown["on_air_revision"]) == (
        "published",
        "district",
        1,
    )
    (details,) = shown["media_details"]
    assert details["sha256"] == media["sha256"]
    assert details["duration_s"] == pytest.approx(3.0, abs=0.2)
    assert shown["contributor"] == "Lò Văn Minh"

    elsewhere = communes_of(areas, other_district)[0]
    refused = await client.post(
        "/api/v1/bulletins", json=text_bulletin(elsewhere), headers=publisher
    )
    assert refused.status_code == 403
    assert elsewhere in refused.json()["detail"]


async def test_sensitive_bulletin_needs_appraisal_first(
    client: AsyncClient, make_user: MakeUser, areas: list[AreaRecord]
) -> None:
    publisher = await make_user("pub.s", Role.publisher, AN_GIANG)
    editor = await make_user("editor.s", Role.editor, AN_GIANG)
    appraiser = await make_user("appraiser.s", Role.appraiser, AN_GIANG)
    created = await client.post(
        "/api/v1/bulletins",
        json=text_bulletin(AN_GIANG, sensitive=True, category="foreign_affairs_border"),
        headers=publisher,
    )
    bulletin_id = created.json()["id"]
    await act(client, bulletin_id, "submit", publisher)
    too_early = await act(client, bulletin_id, "approve", editor)
    assert too_early.status_code == 409
    assert too_early.headers["content-type"] == "application/problem+json"
    assert "must be appraised" in too_early.json()["detail"]
    assert too_early.json()["current_status"] == "submitted"
    appraised = await act(client, bulletin_id, "appraise", appraiser, reason="Nội dung phù hợp")
    assert appraised.json()["status"] == "appraised"
    assert appraised.json()["appraised_by"] == "user:appraiser.s"
    assert (await act(client, bulletin_id, "approve", editor)).json()["status"] == "published"


async def test_illegal_transitions_name_the_current_state(
    client: AsyncClient, make_user: MakeUser, areas: list[AreaRecord]
) -> None:
    publisher = await make_user("pub.t", Role.publisher, AN_GIANG)
    editor = await make_user("editor.t", Role.editor, AN_GIANG)
    bulletin_id = (
        await client.post("/api/v1/bulletins", json=text_bulletin(AN_GIANG), headers=publisher)
    ).json()["id"]
    for action, who, body in (
        ("approve", editor, {}),
        ("reject", editor, {"reason": "Sai chính tả"}),
        ("revoke", editor, {"reason": "Hết hiệu lực"}),
    ):
        response = await act(client, bulletin_id, action, who, **body)
        assert response.status_code == 409, (action, response.text)
        assert "draft" in response.json()["detail"]
    await act(client, bulletin_id, "submit", publisher)
    again = await act(client, bulletin_id, "submit", publisher)
    assert again.status_code == 409
    assert again.json()["current_status"] == "submitted"


async def test_reject_then_revise_and_resubmit(
    client: AsyncClient, make_user: MakeUser, areas: list[AreaRecord]
) -> None:
    publisher = await make_user("pub.r", Role.publisher, AN_GIANG)
    editor = await make_user("editor.r", Role.editor, AN_GIANG)
    bulletin_id = (
        await client.post("/api/v1/bulletins", json=text_bulletin(AN_GIANG), headers=publisher)
    ).json()["id"]
    await act(client, bulletin_id, "submit", publisher)
    no_reason = await act(client, bulletin_id, "reject", editor)
    assert no_reason.status_code == 422
    rejected = await act(client, bulletin_id, "reject", editor, reason="Thiếu thời gian cụ thể")
    assert (rejected.json()["status"], rejected.json()["reason"]) == (
        "rejected",
        "Thiếu thời gian cụ thể",
    )
    revised = await client.patch(
        f"/api/v1/bulletins/{bulletin_id}",
        json={"body": "Tiêm chủng lúc 7 giờ sáng thứ Bảy tại trạm y tế."},
        headers=publisher,
    )
    assert (revised.json()["status"], revised.json()["revision"], revised.json()["reason"]) == (
        "draft",
        2,
        None,
    )


async def test_editing_an_on_air_bulletin_keeps_the_old_revision_on_air(
    client: AsyncClient, make_user: MakeUser, areas: list[AreaRecord]
) -> None:
    publisher = await make_user("pub.e", Role.publisher, AN_GIANG)
    editor = await make_user("editor.e", Role.editor, AN_GIANG)
    bulletin_id = (
        await client.post("/api/v1/bulletins", json=text_bulletin(AN_GIANG), headers=publisher)
    ).json()["id"]
    await act(client, bulletin_id, "submit", publisher)
    await act(client, bulletin_id, "approve", editor)
    edited = await client.patch(
        f"/api/v1/bulletins/{bulletin_id}",
        json={"title": "Lịch tiêm chủng (cập nhật)"},
        headers=publisher,
    )
    assert edited.status_code == 200, edited.text
    assert (
        edited.json()["status"],
        edited.json()["revision"],
        edited.json()["on_air_revision"],
    ) == (
        "draft",
        2,
        1,
    )
    await act(client, bulletin_id, "submit", publisher)
    final = (await act(client, bulletin_id, "approve", editor)).json()
    assert (final["status"], final["revision"], final["on_air_revision"]) == ("published", 2, 2)
    revoked = await act(client, bulletin_id, "revoke", editor, reason="Đã hết đợt tiêm")
    assert (revoked.json()["status"], revoked.json()["on_air_revision"]) == ("revoked", None)


async def test_future_bulletin_is_scheduled_then_published_then_expired(
    client: AsyncClient,
    make_user: MakeUser,
    areas: list[AreaRecord],
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    publisher = await make_user("pub.f", Role.publisher, AN_GIANG)
    editor = await make_user("editor.f", Role.editor, AN_GIANG)
    start = datetime.now(UTC) + timedelta(hours=2)
    created = await client.post(
        "/api/v1/bulletins",
        json=text_bulletin(
            AN_GIANG,
            valid_from=start.isoformat(),
            valid_until=(start + timedelta(days=1)).isoformat(),
            schedule={"type": "daily", "times": ["05:30", "17:15"], "repeat": 2, "gap_minutes": 10},
        ),
        headers=publisher,
    )
    assert created.status_code == 201, created.text
    assert created.json()["schedule"]["times"] == ["05:30:00", "17:15:00"]
    bulletin_id = created.json()["id"]
    await act(client, bulletin_id, "submit", publisher)
    assert (await act(client, bulletin_id, "approve", editor)).json()["status"] == "scheduled"
    async with sessionmaker() as session:
        assert await BulletinService(session).advance_clock(start + timedelta(minutes=1)) == (1, 0)
        await session.commit()
    shown = await client.get(f"/api/v1/bulletins/{bulletin_id}", headers=publisher)
    assert shown.json()["status"] == "published"
    async with sessionmaker() as session:
        assert await BulletinService(session).advance_clock(start + timedelta(days=2)) == (0, 1)
        await session.commit()
    shown = await client.get(f"/api/v1/bulletins/{bulletin_id}", headers=publisher)
    assert (shown.json()["status"], shown.json()["on_air_revision"]) == ("expired", None)


async def test_commune_chair_approves_only_the_communes_own(
    client: AsyncClient, make_user: MakeUser, areas: list[AreaRecord]
) -> None:
    commune = communes_of(areas, AN_GIANG)[0]
    commune_publisher = await make_user("xa.publisher", Role.publisher, commune)
    chair = await make_user("xa.chair", Role.commune_chair, commune)
    province_publisher = await make_user("tinh.publisher", Role.publisher, AN_GIANG)
    own = (
        await client.post(
            "/api/v1/bulletins", json=text_bulletin(commune), headers=commune_publisher
        )
    ).json()
    assert own["level"] == "commune"
    await act(client, own["id"], "submit", commune_publisher)
    assert (await act(client, own["id"], "approve", chair)).json()["status"] == "published"
    provincial = (
        await client.post(
            "/api/v1/bulletins", json=text_bulletin(commune), headers=province_publisher
        )
    ).json()
    await act(client, provincial["id"], "submit", province_publisher)
    refused = await act(client, provincial["id"], "approve", chair)
    assert refused.status_code == 403
    assert "commune itself" in refused.json()["detail"]


async def test_every_transition_is_audited(
    client: AsyncClient,
    make_user: MakeUser,
    areas: list[AreaRecord],
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    publisher = await make_user("pub.a", Role.publisher, AN_GIANG)
    editor = await make_user("editor.a", Role.editor, AN_GIANG)
    bulletin_id = (
        await client.post("/api/v1/bulletins", json=text_bulletin(AN_GIANG), headers=publisher)
    ).json()["id"]
    await act(client, bulletin_id, "submit", publisher)
    await act(client, bulletin_id, "approve", editor)
    await act(client, bulletin_id, "approve", editor)  # refused: already published
    async with sessionmaker() as session:
        trail = (
            await session.scalars(
                select(AuditRecord)
                .where(AuditRecord.target == f"bulletin:{bulletin_id}")
                .order_by(AuditRecord.id)
            )
        ).all()
    assert [(r.action.rsplit("/", 1)[-1], r.actor, r.outcome) for r in trail] == [
        ("bulletins", "user:pub.a", "success"),
        ("submit", "user:pub.a", "success"),
        ("approve", "user:editor.a", "success"),
    ]
    async with sessionmaker() as session:
        refused = (
            await session.scalars(select(AuditRecord).order_by(AuditRecord.id.desc()).limit(1))
        ).one()
    assert (refused.outcome, refused.status) == ("rejected", 409)


async def test_other_districts_bulletins_are_invisible(
    client: AsyncClient, make_user: MakeUser, areas: list[AreaRecord]
) -> None:
    district_a, district_b = districts_of(areas, LAI_CHAU)[:2]
    publisher_a = await make_user("pub.da", Role.publisher, district_a)
    publisher_b = await make_user("pub.db", Role.publisher, district_b)
    province = await make_user("pub.lc", Role.publisher, LAI_CHAU)
    from_a = (
        await client.post("/api/v1/bulletins", json=text_bulletin(district_a), headers=publisher_a)
    ).json()["id"]
    from_province = (
        await client.post("/api/v1/bulletins", json=text_bulletin(LAI_CHAU), headers=province)
    ).json()["id"]
    assert (await client.get(f"/api/v1/bulletins/{from_a}", headers=publisher_b)).status_code == 404
    assert (await client.get(f"/api/v1/bulletins/{from_a}", headers=province)).status_code == 200
    assert (
        await client.get(f"/api/v1/bulletins/{from_province}", headers=publisher_b)
    ).status_code == 200
    editing = await client.patch(
        f"/api/v1/bulletins/{from_province}", json={"title": "x"}, headers=publisher_b
    )
    assert editing.status_code == 403


async def test_the_served_app_runs_the_clock(
    settings: Settings,
    make_user: MakeUser,
    client: AsyncClient,
    sessionmaker: async_sessionmaker[AsyncSession],
    areas: list[AreaRecord],
) -> None:
    publisher = await make_user("pub.c", Role.publisher, AN_GIANG)
    editor = await make_user("editor.c", Role.editor, AN_GIANG)
    start = datetime.now(UTC) + timedelta(seconds=1)
    bulletin_id = (
        await client.post(
            "/api/v1/bulletins",
            json=text_bulletin(AN_GIANG, valid_from=start.isoformat()),
            headers=publisher,
        )
    ).json()["id"]
    await act(client, bulletin_id, "submit", publisher)
    assert (await act(client, bulletin_id, "approve", editor)).json()["status"] == "scheduled"
    served = create_app(settings.model_copy(update={"clock_seconds": 0.2}))
    async with served.router.lifespan_context(served):
        # Generous: a loaded machine may take seconds to start the app's background work.
        for _ in range(300):
            await asyncio.sleep(0.1)
            async with sessionmaker() as session:
                bulletin = await session.get(Bulletin, bulletin_id)
                if bulletin is not None and bulletin.status == "published":
                    break
    await served.state.engine.dispose()
    assert bulletin is not None
    assert bulletin.status == "published"
    async with sessionmaker() as session:
        last = (
            await session.scalars(select(AuditRecord).order_by(AuditRecord.id.desc()).limit(1))
        ).one()
    assert (last.actor, last.target) == ("system:clock", "published=1,expired=0")


@pytest.mark.parametrize("field", ["title", "language", "media", "targets", "valid_until"])
async def test_a_null_for_a_field_a_bulletin_needs_is_refused_and_changes_nothing(
    client: AsyncClient, make_user: MakeUser, areas: list[AreaRecord], field: str
) -> None:
    editor = await make_user("bientap.null", Role.editor, AN_GIANG)
    created = await client.post("/api/v1/bulletins", json=text_bulletin(AN_GIANG), headers=editor)
    path = f"/api/v1/bulletins/{created.json()['id']}"
    refused = await client.patch(path, json={field: None}, headers=editor)
    assert refused.status_code == 422, refused.text
    assert refused.json()["errors"][0]["field"] == f"body.{field}"
    assert (await client.get(path, headers=editor)).json() == created.json()
