"""Vendor webhooks: an endpoint with a push URL is told of its events by a signed POST, retried
until its gateway takes it or what it announces has ended, every attempt on record.

The gateway is a real HTTP server on a local port that checks signatures as a vendor would;
events come from the outbox through the webhook consumer, and the pusher is driven by hand."""

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from contextlib import suppress
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from httpx import AsyncClient
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from nguon.areas.sources import AreaRecord
from nguon.audit.models import AuditRecord
from nguon.dispatch.reconciler import Reconciler
from nguon.identity.roles import Role
from nguon.kit.bus import Record
from nguon.kit.changes import ChangeFeed
from nguon.kit.consumers import Event, idempotent
from nguon.kit.db import create_sessionmaker, utcnow
from nguon.kit.outbox import Outbox
from nguon.kit.settings import Settings
from nguon.kit.signing import verify
from nguon.push.models import Notification
from nguon.push.webhooks import Pusher, record_notifications
from nguon.worker import WEBHOOK_CONSUMER
from tests.bulletins.test_workflow import act, text_bulletin
from tests.conftest import AN_GIANG, LAI_CHAU, MakeEndpoint, MakeUser, communes_of
from tests.dispatch.test_deliveries import publish
from tests.gateway import TOLERANCE_SECONDS, Gateway

# How long a test waits for what it expects before it fails (an upper bound, not a measure).
WAIT_SECONDS = 5
PROBLEM = "application/problem+json"
PUSH = "A-PUSH"


@pytest.fixture
async def parties(
    make_user: MakeUser,
    make_endpoint: MakeEndpoint,
    areas: list[AreaRecord],
    gateway: Gateway,
) -> dict[str, Any]:
    """Two radios in one commune, one with a push URL to the gateway; the province's
    publisher, editor and admin."""
    commune = communes_of(areas, AN_GIANG)[0]
    return {
        "commune": commune,
        "device": await make_endpoint(PUSH, "radio", commune, push_url=gateway.url),
        "plain": await make_endpoint("A-PLAIN", "radio", commune),
        "publisher": await make_user("push.publisher", Role.publisher, AN_GIANG),
        "editor": await make_user("push.editor", Role.editor, AN_GIANG),
        "admin": await make_user("push.admin", Role.admin, AN_GIANG),
    }


@pytest.fixture
async def pusher(
    sessionmaker: async_sessionmaker[AsyncSession], settings: Settings
) -> AsyncIterator[Pusher]:
    """A pusher that retries quickly: first after 50 ms, doubling."""
    running = Pusher(sessionmaker, settings.model_copy(update={"push_retry_seconds": 0.05}))
    try:
        yield running
    finally:
        await running.aclose()


async def relay(sessionmaker: async_sessionmaker[AsyncSession]) -> list[Record]:
    """What the outbox relay publishes now, handed to the webhook consumer as the bus would;
    returns the records, so that a test can deliver them again."""
    async with sessionmaker() as session:
        outbox = Outbox(session)
        events = await outbox.unpublished(1_000)
        records = [Record(e.topic, e.key, e.as_json().encode()) for e in events]
        await outbox.mark_published([e.id for e in events])
        await session.commit()
    if records:
        await idempotent(sessionmaker, WEBHOOK_CONSUMER, record_notifications)(records)
    return records


async def push_until(pusher: Pusher, done: Callable[[], bool]) -> None:
    async with asyncio.timeout(WAIT_SECONDS):
        while not done():
            await pusher.push_due()
            await asyncio.sleep(0.02)


async def new_secret(client: AsyncClient, parties: dict[str, Any]) -> str:
    response = await client.post(f"/api/v1/endpoints/{PUSH}/push-secret", headers=parties["admin"])
    assert response.status_code == 200, response.text
    assert response.json()["endpoint"] == PUSH
    return str(response.json()["push_secret"])


async def notifications(client: AsyncClient, parties: dict[str, Any]) -> list[dict[str, Any]]:
    response = await client.get(
        f"/api/v1/endpoints/{PUSH}/notifications", headers=parties["editor"]
    )
    assert response.status_code == 200, response.text
    return list(response.json()["items"])


