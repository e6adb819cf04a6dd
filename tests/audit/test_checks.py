"""The audit chain's periodic check (Đắk Nông 002 Điều 14.8): recorded, walked once an
interval however many workers run, taken over from a worker that died, and shown in /readyz."""

import asyncio
from datetime import timedelta

from httpx import AsyncClient
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from nguon.audit.checks import SCHEDULE, AuditChecks
from nguon.audit.models import AuditCheck, AuditCheckStatus, AuditRecord
from nguon.identity.roles import Role
from nguon.incidents.watch import check_audit_when_due
from nguon.kit.db import utcnow
from tests.commands import nguon
from tests.conftest import AN_GIANG, MakeUser


async def some_records(client: AsyncClient, make_user: MakeUser) -> None:
    """A few audited requests, so the chain has something to check."""
    admin = await make_user("check.admin", Role.admin, AN_GIANG)
    for _ in range(3):
        await client.post("/api/v1/incidents", json={}, headers=admin)  # audited, refused


async def checks_kept(sessionmaker: async_sessionmaker[AsyncSession]) -> list[AuditCheck]:
    async with sessionmaker() as session:
        found = await session.scalars(select(AuditCheck).order_by(AuditCheck.id))
        return list(found.all())


async def audit_readiness(client: AsyncClient) -> dict[str, object]:
    ready = (await client.get("/readyz")).json()
    [found] = [check for check in ready["checks"] if check["name"] == "audit"]
    assert found["required"] is False
    return dict(found)


async def test_three_workers_walk_the_chain_once_an_interval(
    client: AsyncClient, make_user: MakeUser, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    """Every worker runs the schedule; the chain is walked once between them, and again only
    when the interval is over."""
    await some_records(client, make_user)
    interval = timedelta(seconds=1)
    workers = [AuditChecks(sessionmaker, interval) for _ in range(3)]
    due = await asyncio.gather(*(check_audit_when_due(sessionmaker, w) for w in workers))
    [check] = await checks_kept(sessionmaker)
    assert (check.status, check.trigger, check.breaks) == (AuditCheckStatus.intact, SCHEDULE, 0)
    assert check.records is not None
    assert check.records >= 3
    assert all(abs(at - (check.started_at + interval)) < interval for at in due)

    await asyncio.gather(*(check_audit_when_due(sessionmaker, w) for w in workers))
    assert len(await checks_kept(sessionmaker)) == 1
    await asyncio.sleep(interval.total_seconds() * 1.2)
    await asyncio.gather(*(check_audit_when_due(sessionmaker, w) for w in workers))
    assert [c.status for c in await checks_kept(sessionmaker)] == [AuditCheckStatus.intact] * 2


async def test_a_check_left_by_a_dead_worker_is_taken_over(
    client: AsyncClient, make_user: MakeUser, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    """A worker that died while checking holds the check only until its lease runs out."""
    await some_records(client, make_user)
    interval = timedelta(hours=1)
    async with sessionmaker() as session:
        session.add(
            AuditCheck(
                trigger=SCHEDULE,
                status=AuditCheckStatus.running,
                started_at=utcnow() - timedelta(minutes=30),
                lease_until=utcnow() + timedelta(minutes=30),
            )
        )
        await session.commit()
    await check_audit_when_due(sessionmaker, AuditChecks(sessionmaker, interval))
    assert [c.status for c in await checks_kept(sessionmaker)] == [AuditCheckStatus.running]

    async with sessionmaker() as session:
        await session.execute(update(AuditCheck).values(lease_until=utcnow()))
        await session.commit()
    await check_audit_when_due(sessionmaker, AuditChecks(sessionmaker, interval))
    abandoned, taken_over = await checks_kept(sessionmaker)
    assert abandoned.status is AuditCheckStatus.failed
    assert abandoned.detail is not None
    assert "abandoned" in abandoned.detail
    assert taken_over.status is AuditCheckStatus.intact


async def test_readyz_tells_when_the_chain_was_last_found_intact(
    client: AsyncClient, make_user: MakeUser, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    """002 Điều 14.8: operators see that the chain is checked, and when it is found broken;
    the hub keeps serving (degraded) either way."""
    assert (await audit_readiness(client))["detail"] == "not checked yet"
    await some_records(client, make_user)
    checks = AuditChecks(sessionmaker, timedelta(hours=1))
    await check_audit_when_due(sessionmaker, checks)
    intact = await audit_readiness(client)
    assert intact["ok"] is True
    assert str(intact["detail"]).startswith("intact at ")

    async with sessionmaker() as session:
        first = await session.scalar(select(func.min(AuditRecord.id)))
        await session.execute(
            update(AuditRecord).where(AuditRecord.id == first).values(actor="user:someone")
        )
        await session.execute(update(AuditCheck).values(started_at=utcnow() - timedelta(hours=2)))
        await session.commit()
    await check_audit_when_due(sessionmaker, checks)
    broken = await audit_readiness(client)
    assert broken["ok"] is False
    assert "broken at" in str(broken["detail"])
    assert f"record {first}" in str(broken["detail"])
    answer = await client.get("/readyz")
    assert (answer.status_code, answer.json()["status"]) == (200, "degraded")

    async with sessionmaker() as session:
        await session.execute(
            update(AuditCheck).values(
                status=AuditCheckStatus.intact, started_at=utcnow() - timedelta(hours=3)
            )
        )
        await session.commit()
    stale = await audit_readiness(client)
    assert stale["ok"] is False
    assert "is a worker running?" in str(stale["detail"])


async def test_nguon_audit_verify_records_its_check(
    client: AsyncClient,
    make_user: MakeUser,
    sessionmaker: async_sessionmaker[AsyncSession],
    database_url: str,
) -> None:
    """The operator's own check counts as the interval's: the workers wait for the next."""
    await some_records(client, make_user)
    ran = nguon(database_url, "audit", "verify")
    assert ran.returncode == 0, ran.stderr
    [check] = await checks_kept(sessionmaker)
    assert (check.trigger, check.status) == ("cli", AuditCheckStatus.intact)
    await check_audit_when_due(sessionmaker, AuditChecks(sessionmaker, timedelta(hours=1)))
    assert len(await checks_kept(sessionmaker)) == 1
