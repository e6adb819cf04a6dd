"""Emergencies from the central system: CAP in, on every targeted endpoint at once."""

import json
import time
from datetime import datetime, timedelta
from typing import Any

from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from nguon.areas.sources import AreaRecord
from tests.central.conftest import NEAR, counts, nothing_on_air, playlist, refused
from tests.central.simulator import VIETNAM, CentralSystem, Info, cap_time, in_hours, message
from tests.conftest import AN_GIANG

SQUARE = "10.35,105.40 10.35,105.46 10.41,105.46 10.41,105.40 10.35,105.40"


async def test_an_alert_is_on_every_endpoint_at_once_and_twice_sent_is_one_bulletin(
    client: AsyncClient, hub: dict[str, Any], sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    alert = message(infos=(Info(expires=in_hours(6)),))
    first = await hub["central"].send(alert)
    assert first.status_code == 201, first.text
    answer = first.json()
    assert answer["answer"] == "accepted"
    [bulletin_id] = answer["alert"]["bulletins"]
    for device in (hub["radio"], hub["board"], hub["far"]):
        [item] = await playlist(client, device)
        assert (item["bulletin_id"], item["priority"], item["level"]) == (
            bulletin_id,
            "emergency",
            "central",
        )
        assert item["title"] == "Cảnh báo lũ quét khẩn cấp"
        assert "nơi an toàn" in item["body"]
        assert item["exercise"] is False
    # The same message again, freshly signed (a retry): nothing new, the original answer.
    again = await hub["central"].send(alert)
    assert again.status_code == 200, again.text
    assert again.json()["answer"] == "duplicate"
    assert again.json()["alert"]["bulletins"] == [bulletin_id]
    assert await counts(sessionmaker) == (1, 1)


async def test_one_language_variant_per_info(client: AsyncClient, hub: dict[str, Any]) -> None:
    english = Info(headline="Flash flood warning", language="en-US", expires=in_hours(2))
    sent = await hub["central"].send(message(infos=(Info(expires=in_hours(2)), english)))
    assert sent.status_code == 201, sent.text
    vietnamese_id, english_id = sent.json()["alert"]["bulletins"]
    admin = hub["admin"]
    translated = (await client.get(f"/api/v1/bulletins/{english_id}", headers=admin)).json()
    assert (translated["language"], translated["translation_of"]) == ("en-US", vietnamese_id)
    # Endpoints speak Vietnamese only (the default): they get the Vietnamese variant.
    assert [i["bulletin_id"] for i in await playlist(client, hub["radio"])] == [vietnamese_id]


async def test_an_update_replaces_the_alert_and_a_cancel_removes_it_everywhere(
    client: AsyncClient, hub: dict[str, Any]
) -> None:
    alert = message(infos=(Info(expires=in_hours(6)),))
    original = (await hub["central"].send(alert)).json()["alert"]["bulletins"][0]
    update = message(
        msg_type="Update",
        references=(alert,),
        infos=(Info(headline="Lũ quét: mở rộng vùng cảnh báo", expires=in_hours(8)),),
    )
    updated = await hub["central"].send(update)
    assert updated.status_code == 201, updated.text
    assert updated.json()["ended"] == [original]
    replacement = updated.json()["alert"]["bulletins"][0]
    for device in (hub["radio"], hub["board"], hub["far"]):
        items = await playlist(client, device)
        assert [(i["bulletin_id"], i["title"]) for i in items] == [
            (replacement, "Lũ quét: mở rộng vùng cảnh báo")
        ]
    shown = await client.get(f"/api/v1/bulletins/{original}", headers=hub["admin"])
    assert shown.json()["status"] == "revoked"
    assert alert.identifier in shown.json()["reason"] or update.identifier in shown.json()["reason"]

    cancel = message(msg_type="Cancel", references=(update,), infos=())
    cancelled = await hub["central"].send(cancel)
    assert cancelled.status_code == 201, cancelled.text
    assert cancelled.json()["ended"] == [replacement]
    for device in (hub["radio"], hub["board"], hub["far"]):
        assert await playlist(client, device) == []


async def test_an_emergency_at_23h_plays_though_every_window_is_closed(
    client: AsyncClient, hub: dict[str, Any]
) -> None:
    sent = await hub["central"].send(message(infos=(Info(expires=in_hours(30)),)))
    bulletin_id = sent.json()["alert"]["bulletins"][0]
    # The next 23:00 in Vietnam: radios (05:00–06:30, 17:00–18:30) and e-boards (to 22:00)
    # are all closed.
    local = datetime.now(VIETNAM)
    at = local.replace(hour=23, minute=0, second=0, microsecond=0)
    if at <= local:
        at += timedelta(days=1)
    at_text = at.isoformat()
    for code in ("AG-RADIO", "AG-BOARD", "AG-FAR"):
        shown = await client.get(
            f"/api/v1/endpoints/{code}/playlist", params={"at": at_text}, headers=hub["admin"]
        )
        assert shown.status_code == 200, shown.text
        body = shown.json()
        assert body["window"]["open"] is False
        assert [i["bulletin_id"] for i in body["items"]] == [bulletin_id]


async def test_geocodes_polygons_and_circles_choose_the_endpoints(
    client: AsyncClient, hub: dict[str, Any]
) -> None:
    by_commune = await hub["central"].send(
        message(infos=(Info(geocodes=(hub["communes"][1],), expires=in_hours(1)),))
    )
    assert by_commune.status_code == 201, by_commune.text
    assert await playlist(client, hub["radio"]) == []
    assert len(await playlist(client, hub["far"])) == 1

    for shape in ({"polygons": (SQUARE,)}, {"circles": (f"{NEAR[0]},{NEAR[1]} 3",)}):
        sent = await hub["central"].send(message(infos=(Info(expires=in_hours(1), **shape),)))
        assert sent.status_code == 201, sent.text
        shaped = sent.json()["alert"]["bulletins"][0]
        assert shaped in [i["bulletin_id"] for i in await playlist(client, hub["radio"])]
        assert shaped in [i["bulletin_id"] for i in await playlist(client, hub["board"])]
        assert shaped not in [i["bulletin_id"] for i in await playlist(client, hub["far"])]


async def test_an_exercise_flows_end_to_end_marked_so(
    client: AsyncClient, hub: dict[str, Any]
) -> None:
    sent = await hub["central"].send(message(status="Exercise", infos=(Info(expires=in_hours(1)),)))
    assert sent.status_code == 201, sent.text
    [item] = await playlist(client, hub["board"])
    assert item["exercise"] is True
    shown = await client.get(f"/api/v1/bulletins/{item['bulletin_id']}", headers=hub["admin"])
    assert shown.json()["exercise"] is True


async def test_each_refusal_is_its_own_answer_and_creates_nothing(
    hub: dict[str, Any], sessionmaker: async_sessionmaker[AsyncSession], areas: list[AreaRecord]
) -> None:
    central: CentralSystem = hub["central"]
    body = message(infos=(Info(expires=in_hours(1)),)).xml()
    # A wrong signature.
    headers = central.headers(body)
    headers["X-Signature"] = "0" * 64
    assert "HMAC-SHA256" in await refused(
        await central.post(body, headers), 401, "signature-invalid"
    )
    # No signature at all.
    unsigned = {k: v for k, v in central.headers(body).items() if k != "X-Signature"}
    await refused(await central.post(body, unsigned), 401, "signature-invalid")
    # A body changed after signing.
    tampered = central.headers(body)
    await refused(
        await central.post(body.replace(b"Actual", b"Test"), tampered), 401, "signature-invalid"
    )
    # An old timestamp, correctly signed.
    stale = central.headers(body, at=time.time() - 600)
    await refused(await central.post(body, stale), 401, "timestamp-out-of-range")
    # An area outside the province: a commune of another province.
    elsewhere = next(r.code for r in areas if r.level == "commune" and r.parent_code != AN_GIANG)
    outside = message(infos=(Info(geocodes=(elsewhere,), expires=in_hours(1)),)).xml()
    detail = await refused(
        await central.post(outside, central.headers(outside)), 422, "area-outside-province"
    )
    assert elsewhere in detail
    # A polygon far from every endpoint of the province.
    ocean = "0.1,0.1 0.1,0.2 0.2,0.2 0.2,0.1 0.1,0.1"
    at_sea = message(infos=(Info(polygons=(ocean,), expires=in_hours(1)),)).xml()
    await refused(await central.post(at_sea, central.headers(at_sea)), 422, "area-outside-province")
    # Schema-invalid: the validator's message comes back.
    invalid = body.replace(b"<msgType>Alert</msgType>", b"<msgType>Alarm</msgType>")
    detail = await refused(
        await central.post(invalid, central.headers(invalid)), 400, "schema-invalid"
    )
    assert "msgType" in detail or "Alarm" in detail
    # Already expired.
    expired = message(infos=(Info(expires=in_hours(-1)),)).xml()
    await refused(await central.post(expired, central.headers(expired)), 422, "alert-expired")
    # An Update of an alert never received.
    ghost = message()
    orphan = message(msg_type="Update", references=(ghost,), infos=(Info(expires=in_hours(1)),))
    await refused(await central.send(orphan), 422, "reference-missing")
    assert await counts(sessionmaker) == (0, 0)


async def test_a_replayed_request_is_refused(
    hub: dict[str, Any], sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    central: CentralSystem = hub["central"]
    body = message(infos=(Info(expires=in_hours(1)),)).xml()
    headers = central.headers(body)
    assert (await central.post(body, headers)).status_code == 201
    await refused(await central.post(body, headers), 409, "signature-replayed")
    assert await counts(sessionmaker) == (1, 1)


async def test_json_carries_the_same_alert(client: AsyncClient, hub: dict[str, Any]) -> None:
    alert = message()
    document = {
        "identifier": alert.identifier,
        "sender": alert.sender,
        "sent": alert.sent,
        "status": "Actual",
        "msgType": "Alert",
        "scope": "Public",
        "info": [
            {
                "language": "vi-VN",
                "category": ["Met"],
                "event": "Bão",
                "urgency": "Immediate",
                "severity": "Severe",
                "certainty": "Likely",
                "headline": "Bão số 9 đổ bộ",
                "description": "Gió mạnh cấp 12.",
                "expires": cap_time(in_hours(2)),
                "area": [
                    {
                        "areaDesc": "Xã",
                        "geocode": [{"valueName": "VN-ADMIN", "value": hub["communes"][0]}],
                    }
                ],
            }
        ],
    }
    body = json.dumps(document, ensure_ascii=False).encode()
    sent = await hub["central"].post(body, hub["central"].headers(body, "application/json"))
    assert sent.status_code == 201, sent.text
    [item] = await playlist(client, hub["radio"])
    assert item["title"] == "Bão số 9 đổ bộ"
    assert await playlist(client, hub["far"]) == []


async def test_only_a_central_key_may_send(client: AsyncClient, hub: dict[str, Any]) -> None:
    body = message(infos=(Info(expires=in_hours(1)),)).xml()
    response = await client.post(
        "/api/v1/central/alerts",
        content=body,
        headers={**hub["admin"], "Content-Type": "application/cap+xml"},
    )
    assert response.status_code == 403


async def test_an_alert_that_would_sound_nowhere_is_refused(
    client: AsyncClient, hub: dict[str, Any], sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    central: CentralSystem = hub["central"]
    # A commune of the province without any endpoint.
    empty_commune = hub["communes"][2]
    detail = await refused(
        await central.send(message(infos=(Info(geocodes=(empty_commune,), expires=in_hours(1)),))),
        422,
        "no-endpoint",
    )
    assert empty_commune in detail
    # The whole province, but in a language no endpoint speaks.
    english = Info(language="en-US", headline="Flash flood", expires=in_hours(1))
    await refused(await central.send(message(infos=(english,))), 422, "no-endpoint")
    assert await counts(sessionmaker) == (0, 0)
    assert await playlist(client, hub["radio"]) == []


async def test_a_foreign_code_that_looks_like_a_commune_code_targets_nothing(
    client: AsyncClient, hub: dict[str, Any], sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    # Atlanta's ZIP code 30301 is also the code of an An Giang commune.
    far_commune = hub["communes"][1]
    zip_only = Info(foreign_geocodes=(("ZIP", far_commune),), expires=in_hours(1))
    await refused(await hub["central"].send(message(infos=(zip_only,))), 422, "no-endpoint")
    assert await playlist(client, hub["far"]) == []
    assert await counts(sessionmaker) == (0, 0)


async def test_an_area_is_targeted_by_the_hubs_geocodes_whatever_else_it_carries(
    client: AsyncClient, hub: dict[str, Any]
) -> None:
    foreign = (("SAME", "013121"), ("UGC", "GAZ044"), ("FIPS6", "013121"))
    both = Info(geocodes=(hub["communes"][1],), foreign_geocodes=foreign, expires=in_hours(1))
    sent = await hub["central"].send(message(infos=(both,)))
    assert sent.status_code == 201, sent.text
    [bulletin_id] = sent.json()["alert"]["bulletins"]
    assert [i["bulletin_id"] for i in await playlist(client, hub["far"])] == [bulletin_id]
    assert await playlist(client, hub["radio"]) == []


async def test_an_info_the_hub_cannot_place_does_not_hold_back_the_others(
    client: AsyncClient, hub: dict[str, Any]
) -> None:
    placed = Info(geocodes=(hub["communes"][0],), expires=in_hours(1))
    unplaced = Info(language="en-US", foreign_geocodes=(("UGC", "GAZ044"),), expires=in_hours(1))
    sent = await hub["central"].send(message(infos=(placed, unplaced)))
    assert sent.status_code == 201, sent.text
    [bulletin_id] = sent.json()["alert"]["bulletins"]
    assert [i["bulletin_id"] for i in await playlist(client, hub["radio"])] == [bulletin_id]


async def test_an_update_that_has_expired_still_ends_what_it_supersedes(
    client: AsyncClient, hub: dict[str, Any], sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    central: CentralSystem = hub["central"]
    alert = message(infos=(Info(expires=in_hours(6)),))
    [original] = (await central.send(alert)).json()["alert"]["bulletins"]
    ending = message(msg_type="Update", references=(alert,), infos=(Info(expires=in_hours(-1)),))
    ended = await central.send(ending)
    assert ended.status_code == 201, ended.text
    assert ended.json()["ended"] == [original]
    assert ended.json()["alert"]["bulletins"] == []  # it itself goes on air nowhere
    await nothing_on_air(client, hub)
    # The chain is over: a Cancel of either message finds it off the air.
    for referenced in (alert, ending):
        cancel = message(msg_type="Cancel", references=(referenced,), infos=())
        detail = await refused(await central.send(cancel), 410, "reference-expired")
        assert referenced.identifier in detail
    assert await counts(sessionmaker) == (1, 2)


async def test_referencing_any_message_of_a_chain_concerns_what_is_on_air_from_it(
    client: AsyncClient, hub: dict[str, Any]
) -> None:
    central: CentralSystem = hub["central"]
    alert = message(infos=(Info(expires=in_hours(6)),))
    await central.send(alert)
    update = message(msg_type="Update", references=(alert,), infos=(Info(expires=in_hours(6)),))
    [updated] = (await central.send(update)).json()["alert"]["bulletins"]
    # A second Update that references only the original replaces the first Update.
    again = message(msg_type="Update", references=(alert,), infos=(Info(expires=in_hours(6)),))
    replaced = await central.send(again)
    assert replaced.status_code == 201, replaced.text
    assert replaced.json()["ended"] == [updated]
    [latest] = replaced.json()["alert"]["bulletins"]
    assert [i["bulletin_id"] for i in await playlist(client, hub["radio"])] == [latest]
    # A Cancel that references only the original ends the whole chain.
    cancel = message(msg_type="Cancel", references=(alert,), infos=())
    cancelled = await central.send(cancel)
    assert cancelled.status_code == 201, cancelled.text
    assert cancelled.json()["ended"] == [latest]
    await nothing_on_air(client, hub)


async def test_restricted_and_private_messages_never_reach_public_endpoints(
    client: AsyncClient, hub: dict[str, Any], sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    central: CentralSystem = hub["central"]
    for scope, addressing in (
        ("Restricted", "<restriction>Chỉ dành cho Ban chỉ huy phòng chống thiên tai</restriction>"),
        ("Private", "<addresses>bchpctt@angiang.gov.vn</addresses>"),
    ):
        sent = message(scope=scope, infos=(Info(expires=in_hours(1)),))
        body = sent.xml().replace(b"</scope>", f"</scope>{addressing}".encode())
        detail = await refused(await central.post(body, central.headers(body)), 422, "not-public")
        assert scope in detail
    assert await counts(sessionmaker) == (0, 0)
    await nothing_on_air(client, hub)


async def test_messages_for_systems_and_empty_alerts_are_not_actionable(
    client: AsyncClient, hub: dict[str, Any], sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    central: CentralSystem = hub["central"]
    alert = message(infos=(Info(expires=in_hours(6)),))
    [on_air] = (await central.send(alert)).json()["alert"]["bulletins"]
    for sent in (
        message(status="Draft", infos=(Info(expires=in_hours(1)),)),
        message(status="System", infos=(Info(expires=in_hours(1)),)),
        message(msg_type="Ack", references=(alert,), infos=(Info(expires=in_hours(1)),)),
        message(msg_type="Error", references=(alert,), infos=(Info(expires=in_hours(1)),)),
        message(infos=()),
    ):
        await refused(await central.send(sent), 422, "not-actionable")
    # Nothing new on air, and nothing taken off.
    assert [i["bulletin_id"] for i in await playlist(client, hub["radio"])] == [on_air]
    assert await counts(sessionmaker) == (1, 1)
