"""Incidents the hub opens by itself, and the department told of each once (Đắk Nông 002
Điều 11.4, 16.5, 17; An Giang 004 Điều 7.2)."""

import asyncio
import json
from datetime import timedelta
from typing import Any

import pytest
from httpx import AsyncClient
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from nguon.areas.sources import AreaRecord
from nguon.audit.models import AuditRecord
from nguon.audit.service import GENESIS_HASH, plain_hash
from nguon.endpoints.models import Endpoint, EndpointHeartbeat
from nguon.identity.roles import Role
from nguon.incidents.models import IncidentNotice, NoticeStatus
from nguon.incidents.notifier import IncidentNotifier
from nguon.incidents.watch import check_audit_chain, watch_silent_endpoints
from nguon.kit.db import utcnow
from nguon.kit.settings import Settings
from tests.commands import nguon
from tests.conftest import AN_GIANG, PASSWORD, MakeEndpoint, MakeUser, communes_of
from tests.endpoints.test_heartbeat import beat
from tests.gateway import Gateway
from tests.incidents.conftest import notifying


@pytest.fixture
async def admin(make_user: MakeUser, areas: list[AreaRecord]) -> dict[str, str]:
    return await make_user("incident.admin", Role.admin, AN_GIANG)


@pytest.fixture
def commune(areas: list[AreaRecord]) -> str:
    return communes_of(areas, AN_GIANG)[0]


async def silence(
    sessionmaker: async_sessionmaker[AsyncSession], code: str, seconds: float
) -> None:
    """The endpoint was last heard from `seconds` ago."""
    async with sessionmaker() as session:
        endpoint_id = await session.scalar(select(Endpoint.id).where(Endpoint.code == code))
        await session.execute(
            update(EndpointHeartbeat)
            .where(EndpointHeartbeat.endpoint_id == endpoint_id)
            .values(received_at=utcnow() - timedelta(seconds=seconds))
        )
        await session.commit()


async def incidents(client: AsyncClient, admin: dict[str, str], **params: Any) -> list[Any]:
    response = await client.get("/api/v1/incidents", params=params, headers=admin)
    assert response.status_code == 200, response.text
    return list(response.json()["items"])


async def test_a_silent_endpoint_opens_one_incident_the_department_hears_of_once_and_it_closes_when_the_endpoint_returns(  # noqa: E501
    client: AsyncClient,
    sessionmaker: async_sessionmaker[AsyncSession],
    settings: Settings,
    admin: dict[str, str],
    make_endpoint: MakeEndpoint,
    commune: str,
    department: Gateway,
) -> None:
    """The acceptance of Đắk Nông 002 Điều 16.5 and 17: an endpoint that stops heartbeating
    opens an incident and notifies the department's URL once; it closes when it returns."""
    settings = notifying(settings, department, incident_offline_seconds=600)
    device = await make_endpoint("INC-RADIO", "radio", commune)
    await make_endpoint("INC-QUIET", "radio", commune)  # never heard from: not an outage
    await beat(client, device)
    notifier = IncidentNotifier(sessionmaker, settings)

    assert await watch_silent_endpoints(sessionmaker, settings) == 0  # heard just now
    await silence(sessionmaker, "INC-RADIO", 700)
    assert await watch_silent_endpoints(sessionmaker, settings) == 1
    assert await watch_silent_endpoints(sessionmaker, settings) == 0  # one, not one per pass
    assert await notifier.send_due() == 1
    assert await notifier.send_due() == 0

    [opened] = await incidents(client, admin, status="open")
    assert opened["kind"] == "technical"
    assert [endpoint["code"] for endpoint in opened["endpoints"]] == ["INC-RADIO"]
    assert opened["area"] == commune
    assert opened["opened_by"] == "system"
    [request] = department.requests
    assert request.headers["x-nguon-notice"] == f"incident:{opened['id']}:opened"
    told = json.loads(request.body)
    assert told["event"] == "opened"
    assert told["incident"]["id"] == opened["id"]
    assert told["incident"]["endpoints"][0]["code"] == "INC-RADIO"

    await beat(client, device)
    [closed] = await incidents(client, admin)
    assert closed["status"] == "resolved"
    assert [(e["event"], e["actor"]) for e in closed["timeline"]] == [
        ("opened", "system"),
        ("resolved", "system"),
    ]
    assert await notifier.send_due() == 1
    assert await notifier.send_due() == 0
    await notifier.client.aclose()
    assert [r.headers["x-nguon-notice"] for r in department.requests] == [
        f"incident:{opened['id']}:opened",
        f"incident:{opened['id']}:resolved",
    ]
    assert json.loads(department.requests[1].body)["incident"]["status"] == "resolved"
    # Silent again later: a new outage is a new incident.
    await silence(sessionmaker, "INC-RADIO", 700)
    assert await watch_silent_endpoints(sessionmaker, settings) == 1


