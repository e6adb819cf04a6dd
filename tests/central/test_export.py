"""Emergency bulletins out as CAP 1.2: what the hub put on air, readable by other alerting
systems, and taken back in by the hub's own intake."""

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from nguon.areas.sources import AreaRecord
from nguon.bulletins.enums import Category
from nguon.bulletins.service import BulletinService
from nguon.central.cap import CapAlert, CapCircle, CapGeocode, CapReference, parse_xml
from nguon.central.export import CAP_CATEGORY
from nguon.central.service import CATEGORY_OF
from nguon.identity.roles import Role
from tests.central.simulator import CentralSystem, Info, in_hours, message
from tests.conftest import (
    AN_GIANG,
    LAI_CHAU,
    MakeEndpoint,
    MakeKey,
    MakeUser,
    communes_of,
    districts_of,
)

PROBLEM = "application/problem+json"
MEDIA = Path(__file__).resolve().parent.parent / "fixtures" / "media"
NEAR = (10.38, 105.43)
# CAP 1.2 §3.2.2.
CAP_CATEGORIES = {
    "Geo", "Met", "Safety", "Security", "Rescue", "Fire", "Health", "Env", "Transport", "Infra",
    "CBRNE", "Other",
}  # fmt: skip


@pytest.fixture
async def central(
    client: AsyncClient, make_key: MakeKey, make_endpoint: MakeEndpoint, areas: list[AreaRecord]
) -> CentralSystem:
    """The central system's key, and a radio for its alerts to sound on (the intake refuses an
    alert that reaches no endpoint)."""
    await make_endpoint("AG-LOA", "radio", communes_of(areas, AN_GIANG)[0])
    key = await make_key("central-system", Role.central, AN_GIANG)
    return CentralSystem(client, key["X-Api-Key"])


@pytest.fixture
async def editor(make_user: MakeUser) -> dict[str, str]:
    return await make_user("tinh.editor", Role.editor, AN_GIANG)


def emergency(targets: list[str], **overrides: Any) -> dict[str, Any]:
    return {
        "title": "Cảnh báo sạt lở bờ sông",
        "kind": "text",
        "body": "Người dân ven sông Hậu di dời ngay.",
        "language": "vi",
        "category": "disaster_fire_epidemic",
        "priority": "emergency",
        "targets": targets,
        "valid_until": in_hours(12).isoformat(),
        **overrides,
    }


async def on_air(client: AsyncClient, bulletin: dict[str, Any], editor: dict[str, str]) -> str:
    """Create, submit and approve: the bulletin's id."""
    created = await client.post("/api/v1/bulletins", json=bulletin, headers=editor)
    assert created.status_code == 201, created.text
    bulletin_id = str(created.json()["id"])
    await approve(client, bulletin_id, editor)
    return bulletin_id


async def approve(client: AsyncClient, bulletin_id: str, editor: dict[str, str]) -> None:
    for action in ("submit", "approve"):
        done = await client.post(f"/api/v1/bulletins/{bulletin_id}/{action}", headers=editor)
        assert done.status_code == 200, done.text


