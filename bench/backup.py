"""Backup and restore of the 100,000-bulletin bench database (002 Điều 11.2, 14.7).

Sets up PostgreSQL (NGUON_BENCH_DATABASE_URL, default the local `nguon_bench_backup` database,
created when missing, its `public` schema replaced) as bench/commune_queue.py does: An Giang,
HISTORY bulletins that left the air with their revisions and deliveries, what is on air; and
MEDIA objects of 1 MiB in the media storage. Then times:

- `nguon.backups` taking a backup (pg_dump, hashing, copying every part into
  data_dir/backups, the manifest), against `pg_dump --format=custom` alone (the baseline);
- verifying it (every part hashed again);
- restoring it into an empty database (`<name>_restored`, created afresh) with the media,
  against `pg_restore` of the same dump alone into another empty database (the baseline).

Prints the database's size, the backup's size and parts, each time, and the ratios.
Run: `.venv/bin/python bench/backup.py [history]` (default 100,000 bulletins).
"""

import asyncio
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import asyncpg
from sqlalchemy.engine import make_url

from nguon.audit.service import audit_session_info
from nguon.backups.service import BackupService
from nguon.backups.store import BackupStore
from nguon.kit.db import create_engine, create_sessionmaker
from nguon.kit.migrate import upgrade
from nguon.kit.settings import Settings
from nguon.kit.storage import LocalStorage

sys.path.insert(0, str(Path(__file__).resolve().parent))
from commune_queue import HISTORY, prepare
from playlist_poll import SECRET, ensure_database

DEFAULT_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/nguon_bench_backup"
MEDIA = 20
MEDIA_BYTES = 2**20


def plain(url: str) -> str:
    return url.replace("postgresql+asyncpg", "postgresql")


async def drop_database(url: str, create_again: bool = False) -> None:
    base, _slash, name = plain(url).rpartition("/")
    admin = await asyncpg.connect(f"{base}/postgres")
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if create_again:
            await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()


async def database_bytes(url: str) -> int:
    connection = await asyncpg.connect(plain(url))
    try:
        return int(await connection.fetchval("SELECT pg_database_size(current_database())"))
    finally:
        await connection.close()


async def add_media(storage: LocalStorage, scratch: Path) -> None:
    await storage.ensure_ready()
    for number in range(MEDIA):
        source = scratch / "object"
        source.write_bytes(os.urandom(MEDIA_BYTES))
        await storage.put_file(f"media/bench{number:04d}/original.mp3", source, "audio/mpeg")


def timed_tool(*command: str) -> float:
    started = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True)  # noqa: S603 - the PostgreSQL tools
    return time.perf_counter() - started


def mib(count: int) -> str:
    return f"{count / 2**20:,.1f} MiB"


async def bench(url: str, history: int, scratch: Path) -> None:
    settings = Settings(data_dir=scratch, database_url=url)
    started = time.perf_counter()
    setup = await prepare(settings, history)
    media = LocalStorage(scratch / "media")
    await add_media(media, scratch)
    print(
        f"setup: {time.perf_counter() - started:.1f} s; {history:,} bulletins in history, "
        f"{setup.deliveries:,} deliveries, {MEDIA} media objects of {mib(MEDIA_BYTES)}; "
        f"database {mib(await database_bytes(url))}"
    )

    engine = create_engine(url)
    sessionmaker = create_sessionmaker(engine, info=audit_session_info(SECRET))
    service = BackupService(settings, sessionmaker, BackupStore.from_settings(settings), media)
    try:
        dump = scratch / "baseline.pgdump"
        baseline_dump = timed_tool(
            "pg_dump", "--format=custom", f"--file={dump}", f"--dbname={plain(url)}"
        )
        started = time.perf_counter()
        manifest = await service.create("bench", "cli")
        backup_seconds = time.perf_counter() - started
        started = time.perf_counter()
        _manifest, problems = await service.verify(manifest.backup_id)
        verify_seconds = time.perf_counter() - started
        assert not problems, problems

        baseline_target = f"{url}_baseline"
        await drop_database(baseline_target, create_again=True)
        baseline_restore = timed_tool(
            "pg_restore", "--no-owner", "--exit-on-error", "--single-transaction",
            f"--dbname={plain(baseline_target)}", str(dump),
        )  # fmt: skip
        restored = f"{url}_restored"
        await drop_database(restored, create_again=True)
        started = time.perf_counter()
        await service.restore(manifest.backup_id, restored, "bench")
        restore_seconds = time.perf_counter() - started
    finally:
        await engine.dispose()

    database_part = manifest.database_part
    print(
        f"backup {manifest.backup_id}: {len(manifest.parts)} parts, {mib(manifest.size)} "
        f"(database dump {mib(database_part.size)}, pg_dump alone {mib(dump.stat().st_size)})"
    )
    print(f"pg_dump --format=custom alone (baseline)  {baseline_dump:7.2f} s")
    print(
        f"backup create                             {backup_seconds:7.2f} s   "
        f"{manifest.size / 2**20 / backup_seconds:6.1f} MiB/s"
    )
    print(
        f"backup verify                             {verify_seconds:7.2f} s   "
        f"{manifest.size / 2**20 / verify_seconds:6.1f} MiB/s"
    )
    print(f"pg_restore alone (baseline)               {baseline_restore:7.2f} s")
    print(f"backup restore (verify, restore, media)   {restore_seconds:7.2f} s")
    print(f"ratio create/pg_dump: {backup_seconds / baseline_dump:.2f}")
    print(f"ratio restore/pg_restore: {restore_seconds / baseline_restore:.2f}")
    print(f"restored database {mib(await database_bytes(restored))}")
    for copy in (baseline_target, restored):
        await drop_database(copy)


def main() -> None:
    history = int(sys.argv[1]) if len(sys.argv) > 1 else HISTORY
    url = os.environ.get("NGUON_BENCH_DATABASE_URL", DEFAULT_URL)
    if make_url(url).get_backend_name() != "postgresql":
        raise SystemExit("bench/backup.py measures PostgreSQL: NGUON_BENCH_DATABASE_URL")
    asyncio.run(ensure_database(url))
    upgrade(url)
    with tempfile.TemporaryDirectory() as scratch:
        asyncio.run(bench(url, history, Path(scratch)))


if __name__ == "__main__":
    main()