async def test_the_department_away_gets_the_notice_when_it_returns_and_once(
    client: AsyncClient,
    sessionmaker: async_sessionmaker[AsyncSession],
    settings: Settings,
    admin: dict[str, str],
    department: Gateway,
) -> None:
    """Đắk Nông 002 Điều 17: a lost message is retried until the department takes it."""
    settings = notifying(settings, department)
    created = await client.post(
        "/api/v1/incidents",
        json={"kind": "power", "severity": "high", "title": "Mất điện", "areas": [AN_GIANG]},
        headers=admin,
    )
    assert created.status_code == 201, created.text
    notifier = IncidentNotifier(sessionmaker, settings)
    department.status = 503
    assert await notifier.send_due() == 1
    async with sessionmaker() as session:
        notice = await session.scalar(select(IncidentNotice))
        assert notice is not None
        assert notice.status is NoticeStatus.pending
        assert "503" in (notice.last_error or "")
        await session.execute(update(IncidentNotice).values(next_attempt_at=utcnow()))
        await session.commit()
    department.status = 200
    assert await notifier.send_due() == 1
    assert await notifier.send_due() == 0
    await notifier.client.aclose()
    assert list(department.received) == [f"incident:{created.json()['id']}:opened"]
    assert len(department.requests) == 2


async def test_a_heartbeat_reporting_a_fault_opens_one_incident_until_the_device_is_ok(
    client: AsyncClient,
    admin: dict[str, str],
    make_endpoint: MakeEndpoint,
    commune: str,
) -> None:
    """Đắk Nông 002 Điều 11.4: a device fault is a technical incident."""
    device = await make_endpoint("INC-FAULT", "radio", commune)
    await beat(client, device, status="fault", message="Loa hỏng")
    await beat(client, device, status="degraded")
    [fault] = await incidents(client, admin)
    assert fault["status"] == "open"
    assert fault["severity"] == "high"
    assert fault["description"] == "Loa hỏng"
    await beat(client, device)
    [fixed] = await incidents(client, admin)
    assert fixed["status"] == "resolved"
    assert fixed["timeline"][-1]["actor"] == "system"


async def test_heartbeats_reporting_one_fault_at_once_all_succeed_and_open_one_incident(
    client: AsyncClient,
    admin: dict[str, str],
    make_endpoint: MakeEndpoint,
    commune: str,
) -> None:
    """Đắk Nông 002 Điều 11.4: a device that repeats its fault report (several heartbeats in
    flight at once, as after a reconnect) has one incident, and no heartbeat is refused."""
    device = await make_endpoint("INC-FAULT-RACE", "radio", commune)
    await asyncio.gather(*(beat(client, device, status="fault") for _ in range(6)))
    [fault] = await incidents(client, admin)
    assert (fault["status"], fault["severity"]) == ("open", "high")