async def exported(client: AsyncClient, bulletin_id: str, headers: dict[str, str]) -> CapAlert:
    response = await client.get(f"/api/v1/bulletins/{bulletin_id}/cap", headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/cap+xml"
    return parse_xml(response.content)


async def test_a_central_alert_in_two_languages_exports_as_one_valid_message(
    client: AsyncClient, central: CentralSystem, editor: dict[str, str], areas: list[AreaRecord]
) -> None:
    commune = communes_of(areas, AN_GIANG)[0]
    expires = in_hours(6)
    english = Info(headline="Flash flood warning", language="en-US", expires=expires)
    sent = await central.send(message(infos=(Info(expires=expires, geocodes=(commune,)), english)))
    assert sent.status_code == 201, sent.text
    vietnamese_id, english_id = sent.json()["alert"]["bulletins"]

    alert = await exported(client, vietnamese_id, editor)
    assert (alert.identifier, alert.sender) == (f"{vietnamese_id}.1", f"nguon@{AN_GIANG}")
    assert (alert.status, alert.msg_type, alert.scope, alert.references) == (
        "Actual",
        "Alert",
        "Public",
        (),
    )
    assert alert.sent_text.endswith("+07:00")
    assert [info.language for info in alert.infos] == ["vi-VN", "en-US"]
    assert [info.headline for info in alert.infos] == [
        "Cảnh báo lũ quét khẩn cấp",
        english.headline,
    ]
    vietnamese = alert.infos[0]
    # The central system's Met came in as disasters, which go out as CAP's Safety.
    assert (vietnamese.categories, vietnamese.urgency, vietnamese.sender_name) == (
        ("Safety",),
        "Immediate",
        "Trung tâm nguồn",
    )
    assert vietnamese.expires == expires.replace(microsecond=0)
    assert "nơi an toàn" in (vietnamese.description or "")
    assert [area.geocodes for area in vietnamese.areas] == [(CapGeocode("VN-ADMIN", commune),)]
    # No area in the English info: the whole province.
    assert [area.geocodes for area in alert.infos[1].areas] == [(CapGeocode("VN-ADMIN", AN_GIANG),)]
    # Asked for by its translation, the alert is the same message.
    assert await exported(client, english_id, editor) == alert


async def test_an_exercise_exports_as_an_exercise(
    client: AsyncClient, central: CentralSystem, editor: dict[str, str]
) -> None:
    sent = await central.send(message(status="Exercise", infos=(Info(expires=in_hours(1)),)))
    assert sent.status_code == 201, sent.text
    [bulletin_id] = sent.json()["alert"]["bulletins"]
    assert (await exported(client, bulletin_id, editor)).status == "Exercise"


async def test_a_provincial_emergency_exports_its_targets_and_the_intake_takes_it_back(
    client: AsyncClient,
    central: CentralSystem,
    editor: dict[str, str],
    make_endpoint: MakeEndpoint,
    areas: list[AreaRecord],
) -> None:
    first, second, third = communes_of(areas, AN_GIANG)[:3]
    names = {record.code: record.name for record in areas}
    await make_endpoint("AG-RADIO", "radio", second, latitude=NEAR[0], longitude=NEAR[1])
    await make_endpoint("AG-UNPLACED", "radio", third)  # no GPS position
    bulletin_id = await on_air(
        client,
        emergency([first, "AG-RADIO", "AG-UNPLACED"], contributor="Đài KTTV An Giang"),
        editor,
    )
    alert = await exported(client, bulletin_id, editor)
    assert (alert.identifier, alert.msg_type, alert.status) == (
        f"{bulletin_id}.1",
        "Alert",
        "Actual",
    )
    [info] = alert.infos
    assert (info.language, info.categories, info.sender_name) == (
        "vi",
        ("Safety",),
        "Đài KTTV An Giang",
    )
    [area] = info.areas
    # The unplaced radio is given by its commune; the placed one by its exact position.
    assert area.geocodes == (CapGeocode("VN-ADMIN", first), CapGeocode("VN-ADMIN", third))
    assert area.circles == (CapCircle(NEAR[0], NEAR[1], 0.0),)
    assert area.area_desc == ", ".join(names[code] for code in (first, second, third))

    # Sent by the central system to this hub, the export reaches the same places again.
    body = (await client.get(f"/api/v1/bulletins/{bulletin_id}/cap", headers=editor)).content
    taken = await central.post(body, central.headers(body))
    assert taken.status_code == 201, taken.text
    [again_id] = taken.json()["alert"]["bulletins"]
    again = (await client.get(f"/api/v1/bulletins/{again_id}", headers=editor)).json()
    assert sorted(again["targets"]) == sorted([first, third, "AG-RADIO"])
    assert (again["title"], again["category"]) == (
        "Cảnh báo sạt lở bờ sông",
        "disaster_fire_epidemic",
    )


async def test_a_revoked_bulletin_exports_as_a_cancel(
    client: AsyncClient, editor: dict[str, str]
) -> None:
    bulletin_id = await on_air(client, emergency([AN_GIANG]), editor)
    alert = await exported(client, bulletin_id, editor)
    revoked = await client.post(
        f"/api/v1/bulletins/{bulletin_id}/revoke",
        json={"reason": "Nước đã rút, hết nguy cơ"},
        headers=editor,
    )
    assert revoked.status_code == 200, revoked.text
    cancel = await exported(client, bulletin_id, editor)
    assert (cancel.msg_type, cancel.identifier, cancel.note) == (
        "Cancel",
        f"{bulletin_id}.1.cancel",
        "Nước đã rút, hết nguy cơ",
    )
    assert cancel.references == (CapReference(alert.sender, alert.identifier, alert.sent_text),)
    assert cancel.sent >= alert.sent


async def test_a_revised_bulletin_exports_as_an_update_of_the_revision_before(
    client: AsyncClient, editor: dict[str, str]
) -> None:
    bulletin_id = await on_air(client, emergency([AN_GIANG]), editor)
    first = await exported(client, bulletin_id, editor)
    edited = await client.patch(
        f"/api/v1/bulletins/{bulletin_id}",
        json={"title": "Sạt lở bờ sông: mở rộng vùng di dời"},
        headers=editor,
    )
    assert edited.status_code == 200, edited.text
    # Until approved, the edit is not on air: the export still says what is.
    assert await exported(client, bulletin_id, editor) == first
    await approve(client, bulletin_id, editor)
    update = await exported(client, bulletin_id, editor)
    assert (update.msg_type, update.identifier) == ("Update", f"{bulletin_id}.2")
    assert update.references == (CapReference(first.sender, first.identifier, first.sent_text),)
    assert update.infos[0].headline == "Sạt lở bờ sông: mở rộng vùng di dời"


async def test_an_expired_bulletin_still_exports(
    client: AsyncClient, editor: dict[str, str], sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    bulletin_id = await on_air(client, emergency([AN_GIANG]), editor)
    async with sessionmaker() as session:
        await BulletinService(session).advance_clock(datetime.now(UTC) + timedelta(days=1))
        await session.commit()
    shown = await client.get(f"/api/v1/bulletins/{bulletin_id}", headers=editor)
    assert shown.json()["status"] == "expired"
    alert = await exported(client, bulletin_id, editor)
    assert (alert.msg_type, alert.identifier) == ("Alert", f"{bulletin_id}.1")


async def test_only_an_emergency_that_went_on_air_exports(
    client: AsyncClient, editor: dict[str, str]
) -> None:
    normal = await on_air(client, emergency([AN_GIANG], priority="normal"), editor)
    refused = await client.get(f"/api/v1/bulletins/{normal}/cap", headers=editor)
    assert refused.status_code == 409, refused.text
    assert refused.headers["content-type"] == PROBLEM
    assert refused.json()["priority"] == "normal"
    assert "Only emergency bulletins export as CAP" in refused.json()["detail"]

    draft = await client.post("/api/v1/bulletins", json=emergency([AN_GIANG]), headers=editor)
    unapproved = await client.get(f"/api/v1/bulletins/{draft.json()['id']}/cap", headers=editor)
    assert unapproved.status_code == 409, unapproved.text
    assert "never been approved" in unapproved.json()["detail"]


async def test_outside_the_bulletin_area_there_is_no_such_bulletin(
    client: AsyncClient, make_user: MakeUser, editor: dict[str, str], areas: list[AreaRecord]
) -> None:
    provincial = await on_air(client, emergency([AN_GIANG]), editor)
    elsewhere = await make_user("laichau.viewer", Role.viewer, LAI_CHAU)
    hidden = await client.get(f"/api/v1/bulletins/{provincial}/cap", headers=elsewhere)
    assert hidden.status_code == 404, hidden.text
    assert hidden.headers["content-type"] == PROBLEM
    # Below the province, the province's bulletin is seen.
    commune = communes_of(areas, AN_GIANG)[0]
    inside = await make_user("xa.viewer", Role.viewer, commune)
    assert (await exported(client, provincial, inside)).identifier == f"{provincial}.1"

    # A district's bulletin is not seen from the district next to it.
    district, neighbour = districts_of(areas, LAI_CHAU)[:2]
    district_editor = await make_user("huyen.editor", Role.editor, district)
    local = await on_air(client, emergency([communes_of(areas, district)[0]]), district_editor)
    next_door = await make_user("huyen.viewer", Role.viewer, neighbour)
    assert (
        await client.get(f"/api/v1/bulletins/{local}/cap", headers=next_door)
    ).status_code == 404


async def test_an_audio_emergency_exports_its_media_as_a_resource(
    client: AsyncClient, editor: dict[str, str]
) -> None:
    mp3 = (MEDIA / "tone.mp3").read_bytes()
    uploaded = await client.post(
        "/api/v1/media", files={"file": ("canh-bao.mp3", mp3, "audio/mpeg")}, headers=editor
    )
    assert uploaded.status_code == 201, uploaded.text
    media_id = uploaded.json()["id"]
    bulletin_id = await on_air(
        client, emergency([AN_GIANG], kind="audio", body=None, media=[media_id]), editor
    )
    [info] = (await exported(client, bulletin_id, editor)).infos
    [resource] = info.resources
    assert (resource.mime_type, resource.size, resource.uri) == (
        "audio/mpeg",
        len(mp3),
        f"http://hub.test/api/v1/media/{media_id}",
    )
    assert resource.resource_desc == "audio: canh-bao.mp3"
    assert info.description is None
    fetched = await client.get(resource.uri, headers=editor)
    assert fetched.status_code == 200


def test_every_category_has_the_closest_cap_category() -> None:
    assert set(CAP_CATEGORY) == set(Category)
    assert set(CAP_CATEGORY.values()) <= CAP_CATEGORIES
    # What the intake reads a CAP category as goes back out as that category.
    for cap_category, category in CATEGORY_OF.items():
        assert CAP_CATEGORY[category] == cap_category
