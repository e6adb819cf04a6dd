"""As-run records: devices report what they played; the hub keeps each once, as proof of play."""

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from httpx import AsyncClient

from nguon.areas.sources import AreaRecord
from nguon.identity.roles import Role
from tests.bulletins.test_workflow import act, text_bulletin
from tests.conftest import AN_GIANG, MakeEndpoint, MakeUser, communes_of
from tests.dispatch.test_queue import publish

PROBLEM = "application/problem+json"


@pytest.fixture
async def hub(
    client: AsyncClient, make_user: MakeUser, make_endpoint: MakeEndpoint, areas: list[AreaRecord]
) -> dict[str, Any]:
    """A radio in commune A; one bulletin for A, one for commune B only."""
    commune_a, commune_b = communes_of(areas, AN_GIANG)[:2]
    device = await make_endpoint("PLAY-RADIO", "radio", commune_a)
    await make_endpoint("PLAY-OTHER", "radio", commune_b)
    publisher = await make_user("plays.publisher", Role.publisher, AN_GIANG)
    editor = await make_user("plays.editor", Role.editor, AN_GIANG)
    return {
        "device": device,
        "publisher": publisher,
        "editor": editor,
        "ours": await publish(client, publisher, editor, text_bulletin(commune_a)),
        "theirs": await publish(client, publisher, editor, text_bulletin(commune_b)),
    }


def play(
    client_id: str, bulletin_id: str, outcome: str = "played", minutes_ago: int = 30
) -> dict[str, Any]:
    started = datetime.now(UTC) - timedelta(minutes=minutes_ago)
    return {
        "id": client_id,
        "bulletin_id": bulletin_id,
        "started_at": started.isoformat(),
        "ended_at": (started + timedelta(minutes=3)).isoformat(),
        "outcome": outcome,
    }


async def report(client: AsyncClient, hub: dict[str, Any], *plays: dict[str, Any]) -> Any:
    return await client.post(
        "/api/v1/device/plays", json={"plays": list(plays)}, headers=hub["device"]
    )


async def delivery(client: AsyncClient, hub: dict[str, Any], bulletin_id: str) -> dict[str, Any]:
    response = await client.get(
        f"/api/v1/bulletins/{bulletin_id}/deliveries", headers=hub["editor"]
    )
    assert response.status_code == 200, response.text
    (item,) = [i for i in response.json()["items"] if i["endpoint"] == "PLAY-RADIO"]
    return dict(item)


async def plays_of(client: AsyncClient, hub: dict[str, Any], bulletin_id: str) -> list[Any]:
    response = await client.get(f"/api/v1/bulletins/{bulletin_id}/plays", headers=hub["editor"])
    assert response.status_code == 200, response.text
    return list(response.json()["items"])


async def test_plays_are_stored_once_and_mark_the_delivery_played(
    client: AsyncClient, hub: dict[str, Any]
) -> None:
    ours = hub["ours"]
    assert (await delivery(client, hub, ours))["status"] == "pending"
    first = await report(
        client,
        hub,
        play("dev-1", ours, "interrupted", minutes_ago=60),
        play("dev-2", ours, "played", minutes_ago=30),
    )
    assert first.status_code == 200, first.text
    assert first.json() == {"accepted": 2, "duplicates": 0}
    assert (await delivery(client, hub, ours))["status"] == "played"

    # The backlog again after an outage, with one new record repeated inside the batch.
    again = await report(
        client,
        hub,
        play("dev-1", ours, "interrupted", minutes_ago=60),
        play("dev-2", ours, "played", minutes_ago=30),
        play("dev-3", ours, "played", minutes_ago=10),
        play("dev-3", ours, "played", minutes_ago=10),
    )
    assert again.status_code == 200, again.text
    assert again.json() == {"accepted": 1, "duplicates": 3}

    stored = await plays_of(client, hub, ours)
    assert [(p["endpoint"], p["outcome"], p["revision"]) for p in stored] == [
        ("PLAY-RADIO", "played", 1),
        ("PLAY-RADIO", "played", 1),
        ("PLAY-RADIO", "interrupted", 1),
    ]
    starts = [datetime.fromisoformat(p["started_at"]) for p in stored]
    assert starts == sorted(starts, reverse=True)


