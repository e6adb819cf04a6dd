"""Taking, checking, restoring and pruning backups of the whole hub.

A backup is a database dump and a copy of every media object, each a part with its size and
SHA-256 in the manifest, which is written last. Runs are rows of `backup_runs`: the running
row is the lock that keeps two backups from running at once, and the last row is what
`/readyz` and `nguon backup list` show.
"""

import asyncio
import contextlib
import secrets
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

import nguon
from nguon.audit.service import AuditEntry, AuditService, Outcome, audit_session_info
from nguon.backups import database
from nguon.backups.manifest import DATABASE_PARTS, OBJECT_PREFIX, Manifest, Part, digest
from nguon.backups.models import BackupRun, RunStatus
from nguon.backups.repository import BackupRunRepository
from nguon.backups.store import BackupStore
from nguon.kit.db import create_engine, create_sessionmaker, lock_for_writing, utcnow
from nguon.kit.errors import Conflict, NotFound
from nguon.kit.settings import Settings
from nguon.kit.storage import ObjectStorage, StorageError, check_key

log = structlog.get_logger()

# Serialises the start of backup runs (any constant no other writer uses).
_RUN_LOCK_KEY = 0x6E67_6261_636B
# A running backup holds the lock this long past its last sign of life, renewed well within.
LEASE = timedelta(minutes=10)
RESTORED_TYPE = "application/octet-stream"


@dataclass(frozen=True, slots=True)
class Step:
    """Where long work stands: parts done of all, bytes so far, the part just done."""

    done: int
    total: int
    bytes: int
    part: str


Progress = Callable[[Step], None]


def no_progress(_step: Step) -> None:
    pass


@dataclass(frozen=True, slots=True)
class PartProblem:
    part: str
    reason: str


def new_backup_id(now: datetime) -> str:
    # Sorts by time (listing and pruning rely on it); the suffix keeps two in a second apart.
    return f"{now:%Y%m%dt%H%M%Sz}-{secrets.token_hex(2)}"