async def test_an_account_locked_by_failed_sign_ins_opens_one_cyber_incident(
    client: AsyncClient, admin: dict[str, str], make_user: MakeUser, commune: str
) -> None:
    """Đắk Nông 002 Điều 14.8: repeated failed sign-ins are a cyber incident."""
    await make_user("incident.target", Role.editor, commune)
    for _ in range(7):
        refused = await client.post(
            "/api/v1/auth/token", data={"username": "incident.target", "password": "guess"}
        )
        assert refused.status_code == 401
    allowed = await client.post(
        "/api/v1/auth/token", data={"username": "incident.target", "password": PASSWORD}
    )
    assert allowed.status_code == 401  # locked
    [locked] = await incidents(client, admin, kind="cyber")
    assert "incident.target" in locked["title"]
    assert locked["area"] == commune


async def test_a_broken_audit_chain_opens_a_critical_cyber_incident_once(
    client: AsyncClient,
    sessionmaker: async_sessionmaker[AsyncSession],
    admin: dict[str, str],
) -> None:
    """Đắk Nông 002 Điều 14.8: a tampered audit trail is a cyber incident, found by the
    worker's periodic check as by `nguon audit verify`."""
    await client.post("/api/v1/incidents", json={}, headers=admin)  # audited, refused
    assert (await check_audit_chain(sessionmaker))[1] == []
    assert await incidents(client, admin) == []
    async with sessionmaker() as session:
        first = await session.scalar(select(func.min(AuditRecord.id)))
        await session.execute(
            update(AuditRecord).where(AuditRecord.id == first).values(actor="user:someone")
        )
        await session.commit()
    assert (await check_audit_chain(sessionmaker))[1]
    assert (await check_audit_chain(sessionmaker))[1]
    [broken] = await incidents(client, admin)
    assert (broken["kind"], broken["severity"]) == ("cyber", "critical")
    assert str(first) in broken["description"]


async def test_nguon_audit_verify_on_a_broken_chain_opens_the_cyber_incident_once(
    client: AsyncClient,
    sessionmaker: async_sessionmaker[AsyncSession],
    admin: dict[str, str],
    database_url: str,
) -> None:
    """Đắk Nông 002 Điều 14.8: the operator's check finds the tampering and reports it."""
    await client.post("/api/v1/incidents", json={}, headers=admin)  # audited, refused
    async with sessionmaker() as session:
        first = await session.scalar(select(func.min(AuditRecord.id)))
        await session.execute(
            update(AuditRecord).where(AuditRecord.id == first).values(target="elsewhere")
        )
        await session.commit()
    for _ in range(2):
        assert nguon(database_url, "audit", "verify").returncode == 1
    [broken] = await incidents(client, admin, kind="cyber")
    assert broken["severity"] == "critical"
    assert broken["status"] == "open"


async def test_a_chain_begun_before_the_hub_keyed_it_is_no_incident_but_a_later_edit_is(
    client: AsyncClient,
    sessionmaker: async_sessionmaker[AsyncSession],
    admin: dict[str, str],
) -> None:
    """Đắk Nông 002 Điều 14.8: an upgraded hub's plain-hash records wait for `nguon audit
    rekey`; no alarm for them, and one for a record edited after."""
    await client.post("/api/v1/incidents", json={}, headers=admin)  # audited, refused
    async with sessionmaker() as session:
        trail = (await session.scalars(select(AuditRecord).order_by(AuditRecord.id))).all()
        previous = GENESIS_HASH
        for record in trail:
            record.prev_hash = previous
            record.hash = previous = plain_hash(record)
        await session.commit()
    await client.post("/api/v1/incidents", json={}, headers=admin)  # keyed, after the upgrade
    assert (await check_audit_chain(sessionmaker))[1]  # broken: plain hashes
    assert await incidents(client, admin) == []
    async with sessionmaker() as session:
        last = await session.scalar(select(func.max(AuditRecord.id)))
        await session.execute(
            update(AuditRecord).where(AuditRecord.id == last).values(actor="user:someone")
        )
        await session.commit()
    await check_audit_chain(sessionmaker)
    assert len(await incidents(client, admin, kind="cyber")) == 1