async def test_a_play_of_a_bulletin_never_delivered_refuses_the_whole_batch(
    client: AsyncClient, hub: dict[str, Any]
) -> None:
    ours, theirs = hub["ours"], hub["theirs"]
    refused = await report(client, hub, play("ok-1", ours), play("stray-1", theirs))
    assert refused.status_code == 422, refused.text
    assert refused.headers["content-type"] == PROBLEM
    assert refused.json()["ids"] == ["stray-1"]
    assert "stray-1" in refused.json()["detail"]
    assert await plays_of(client, hub, ours) == []
    assert await plays_of(client, hub, theirs) == []
    assert (await delivery(client, hub, ours))["status"] == "pending"

    corrected = await report(client, hub, play("ok-1", ours))
    assert corrected.json() == {"accepted": 1, "duplicates": 0}
    assert len(await plays_of(client, hub, ours)) == 1


async def test_a_failed_play_fails_the_delivery_until_it_plays(
    client: AsyncClient, hub: dict[str, Any]
) -> None:
    ours = hub["ours"]
    await report(client, hub, play("f-1", ours, "failed", minutes_ago=40))
    failed = await delivery(client, hub, ours)
    assert (failed["status"], failed["detail"]) == ("failed", "the device reported a failed play")
    await report(client, hub, play("f-2", ours, "played", minutes_ago=20))
    played = await delivery(client, hub, ours)
    assert (played["status"], played["detail"]) == ("played", None)
    # A later failure does not undo the proof that it played.
    await report(client, hub, play("f-3", ours, "failed", minutes_ago=5))
    assert (await delivery(client, hub, ours))["status"] == "played"


async def test_plays_of_a_revoked_bulletin_are_kept_without_reviving_it(
    client: AsyncClient, hub: dict[str, Any]
) -> None:
    ours = hub["ours"]
    revoked = await act(client, ours, "revoke", hub["editor"], reason="Thông tin sai")
    assert revoked.status_code == 200, revoked.text
    assert (await delivery(client, hub, ours))["status"] == "revoked"
    backlog = await report(client, hub, play("r-1", ours, "played", minutes_ago=90))
    assert backlog.json() == {"accepted": 1, "duplicates": 0}
    assert (await delivery(client, hub, ours))["status"] == "revoked"
    assert len(await plays_of(client, hub, ours)) == 1


async def test_bad_play_records_are_refused(client: AsyncClient, hub: dict[str, Any]) -> None:
    ours = hub["ours"]
    backwards = play("b-1", ours)
    backwards["ended_at"], backwards["started_at"] = backwards["started_at"], backwards["ended_at"]
    cases = [
        ({"plays": [backwards]}, "ended_at is before started_at"),
        ({"plays": [play("b-2", ours, minutes_ago=-60)]}, "ahead of the hub's clock"),
        ({"plays": [{**play("b-3", ours), "started_at": "2026-03-01T05:00:00"}]}, "timezone"),
        ({"plays": [{**play("b-4", ours), "outcome": "skipped"}]}, "body.plays.0.outcome"),
        ({"plays": [play("", ours)]}, "body.plays.0.id"),
        ({"plays": []}, "body.plays"),
    ]
    for body, says in cases:
        response = await client.post("/api/v1/device/plays", json=body, headers=hub["device"])
        assert response.status_code == 422, (body, response.text)
        assert response.headers["content-type"] == PROBLEM
        assert says in response.text, (says, response.text)
    assert await plays_of(client, hub, ours) == []


async def test_only_devices_report_plays_and_only_overseers_read_them(
    client: AsyncClient, hub: dict[str, Any]
) -> None:
    ours = hub["ours"]
    person = await client.post(
        "/api/v1/device/plays", json={"plays": [play("p-1", ours)]}, headers=hub["publisher"]
    )
    assert person.status_code == 403
    assert person.headers["content-type"] == PROBLEM
    heartbeat = await client.post(
        "/api/v1/device/heartbeat", json={"status": "ok"}, headers=hub["editor"]
    )
    assert heartbeat.status_code == 403
    reading = await client.get(f"/api/v1/bulletins/{ours}/plays", headers=hub["publisher"])
    assert reading.status_code == 403
    device_reading = await client.get(f"/api/v1/bulletins/{ours}/plays", headers=hub["device"])
    assert device_reading.status_code == 403
