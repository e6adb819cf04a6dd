"""The backup schedule: monthly (000/004 Điều 6.5), kept six months, pruned only after a new
backup succeeded, never two at once, and its last run visible (002 Điều 11.2, 14.7)."""

import asyncio
import contextlib
from datetime import UTC, datetime, timedelta

import pytest
from httpx import AsyncClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from nguon.audit.models import AuditRecord
from nguon.backups.manifest import Manifest
from nguon.backups.models import BackupRun, RunStatus
from nguon.backups.service import LEASE, BackupService
from nguon.backups.store import BackupStore
from nguon.kit.errors import Conflict
from nguon.kit.settings import Settings
from nguon.kit.storage import create_storage
from nguon.worker import backup_forever


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def service_at(
    settings: Settings, sessionmaker: async_sessionmaker[AsyncSession], clock: Clock
) -> BackupService:
    store = BackupStore.from_settings(settings)
    return BackupService(settings, sessionmaker, store, create_storage(settings), clock=clock)


async def test_monthly_backups_are_kept_six_months_000_dieu_6_5(
    settings: Settings, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    """000/004 Điều 6.5: a backup every month; the defaults keep 183 days of them."""
    clock = Clock(datetime(2026, 1, 1, 1, tzinfo=UTC))
    service = service_at(settings, sessionmaker, clock)
    taken = []
    for _month in range(8):
        manifest = await service.run_if_due("test")
        assert manifest is not None
        taken.append(manifest.backup_id)
        clock.now += timedelta(days=10)
        assert await service.run_if_due("test") is None  # not due yet
        clock.now += timedelta(days=20)

    # Taken on days 0, 30, ..., 210: after the last, 183 days back reach day 27, so only the
    # first is gone.
    assert [manifest.backup_id for manifest in await service.manifests()] == taken[1:]
    async with sessionmaker() as session:
        actions = list(await session.scalars(select(AuditRecord.action)))
    assert actions.count("backup create") == 8
    assert "backup prune" in actions


async def test_a_second_backup_waits_for_the_first_002_dieu_11_2(
    settings: Settings, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    """002 Điều 11.2: one backup at a time; a run whose process died stops holding the lock."""
    clock = Clock(datetime(2026, 3, 1, tzinfo=UTC))
    service = service_at(settings, sessionmaker, clock)
    async with sessionmaker() as session:
        session.add(
            BackupRun(
                backup_id="20260301t000000z-aaaa",
                trigger="schedule",
                status=RunStatus.running,
                started_at=clock.now,
                lease_until=clock.now + LEASE,
            )
        )
        await session.commit()
    half = settings.data_dir / "half-written"
    half.parent.mkdir(parents=True, exist_ok=True)
    half.write_bytes(b"part of a dump")
    await service.store.put("20260301t000000z-aaaa", "database.sqlite3", half)
    with pytest.raises(Conflict, match="already running: 20260301t000000z-aaaa"):
        await service.create("test", "cli")
    assert await service.manifests() == []

    clock.now += LEASE + timedelta(seconds=1)
    manifest = await service.create("test", "cli")
    async with sessionmaker() as session:
        abandoned = await session.scalar(
            select(BackupRun).where(BackupRun.backup_id == "20260301t000000z-aaaa")
        )
    assert abandoned is not None
    assert abandoned.status == RunStatus.failed
    assert "abandoned" in (abandoned.detail or "")
    assert await service.store.storage.objects(service.store.key(abandoned.backup_id, "")) == []
    assert [m.backup_id for m in await service.manifests()] == [manifest.backup_id]

    # Two schedules at once when one is due: one takes it, the other is told it runs.
    clock.now += timedelta(days=settings.backup_interval_days)
    results = await asyncio.gather(
        service.run_if_due("one"), service.run_if_due("two"), return_exceptions=True
    )
    taken = [result for result in results if isinstance(result, Manifest)]
    assert len(taken) == 1
    # The other was refused while it ran, or found it taken once it held the lock.
    assert all(
        isinstance(result, Conflict) or result is None for result in results if result not in taken
    )
    assert len(await service.manifests()) == 2


async def test_readyz_shows_the_last_backup_002_dieu_14_7(
    client: AsyncClient, settings: Settings, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    """002 Điều 14.7: whether the periodic backup is being taken is visible to operators."""

    async def check() -> dict[str, object]:
        ready = (await client.get("/readyz")).json()
        [found] = [c for c in ready["checks"] if c["name"] == "backups"]
        assert found["required"] is False
        return dict(found)

    assert (await check())["detail"] == "none taken yet"
    manifest = await service_at(settings, sessionmaker, Clock(datetime.now(UTC))).create("t", "cli")
    shown = await check()
    assert shown["ok"] is True
    assert f"last {manifest.backup_id} succeeded" in str(shown["detail"])

    async with sessionmaker() as session:
        session.add(
            BackupRun(
                backup_id="29990101t000000z-ffff",
                trigger="schedule",
                status=RunStatus.failed,
                detail="ToolFailed: pg_dump failed",
                started_at=datetime.now(UTC),
                lease_until=datetime.now(UTC),
            )
        )
        await session.commit()
    shown = await check()
    assert shown["ok"] is False
    assert "failed" in str(shown["detail"])
    assert f"last good {manifest.backup_id}" in str(shown["detail"])
    assert (await client.get("/readyz")).status_code == 200  # degraded, still serving


async def test_the_worker_takes_the_backup_when_due_000_dieu_6_5(
    settings: Settings, engine: AsyncEngine, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    """000/004 Điều 6.5: the schedule runs in the worker, without anyone asking."""
    quick = settings.model_copy(update={"backup_check_seconds": 0.05})
    loop = asyncio.create_task(backup_forever(engine, quick))
    try:
        # The run is settled after its manifest is written: wait for the run, not the manifest.
        for _check in range(600):
            async with sessionmaker() as session:
                run = await session.scalar(select(BackupRun))
            if run is not None and run.status != RunStatus.running:
                break
            await asyncio.sleep(0.1)
    finally:
        loop.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await loop
    assert run is not None
    assert (run.trigger, run.status) == ("schedule", RunStatus.succeeded)
    service = service_at(quick, sessionmaker, Clock(datetime.now(UTC)))
    assert [manifest.backup_id for manifest in await service.manifests()] == [run.backup_id]