async def deliveries(
    client: AsyncClient, parties: dict[str, Any], bulletin_id: str
) -> dict[str, dict[str, Any]]:
    response = await client.get(
        f"/api/v1/bulletins/{bulletin_id}/deliveries", headers=parties["editor"]
    )
    assert response.status_code == 200, response.text
    return {item["endpoint"]: item for item in response.json()["items"]}


async def notification_count(sessionmaker: async_sessionmaker[AsyncSession]) -> int:
    async with sessionmaker() as session:
        return await session.scalar(select(func.count()).select_from(Notification)) or 0


async def test_a_signed_notification_reaches_the_gateway_and_acknowledges_the_delivery(
    client: AsyncClient,
    parties: dict[str, Any],
    gateway: Gateway,
    pusher: Pusher,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    gateway.secret = await new_secret(client, parties)
    await gateway.start()
    bulletin_id = await publish(
        client, parties, text_bulletin(parties["commune"], priority="emergency")
    )
    await relay(sessionmaker)
    assert await pusher.push_due() == 1

    (request,) = gateway.requests
    assert request.headers["content-type"] == "application/json"
    (notification,) = gateway.received.values()
    assert notification["id"] == request.headers["x-nguon-notification"]
    assert notification["type"] == "emergency"
    assert notification["endpoint"] == PUSH
    assert notification["bulletin"]["id"] == bulletin_id
    assert notification["bulletin"]["revision"] == 1
    assert set(notification) == {
        "id",
        "event_id",
        "type",
        "endpoint",
        "playlist_version",
        "bulletin",
        "at",
    }
    stamp, signature = request.headers["x-timestamp"], request.headers["x-signature"]
    assert verify(gateway.secret, stamp, request.body, signature, TOLERANCE_SECONDS)
    tampered = request.body.replace(b'"emergency"', b'"publication"')
    assert not verify(gateway.secret, stamp, tampered, signature, TOLERANCE_SECONDS)
    stale = str(int(stamp) - 2 * TOLERANCE_SECONDS)
    assert not verify(gateway.secret, stale, request.body, signature, TOLERANCE_SECONDS)

    delivered = await deliveries(client, parties, bulletin_id)
    assert delivered[PUSH]["status"] == "acked"
    assert delivered["A-PLAIN"]["status"] == "pending"  # no push URL: it polls
    (listed,) = await notifications(client, parties)
    assert listed["id"] == notification["id"]
    assert listed["status"] == "delivered"
    assert listed["next_attempt_at"] is None
    assert [a["status_code"] for a in listed["attempts"]] == [200]
    assert await pusher.push_due() == 0  # nothing is sent twice


async def test_the_running_pusher_sends_what_the_consumer_records(
    client: AsyncClient,
    parties: dict[str, Any],
    gateway: Gateway,
    settings: Settings,
    engine: AsyncEngine,
) -> None:
    """As in the worker: sessions that carry the change feed, the pusher running on its own."""
    feed = ChangeFeed()
    sessionmaker = create_sessionmaker(engine, info=feed.session_info())
    gateway.secret = await new_secret(client, parties)
    await gateway.start()
    running = asyncio.create_task(Pusher(sessionmaker, settings, feed).run())
    try:
        for _ in range(2):
            await publish(client, parties, text_bulletin(parties["commune"]))
            await relay(sessionmaker)
        async with asyncio.timeout(WAIT_SECONDS):
            while True:  # until the pusher has recorded what the gateway answered
                listed = await notifications(client, parties)
                if [n["status"] for n in listed] == ["delivered"] * 2:
                    break
                await asyncio.sleep(0.02)
    finally:
        running.cancel()
        with suppress(asyncio.CancelledError):
            await running
    assert len(gateway.received) == 2


async def test_a_gateway_that_is_away_gets_each_notification_once_when_back(
    client: AsyncClient,
    parties: dict[str, Any],
    gateway: Gateway,
    pusher: Pusher,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    gateway.secret = await new_secret(client, parties)
    bulletin_id = await publish(client, parties, text_bulletin(parties["commune"]))
    await relay(sessionmaker)

    # Nothing listens on the port: the connection is refused, again and again.
    async def failed_attempts() -> int:
        (item,) = await notifications(client, parties)
        return len(item["attempts"])

    async with asyncio.timeout(WAIT_SECONDS):
        while await failed_attempts() < 3:
            await pusher.push_due()
            await asyncio.sleep(0.02)
    (waiting,) = await notifications(client, parties)
    assert waiting["status"] == "pending"
    assert all(a["status_code"] is None and a["error"] for a in waiting["attempts"])
    assert (await deliveries(client, parties, bulletin_id))[PUSH]["status"] == "sent"
    # Each wait is at least the backoff: 50 ms, then 100 ms.
    times = [datetime.fromisoformat(a["attempted_at"]) for a in waiting["attempts"]]
    assert times[1] - times[0] >= timedelta(seconds=0.05)
    assert times[2] - times[1] >= timedelta(seconds=0.1)

    # Back, but failing after it has taken the notification: it is sent again, and the
    # gateway recognises it by its id.
    await gateway.start()
    gateway.status, gateway.answer = 503, b"busy"
    await push_until(pusher, lambda: len(gateway.requests) == 1)
    gateway.status = 200
    await push_until(pusher, lambda: len(gateway.requests) == 2)
    first, second = gateway.requests
    assert first.headers["x-nguon-notification"] == second.headers["x-nguon-notification"]
    assert first.body == second.body
    assert len(gateway.received) == 1

    (done,) = await notifications(client, parties)
    assert done["status"] == "delivered"
    codes = [a["status_code"] for a in done["attempts"]]
    assert codes[-2:] == [503, 200]
    assert all(code is None for code in codes[:-2])
    assert (await deliveries(client, parties, bulletin_id))[PUSH]["status"] == "acked"

    # Stopped and started again on the same port: the next notification waits for it.
    await gateway.stop()
    later = await publish(client, parties, text_bulletin(parties["commune"]))
    await relay(sessionmaker)
    assert await pusher.push_due() == 1
    assert len(gateway.requests) == 2
    await gateway.start()
    await push_until(pusher, lambda: len(gateway.received) == 2)
    assert (await deliveries(client, parties, later))[PUSH]["status"] == "acked"


async def test_a_refusal_fails_the_notification_and_the_delivery(
    client: AsyncClient,
    parties: dict[str, Any],
    gateway: Gateway,
    pusher: Pusher,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    gateway.secret = await new_secret(client, parties)
    await gateway.start()
    gateway.status, gateway.answer = 404, b"unknown device " + b"x" * 400
    bulletin_id = await publish(client, parties, text_bulletin(parties["commune"]))
    await relay(sessionmaker)
    assert await pusher.push_due() == 1

    reason = "answered 404: unknown device " + "x" * (200 - len("unknown device "))
    (failed,) = await notifications(client, parties)
    assert failed["status"] == "failed"
    assert failed["last_error"] == reason
    delivery = (await deliveries(client, parties, bulletin_id))[PUSH]
    assert (delivery["status"], delivery["detail"]) == ("failed", reason)
    assert await pusher.push_due() == 0  # a refusal is final
    assert len(gateway.requests) == 1


async def test_retries_stop_when_the_bulletin_ends(
    client: AsyncClient,
    parties: dict[str, Any],
    gateway: Gateway,
    settings: Settings,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    gateway.secret = await new_secret(client, parties)
    await gateway.start()
    gateway.status = 503
    ends = datetime.now(UTC) + timedelta(hours=1)
    bulletin_id = await publish(
        client, parties, text_bulletin(parties["commune"], valid_until=ends.isoformat())
    )
    await relay(sessionmaker)
    # The first retry would come two hours on, after the bulletin has ended.
    slow = {"push_retry_seconds": 7200, "push_retry_max_seconds": 7200}
    pusher = Pusher(sessionmaker, settings.model_copy(update=slow))
    try:
        assert await pusher.push_due() == 1
        assert await pusher.push_due() == 0
    finally:
        await pusher.aclose()

    (expired,) = await notifications(client, parties)
    assert expired["status"] == "expired"
    assert abs(datetime.fromisoformat(expired["expires_at"]) - ends) < timedelta(seconds=1)
    assert [a["status_code"] for a in expired["attempts"]] == [503]
    assert expired["last_error"] == "answered 503: ok"
    # The delivery was sent; the device can still fetch its playlist.
    assert (await deliveries(client, parties, bulletin_id))[PUSH]["status"] == "sent"


async def test_a_bulletin_withdrawn_while_the_gateway_is_away_is_not_announced_late(
    client: AsyncClient,
    parties: dict[str, Any],
    gateway: Gateway,
    pusher: Pusher,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    gateway.secret = await new_secret(client, parties)
    bulletin_id = await publish(
        client, parties, text_bulletin(parties["commune"], priority="emergency")
    )
    await relay(sessionmaker)
    assert await pusher.push_due() == 1  # refused: nothing listens
    revoked = await act(client, bulletin_id, "revoke", parties["editor"], reason="Báo nhầm")
    assert revoked.status_code == 200, revoked.text
    await relay(sessionmaker)
    # The emergency's retry (50 ms after the refusal) is due by the time the gateway is back.
    await asyncio.sleep(0.1)

    await gateway.start()
    await push_until(pusher, lambda: len(gateway.received) == 1)
    assert await pusher.push_due() == 0
    (told,) = gateway.received.values()
    assert (told["type"], told["bulletin"]["id"]) == ("revocation", bulletin_id)
    revocation, emergency = await notifications(client, parties)
    assert (revocation["status"], emergency["status"]) == ("delivered", "expired")
    assert emergency["last_error"] == "the delivery has ended"
    assert (await deliveries(client, parties, bulletin_id))[PUSH]["status"] == "revoked"


async def test_each_announcement_is_one_notification(
    client: AsyncClient,
    parties: dict[str, Any],
    gateway: Gateway,
    pusher: Pusher,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    bulletin_id = await publish(client, parties, text_bulletin(parties["commune"]))
    records = await relay(sessionmaker)
    assert await notification_count(sessionmaker) == 1  # A-PLAIN has no push URL

    # The bus delivers the same events again; another consumer handles them too.
    await idempotent(sessionmaker, WEBHOOK_CONSUMER, record_notifications)(records)
    events: list[Event] = [json.loads(record.value) for record in records]
    async with sessionmaker() as session:
        await record_notifications(session, events)
        await session.commit()
    assert await notification_count(sessionmaker) == 1

    # The reconciler announces the unacknowledged delivery again: a new event, the same news.
    async with sessionmaker() as session:
        reconciler = Reconciler(
            session,
            timedelta(0),
            timedelta(0),
            repush=timedelta(0),
            offline_after=timedelta(minutes=3),
        )
        redriven = await reconciler.redrive(utcnow() + timedelta(minutes=1))
        await session.commit()
    assert redriven == 2
    assert len(await relay(sessionmaker)) == 2
    assert await notification_count(sessionmaker) == 1

    # A change of the endpoint's playlist without a bulletin is news of its own.
    changed = await client.patch(
        f"/api/v1/endpoints/{PUSH}", json={"languages": ["vi", "km"]}, headers=parties["admin"]
    )
    assert changed.status_code == 200, changed.text
    await relay(sessionmaker)
    assert await notification_count(sessionmaker) == 2

    gateway.secret = await new_secret(client, parties)
    await gateway.start()
    assert await pusher.push_due() == 2
    by_type = {n["type"]: n for n in gateway.received.values()}
    assert by_type["publication"]["bulletin"]["id"] == bulletin_id
    assert by_type["playlist"]["bulletin"] is None
    assert by_type["playlist"]["playlist_version"] > by_type["publication"]["playlist_version"]


async def test_a_new_secret_replaces_the_old_one_at_once(
    client: AsyncClient,
    parties: dict[str, Any],
    gateway: Gateway,
    pusher: Pusher,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    old = await new_secret(client, parties)
    gateway.secret = old
    await gateway.start()
    await publish(client, parties, text_bulletin(parties["commune"]))
    await relay(sessionmaker)
    await pusher.push_due()
    assert len(gateway.received) == 1

    new = await new_secret(client, parties)
    assert new != old
    await publish(client, parties, text_bulletin(parties["commune"]))
    await relay(sessionmaker)
    await pusher.push_due()  # the gateway still holds the old secret and refuses it
    assert len(gateway.received) == 1
    request = gateway.requests[-1]
    stamp, signature = request.headers["x-timestamp"], request.headers["x-signature"]
    assert verify(new, stamp, request.body, signature, TOLERANCE_SECONDS)
    assert not verify(old, stamp, request.body, signature, TOLERANCE_SECONDS)
    statuses = [n["status"] for n in await notifications(client, parties)]
    assert statuses == ["failed", "delivered"]  # newest first; 401 is a refusal


async def test_the_routes_keep_to_roles_and_areas(
    client: AsyncClient,
    parties: dict[str, Any],
    make_user: MakeUser,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    secret_path = f"/api/v1/endpoints/{PUSH}/push-secret"
    list_path = f"/api/v1/endpoints/{PUSH}/notifications"
    viewer = await make_user("push.viewer", Role.viewer, AN_GIANG)
    other_admin = await make_user("other.admin", Role.admin, LAI_CHAU)
    other_editor = await make_user("other.editor", Role.editor, LAI_CHAU)

    for headers in (parties["editor"], parties["publisher"], viewer, parties["device"]):
        assert (await client.post(secret_path, headers=headers)).status_code == 403
    refused = await client.post(secret_path, headers=other_admin)
    assert refused.status_code == 403
    assert refused.headers["content-type"] == PROBLEM
    missing = await client.post("/api/v1/endpoints/A-NONE/push-secret", headers=parties["admin"])
    assert missing.status_code == 404
    issued = await client.post(secret_path, headers=parties["admin"])
    assert issued.status_code == 200
    assert issued.headers["cache-control"] == "no-store"

    for headers in (parties["publisher"], viewer, parties["device"], other_editor):
        assert (await client.get(list_path, headers=headers)).status_code == 403
    assert (await client.get(list_path, headers=parties["editor"])).status_code == 200
    assert (await client.get(list_path, headers=parties["admin"])).status_code == 200
    assert (
        await client.get(list_path, params={"limit": 0}, headers=parties["editor"])
    ).status_code == 422
    missing = await client.get("/api/v1/endpoints/A-NONE/notifications", headers=parties["editor"])
    assert missing.status_code == 404

    async with sessionmaker() as session:
        records = (
            await session.scalars(
                select(AuditRecord).where(AuditRecord.action.contains("push-secret"))
            )
        ).all()
    assert {(r.outcome, r.target) for r in records} >= {
        ("success", f"endpoint:{PUSH}"),
        ("denied", f"code={PUSH}"),
    }
    secret = issued.json()["push_secret"]
    assert all(secret not in (r.target or "") for r in records)


@pytest.mark.parametrize(
    ("push_url", "detail"),
    [("ftp://gw.example/hook", "body.push_url"), ("https://u:pw@gw.example/h", "credentials")],
)
async def test_a_push_url_is_http_without_credentials(
    client: AsyncClient, parties: dict[str, Any], push_url: str, detail: str
) -> None:
    created = await client.post(
        "/api/v1/endpoints",
        json={
            "code": "A-NEW",
            "name": "A-NEW",
            "kind": "radio",
            "area": parties["commune"],
            "push_url": push_url,
        },
        headers=parties["admin"],
    )
    changed = await client.patch(
        f"/api/v1/endpoints/{PUSH}", json={"push_url": push_url}, headers=parties["admin"]
    )
    for response in (created, changed):
        assert response.status_code == 422, response.text
        assert response.headers["content-type"] == PROBLEM
        assert detail in response.json()["detail"]
    endpoint = await client.get(f"/api/v1/endpoints/{PUSH}", headers=parties["admin"])
    assert endpoint.json()["push_url"].startswith("http://127.0.0.1:")
