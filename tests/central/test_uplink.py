"""The uplink: shared province bulletins and the daily statistics go up to the central system,
signed, and are retried until it takes them.

The central system's intake is a real HTTP server on a local port (`tests.gateway`) that checks
signatures with the key it gave the province, and is taken down and brought back."""

import json
from datetime import UTC, datetime, time, timedelta
from typing import Any

import pytest
from httpx import ASGITransport, AsyncClient
from pydantic import SecretStr, ValidationError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from nguon.app import create_app
from nguon.areas.sources import AreaRecord
from nguon.dispatch.slots import LOCAL
from nguon.identity.roles import Role
from nguon.kit.background import in_background
from nguon.kit.db import utcnow
from nguon.kit.settings import Settings
from nguon.uplink.models import UplinkMessage, UplinkStatus
from nguon.uplink.sender import UplinkSender
from nguon.uplink.service import UplinkService
from tests.bulletins.test_workflow import act, text_bulletin
from tests.conftest import AN_GIANG, LAI_CHAU, MakeEndpoint, MakeUser, communes_of
from tests.delivery.test_nothing_lost import until
from tests.dispatch.test_deliveries import publish as publish_bulletin
from tests.gateway import Gateway

CENTRAL_KEY = "key-the-central-system-gave-an-giang"
# How long a test waits for what it expects before it fails (an upper bound, not a measure).
WAIT_SECONDS = 10
PROBLEM = "application/problem+json"


@pytest.fixture
async def intake() -> Any:
    """The central system's intake of the uplink, up and checking signatures."""
    receiver = Gateway(repeat_header="x-nguon-message")
    receiver.secret = CENTRAL_KEY
    await receiver.start()
    try:
        yield receiver
    finally:
        await receiver.stop()


def linked(settings: Settings, intake: Gateway, **changes: Any) -> Settings:
    return settings.model_copy(
        update={
            "central_url": intake.url,
            "central_key": SecretStr(CENTRAL_KEY),
            "uplink_retry_seconds": 0.2,
            # Retries stay frequent however long a busy machine keeps the intake away.
            "uplink_retry_max_seconds": 1,
            **changes,
        }
    )


@pytest.fixture
async def province(
    make_user: MakeUser, make_endpoint: MakeEndpoint, areas: list[AreaRecord]
) -> dict[str, Any]:
    commune = communes_of(areas, AN_GIANG)[0]
    await make_endpoint("UP-RADIO", "radio", commune)
    return {
        "commune": commune,
        "publisher": await make_user("uplink.publisher", Role.publisher, AN_GIANG),
        "editor": await make_user("uplink.editor", Role.editor, AN_GIANG),
        "admin": await make_user("uplink.admin", Role.admin, AN_GIANG),
        "commune_admin": await make_user("uplink.commune", Role.admin, commune),
    }


async def publish(client: AsyncClient, province: dict[str, Any], **fields: Any) -> str:
    """A text bulletin of the province's commune, approved."""
    return await publish_bulletin(client, province, text_bulletin(province["commune"], **fields))


async def messages(sessionmaker: async_sessionmaker[AsyncSession]) -> list[UplinkMessage]:
    async with sessionmaker() as session:
        result = await session.scalars(select(UplinkMessage).order_by(UplinkMessage.id))
        return list(result.all())