class BackupService:
    def __init__(
        self,
        settings: Settings,
        sessionmaker: async_sessionmaker[AsyncSession],
        store: BackupStore,
        media: ObjectStorage,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.settings = settings
        self.sessionmaker = sessionmaker
        self.store = store
        self.media = media
        self.clock = clock

    def scratch(self) -> tempfile.TemporaryDirectory[str]:
        """Room for one part at a time, beside the data (a dump may not fit in /tmp)."""
        self.settings.data_dir.mkdir(parents=True, exist_ok=True)
        return tempfile.TemporaryDirectory(prefix="backup-", dir=self.settings.data_dir)

    # --- runs ------------------------------------------------------------------------------

    async def _start_run(self, trigger: str, only_if_due: bool) -> BackupRun | None:
        """The new run, holding the lock; None when `only_if_due` and another process has
        just taken the backup that was due."""
        async with self.sessionmaker() as session:
            runs = BackupRunRepository(session)
            await lock_for_writing(session, _RUN_LOCK_KEY)
            now = self.clock()
            if only_if_due and not self._due(await runs.latest_succeeded(), now):
                return None
            abandoned = []
            for run in await runs.running():
                if run.lease_until > now:
                    raise Conflict(
                        f"A backup is already running: {run.backup_id}, started at "
                        f"{run.started_at.isoformat()}."
                    )
                run.status = RunStatus.failed
                run.detail = "abandoned: the process taking it stopped before it finished"
                run.finished_at = now
                abandoned.append(run.backup_id)
            run = BackupRun(
                backup_id=new_backup_id(now),
                trigger=trigger,
                status=RunStatus.running,
                started_at=now,
                lease_until=now + LEASE,
            )
            runs.add(run)
            await session.commit()
        for backup_id in abandoned:  # the parts it wrote, without a manifest, are of no use
            await self.store.delete(backup_id)
        return run

    async def _keep_lease(self, run_id: int) -> None:
        while True:
            await asyncio.sleep(LEASE.total_seconds() / 4)
            try:
                async with self.sessionmaker() as session:
                    await BackupRunRepository(session).renew(run_id, self.clock() + LEASE)
                    await session.commit()
            except Exception:  # the next renewal tries again, well within the lease
                log.exception("backup_lease_not_renewed")

    async def _finish_run(
        self, run: BackupRun, actor: str, manifest: Manifest | None, failure: str | None
    ) -> None:
        async with self.sessionmaker() as session:
            stored = await BackupRunRepository(session).by_backup_id(run.backup_id)
            assert stored is not None
            stored.finished_at = self.clock()
            if manifest is not None:
                stored.status = RunStatus.succeeded
                stored.size_bytes = manifest.size
                stored.parts = len(manifest.parts)
            else:
                stored.status = RunStatus.failed
                stored.detail = (failure or "failed")[:1000]
            entry = AuditEntry(
                actor=actor,
                action="backup create",
                target=f"backup:{run.backup_id}",
                outcome=Outcome.success if manifest is not None else Outcome.error,
            )
            await AuditService(session).append_and_commit(entry)

    async def last_run(self) -> BackupRun | None:
        async with self.sessionmaker() as session:
            return await BackupRunRepository(session).latest()

    # --- create ----------------------------------------------------------------------------

    async def create(self, actor: str, trigger: str, progress: Progress = no_progress) -> Manifest:
        """Take a backup now: the database, then every media object, then the manifest."""
        manifest = await self._create(actor, trigger, progress, only_if_due=False)
        assert manifest is not None
        return manifest

    async def _create(
        self, actor: str, trigger: str, progress: Progress, only_if_due: bool
    ) -> Manifest | None:
        await self.store.storage.ensure_ready()
        run = await self._start_run(trigger, only_if_due)
        if run is None:
            return None
        lease = asyncio.create_task(self._keep_lease(run.id), name="backup-lease")
        try:
            manifest = await self._copy_everything(run, progress)
        except Exception as exc:
            log.exception("backup_failed", backup=run.backup_id)
            with contextlib.suppress(Exception):  # what was written of it is of no use
                await self.store.delete(run.backup_id)
            await self._finish_run(run, actor, None, f"{type(exc).__name__}: {exc}")
            raise
        finally:
            lease.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await lease
        await self._finish_run(run, actor, manifest, None)
        log.info("backup_taken", backup=run.backup_id, bytes=manifest.size)
        return manifest

    async def _copy_everything(self, run: BackupRun, progress: Progress) -> Manifest:
        url = self.settings.resolved_database_url
        backend = database.backend_of(url)
        revision, _tables = await database.revision_and_tables(url)
        parts: list[Part] = []
        with self.scratch() as directory:
            scratch = Path(directory)
            dumped = scratch / DATABASE_PARTS[backend]
            await database.dump(url, dumped)
            parts.append(await self._put(run.backup_id, dumped, dumped.name))
            # Listed after the dump: every object the dump refers to is there to copy.
            keys = [stored.key for stored in await self.media.objects("") if _is_key(stored.key)]
            total = 1 + len(keys)
            progress(Step(1, total, parts[0].size, parts[0].name))
            for number, key in enumerate(sorted(keys), start=2):
                copied = scratch / "object"
                await self.media.get_file(key, copied)
                parts.append(await self._put(run.backup_id, copied, OBJECT_PREFIX + key))
                copied.unlink()
                progress(Step(number, total, sum(p.size for p in parts), parts[-1].name))
            manifest = Manifest(
                backup_id=run.backup_id,
                created_at=run.started_at,
                hub_version=nguon.__version__,
                alembic_revision=revision,
                database_backend=backend,
                parts=parts,
            )
            await self.store.write_manifest(manifest, scratch)
        return manifest

    async def _put(self, backup_id: str, source: Path, name: str) -> Part:
        part = (await asyncio.to_thread(digest, source)).model_copy(update={"name": name})
        await self.store.put(backup_id, name, source)
        return part

    # --- list and verify -------------------------------------------------------------------

    async def manifests(self) -> list[Manifest]:
        """Every complete backup in the store, oldest first."""
        found = []
        with self.scratch() as directory:
            for backup_id in await self.store.backup_ids():
                manifest = await self.store.manifest(backup_id, Path(directory))
                if manifest is not None:
                    found.append(manifest)
        return found

    async def manifest(self, backup_id: str, scratch: Path) -> Manifest:
        try:
            check_key(backup_id)
        except StorageError:
            manifest = None
        else:
            manifest = await self.store.manifest(backup_id, scratch)
        if manifest is None:
            raise NotFound(f"No backup {backup_id} in {self.store.where}.")
        return manifest

    async def verify(
        self, backup_id: str, progress: Progress = no_progress
    ) -> tuple[Manifest, list[PartProblem]]:
        """Hash every part again against the manifest; each part missing or changed."""
        problems = []
        with self.scratch() as directory:
            scratch = Path(directory)
            manifest = await self.manifest(backup_id, scratch)
            done_bytes = 0
            for number, part in enumerate(manifest.parts, start=1):
                if problem := await self._check_part(manifest.backup_id, part, scratch):
                    problems.append(problem)
                done_bytes += part.size
                progress(Step(number, len(manifest.parts), done_bytes, part.name))
        return manifest, problems

    async def _check_part(self, backup_id: str, part: Part, scratch: Path) -> PartProblem | None:
        copied = scratch / "part"
        if not await self.store.get(backup_id, part.name, copied):
            return PartProblem(part.name, "missing")
        found = await asyncio.to_thread(digest, copied)
        copied.unlink()
        if (found.size, found.sha256) != (part.size, part.sha256):
            return PartProblem(
                part.name,
                f"changed: {found.size} bytes, sha256 {found.sha256}; the manifest says "
                f"{part.size} bytes, sha256 {part.sha256}",
            )
        return None

    # --- restore ---------------------------------------------------------------------------

    async def restore(
        self, backup_id: str, into_url: str, actor: str, progress: Progress = no_progress
    ) -> Manifest:
        """Restore the backup into the empty database at `into_url`, and its media objects
        into this hub's object storage. The restored audit chain checks out only under the
        NGUON_SECRET_KEY of the hub that took the backup."""
        await database.require_empty(into_url)
        manifest, problems = await self.verify(backup_id)
        if problems:
            names = ", ".join(
                f"{problem.part} ({problem.reason.split(':')[0]})" for problem in problems
            )
            raise Conflict(f"Backup {backup_id} is damaged, nothing was restored: {names}.")
        if database.backend_of(into_url) != manifest.database_backend:
            raise Conflict(
                f"Backup {backup_id} holds a {manifest.database_backend} database; it restores "
                "only into the same kind of database."
            )
        await self.media.ensure_ready()
        total = len(manifest.parts)
        with self.scratch() as directory:
            scratch = Path(directory)
            part = manifest.database_part
            dumped = scratch / part.name
            await self.store.get(backup_id, part.name, dumped)
            await database.restore(into_url, dumped)
            dumped.unlink()
            done_bytes = part.size
            progress(Step(1, total, done_bytes, part.name))
            for number, part in enumerate(manifest.object_parts, start=2):
                copied = scratch / "object"
                await self.store.get(backup_id, part.name, copied)
                await self.media.put_file(
                    part.name.removeprefix(OBJECT_PREFIX), copied, RESTORED_TYPE
                )
                copied.unlink()
                done_bytes += part.size
                progress(Step(number, total, done_bytes, part.name))
        await self._record_restore(manifest, into_url, actor)
        return manifest

    async def _record_restore(self, manifest: Manifest, into_url: str, actor: str) -> None:
        """On the restored database: the backup's own run (dumped while it ran) finished, and
        the restore itself in the audit trail, chained on under the same key."""
        engine = create_engine(into_url)
        try:
            info = audit_session_info(self.settings.signing_secret())
            async with create_sessionmaker(engine, info=info)() as session:
                run = await BackupRunRepository(session).by_backup_id(manifest.backup_id)
                if run is not None and run.status == RunStatus.running:
                    run.status = RunStatus.succeeded
                    run.finished_at = run.lease_until = manifest.created_at
                    run.size_bytes = manifest.size
                    run.parts = len(manifest.parts)
                entry = AuditEntry(
                    actor=actor,
                    action="backup restore",
                    target=f"backup:{manifest.backup_id}",
                    outcome=Outcome.success,
                )
                await AuditService(session).append_and_commit(entry)
        finally:
            await engine.dispose()

    # --- schedule and retention ------------------------------------------------------------

    async def due(self) -> bool:
        async with self.sessionmaker() as session:
            last = await BackupRunRepository(session).latest_succeeded()
        return self._due(last, self.clock())

    def _due(self, last_good: BackupRun | None, now: datetime) -> bool:
        interval = timedelta(days=self.settings.backup_interval_days)
        return last_good is None or now - last_good.started_at >= interval

    async def prune(self, actor: str) -> list[str]:
        """Remove the backups older than the retention; never the newest one."""
        cutoff = self.clock() - timedelta(days=self.settings.backup_retention_days)
        manifests = await self.manifests()
        removed = []
        for manifest in manifests[:-1]:
            if manifest.created_at < cutoff:
                await self.store.delete(manifest.backup_id)
                removed.append(manifest.backup_id)
        if removed:
            async with self.sessionmaker() as session:
                entry = AuditEntry(
                    actor=actor,
                    action="backup prune",
                    target=",".join(f"backup:{backup_id}" for backup_id in removed)[:500],
                    outcome=Outcome.success,
                )
                await AuditService(session).append_and_commit(entry)
        return removed

    async def run_if_due(self, actor: str) -> Manifest | None:
        """The schedule's pass: a backup when the last good one is old enough, then pruning
        (only after a new one succeeded, so a failing schedule never thins the old ones)."""
        if not await self.due():
            return None
        # Due is asked again under the run lock: another worker may have just taken it.
        manifest = await self._create(actor, "schedule", no_progress, only_if_due=True)
        if manifest is not None:
            await self.prune(actor)
        return manifest


def _is_key(key: str) -> bool:
    """Objects only; the local storage's writability probe (`.ready`) is no object."""
    try:
        check_key(key)
    except StorageError:
        return False
    return True