async def test_a_shared_bulletin_goes_up_signed_on_air_and_withdrawn(
    client: AsyncClient,
    sessionmaker: async_sessionmaker[AsyncSession],
    settings: Settings,
    province: dict[str, Any],
    intake: Gateway,
) -> None:
    shared = await publish(client, province, share_with_central=True)
    await publish(client, province, title="Chỉ trong tỉnh")  # not shared: stays in the province
    read = await client.get(f"/api/v1/bulletins/{shared}", headers=province["editor"])
    assert read.json()["share_with_central"] is True

    sender = UplinkSender(sessionmaker, linked(settings, intake))
    assert await sender.send_due() == 1
    revoked = await act(client, shared, "revoke", province["editor"], reason="Đã hết hiệu lực")
    assert revoked.status_code == 200, revoked.text
    assert await sender.send_due() == 1
    assert await sender.send_due() == 0
    await sender.client.aclose()

    assert [request.path for request in intake.requests] == ["/hooks/nguon/bulletins"] * 2
    on_air, withdrawn = (json.loads(request.body) for request in intake.requests)
    assert on_air["id"] == f"bulletin:{shared}.1"
    assert on_air["event"] == "on-air"
    assert on_air["province"] == AN_GIANG
    assert on_air["bulletin"]["id"] == shared
    assert on_air["bulletin"]["revision"] == 1
    assert on_air["bulletin"]["title"] == "Thông báo lịch tiêm chủng"
    assert on_air["bulletin"]["status"] == "published"
    assert withdrawn["event"] == "withdrawn"
    assert withdrawn["bulletin"]["reason"] == "Đã hết hiệu lực"
    # The intake checked every signature with the key it gave the province.
    assert set(intake.received) == {f"bulletin:{shared}.1", f"bulletin:{shared}.1.withdrawn"}
    assert all(m.status is UplinkStatus.sent for m in await messages(sessionmaker))


async def test_only_province_bulletins_are_shared(
    client: AsyncClient, make_user: MakeUser, areas: list[AreaRecord]
) -> None:
    commune = communes_of(areas, AN_GIANG)[0]
    publisher = await make_user("commune.publisher", Role.publisher, commune)
    refused = await client.post(
        "/api/v1/bulletins",
        json=text_bulletin(commune, share_with_central=True),
        headers=publisher,
    )
    assert refused.status_code == 422
    assert refused.headers["content-type"] == PROBLEM
    assert "Only province bulletins are shared" in refused.json()["detail"]
    listed = await client.get("/api/v1/bulletins", headers=publisher)
    assert listed.json()["items"] == []


async def test_the_daily_statistics_reach_the_central_system_once_it_is_back(
    client: AsyncClient,
    sessionmaker: async_sessionmaker[AsyncSession],
    settings: Settings,
    province: dict[str, Any],
    intake: Gateway,
) -> None:
    await intake.stop()
    # The report falls due at midnight: the previous local day's is owed from the start.
    uplink = linked(settings, intake, uplink_report_time=time(0, 0))
    sender = UplinkSender(sessionmaker, uplink)

    async def tried_while_away() -> bool:
        found = await messages(sessionmaker)
        return bool(found) and found[0].attempts >= 2

    async def received() -> bool:
        # An Giang's and Lai Châu's, each taken by the intake and recorded as taken by the hub
        # (the intake has a body before the hub has committed its answer).
        taken = [m for m in await messages(sessionmaker) if m.status is UplinkStatus.sent]
        return len(intake.received) == len(taken) == 2

    async with in_background("uplink", sender.run):
        await until(tried_while_away, WAIT_SECONDS)
        waiting = await messages(sessionmaker)
        assert [m.status for m in waiting] == [UplinkStatus.pending] * 2
        assert waiting[0].last_error is not None
        await intake.start()
        await until(received, WAIT_SECONDS)

    yesterday = (datetime.now(LOCAL) - timedelta(days=1)).date()
    report = intake.received[f"report:{AN_GIANG}:{yesterday.isoformat()}"]
    assert report["kind"] == "report"
    assert report["id"] == f"report:{AN_GIANG}:{yesterday.isoformat()}"
    assert report["day"] == yesterday.isoformat()
    assert report["report"]["area"]["code"] == AN_GIANG
    start = datetime.fromisoformat(report["report"]["period"]["from"])
    assert start == datetime.combine(yesterday, time(0), LOCAL)
    assert {"bulletins", "broadcast", "endpoints", "emergencies"} <= set(report["report"])
    assert report["report"]["endpoints"]["total"] == 1

    # The administrator sees the first message's story: tried while the intake was away (the
    # later one waited with it, untried), then taken.
    listed = await client.get("/api/v1/uplink/messages", headers=province["admin"])
    assert listed.status_code == 200, listed.text
    later, item = listed.json()["items"]
    assert later["attempts"] == len(later["history"]) == 1
    assert item["status"] == "sent"
    assert item["next_attempt_at"] is None
    history = item["history"]
    assert len(history) == item["attempts"] >= 3
    assert all(attempt["status_code"] is None for attempt in history[:-1])
    assert history[-1]["status_code"] == 200


async def test_the_day_is_reported_once(
    sessionmaker: async_sessionmaker[AsyncSession], settings: Settings, province: dict[str, Any]
) -> None:
    day = datetime.now(LOCAL).date() - timedelta(days=1)
    async with sessionmaker() as session:
        first = await UplinkService(session).queue_daily_reports(settings, day, utcnow())
        again = await UplinkService(session).queue_daily_reports(settings, day, utcnow())
        await session.commit()
    assert first == [f"{LAI_CHAU}:{day.isoformat()}", f"{AN_GIANG}:{day.isoformat()}"]
    assert again == []
    assert len(await messages(sessionmaker)) == 2


async def test_a_refusal_fails_the_message_until_the_administrator_sends_it_again(
    client: AsyncClient,
    sessionmaker: async_sessionmaker[AsyncSession],
    settings: Settings,
    province: dict[str, Any],
    intake: Gateway,
) -> None:
    shared = await publish(client, province, share_with_central=True)
    sender = UplinkSender(sessionmaker, linked(settings, intake))
    intake.status, intake.answer = 422, b"unknown province"
    await sender.send_due()
    (failed,) = await messages(sessionmaker)
    assert failed.status is UplinkStatus.failed
    assert failed.last_error == "answered 422: unknown province"
    assert await sender.send_due() == 0  # a refusal for good is not retried by itself

    intake.status, intake.answer = 200, b"ok"
    commune_admin = await client.get("/api/v1/uplink/messages", headers=province["commune_admin"])
    assert commune_admin.status_code == 403
    retried = await client.post(
        f"/api/v1/uplink/messages/{failed.id}/retry", headers=province["admin"]
    )
    assert retried.status_code == 200, retried.text
    assert retried.json()["status"] == "pending"
    assert await sender.send_due() == 1
    await sender.client.aclose()
    assert set(intake.received) == {f"bulletin:{shared}.1"}
    again = await client.post(
        f"/api/v1/uplink/messages/{failed.id}/retry", headers=province["admin"]
    )
    assert again.status_code == 409
    assert again.headers["content-type"] == PROBLEM


async def test_a_wrong_key_is_retried_not_dropped(
    client: AsyncClient,
    sessionmaker: async_sessionmaker[AsyncSession],
    settings: Settings,
    province: dict[str, Any],
    intake: Gateway,
) -> None:
    await publish(client, province, share_with_central=True)
    sender = UplinkSender(
        sessionmaker,
        linked(settings, intake, central_key=SecretStr("old"), uplink_retry_seconds=60),
    )
    await sender.send_due()
    await sender.client.aclose()
    (waiting,) = await messages(sessionmaker)
    assert waiting.status is UplinkStatus.pending
    assert waiting.last_error == "answered 401: bad signature"
    assert waiting.next_attempt_at > datetime.now(UTC)
    assert intake.received == {}


async def test_readyz_says_whether_the_uplink_is_on_and_what_waits(
    client: AsyncClient,
    engine: AsyncEngine,
    settings: Settings,
    province: dict[str, Any],
    intake: Gateway,
) -> None:
    await publish(client, province, share_with_central=True)
    app = create_app(linked(settings, intake))
    transport = ASGITransport(app=app)
    async with AsyncClient(transport=transport, base_url="http://hub.test") as linked_client:
        ready = await linked_client.get("/readyz")
    await app.state.engine.dispose()
    assert ready.status_code == 200
    checks = {check["name"]: check for check in ready.json()["checks"]}
    assert checks["uplink"]["detail"].startswith(f"on: {intake.url}; 1 waiting (oldest since ")


def test_an_uplink_needs_its_key() -> None:
    with pytest.raises(ValidationError, match="NGUON_CENTRAL_KEY"):
        Settings(central_url="https://central.example.vn/nguon")


def test_a_refused_setting_does_not_repeat_the_secrets_beside_it() -> None:
    """The refusal is printed where the hub is started (a terminal, a container's log)."""
    with pytest.raises(ValidationError) as refused:
        Settings(central_url="https://central.example.vn/nguon", speech_token="speech-token-42")
    assert "NGUON_CENTRAL_KEY" in str(refused.value)
    assert "speech-token-42" not in str(refused.value)
