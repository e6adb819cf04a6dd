"""The database's part of a backup, by each backend's own tools: PostgreSQL's `pg_dump
--format=custom` and `pg_restore`, SQLite's online backup API. Both copy a consistent
snapshot while the hub keeps serving."""

import asyncio
import os
import shutil
import sqlite3
from contextlib import closing
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import URL, make_url

from nguon.kit.db import create_engine
from nguon.kit.errors import Conflict, InvalidInput
from nguon.kit.migrate import current_revision


class ToolFailed(Exception):
    """pg_dump or pg_restore is missing or failed; the message says which and why."""


def backend_of(database_url: str) -> str:
    backend = make_url(database_url).get_backend_name()
    if backend not in {"postgresql", "sqlite"}:
        raise InvalidInput(f"Backups know PostgreSQL and SQLite, not {backend}.")
    return backend


def _sqlite_path(url: URL) -> Path:
    if url.database in (None, "", ":memory:"):
        raise InvalidInput("An in-memory SQLite database cannot be backed up or restored into.")
    return Path(url.database)


def _libpq(url: URL) -> tuple[list[str], dict[str, str]]:
    """pg_dump's connection arguments for a SQLAlchemy URL; the password travels in the
    environment, not on a command line every user of the machine can read."""
    environment = dict(os.environ)
    if url.password is not None:
        environment["PGPASSWORD"] = str(url.password)
    plain = url.set(drivername="postgresql", password=None, query={})
    dsn = plain.render_as_string(hide_password=False)
    return [f"--dbname={dsn}"], environment


async def _tool(name: str, *args: str, environment: dict[str, str]) -> None:
    program = shutil.which(name)
    if program is None:
        raise ToolFailed(
            f"{name} is not on PATH: install the PostgreSQL client tools (the same major "
            "version as the server, or newer) to back up or restore a PostgreSQL database"
        )
    process = await asyncio.create_subprocess_exec(
        program,
        *args,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
        env=environment,
    )
    _out, errors = await process.communicate()
    if process.returncode != 0:
        raise ToolFailed(
            f"{name} failed ({process.returncode}): {errors.decode(errors='replace').strip()}"
        )


def _sqlite_copy(source: Path, target: Path) -> None:
    with closing(sqlite3.connect(source)) as reading, closing(sqlite3.connect(target)) as writing:
        reading.backup(writing)  # all pages in one step: a consistent snapshot


async def dump(database_url: str, target: Path) -> None:
    url = make_url(database_url)
    if backend_of(database_url) == "sqlite":
        await asyncio.to_thread(_sqlite_copy, _sqlite_path(url), target)
        return
    connection, environment = _libpq(url)
    await _tool(
        "pg_dump",
        "--format=custom",
        "--no-owner",
        f"--file={target}",
        *connection,
        environment=environment,
    )


async def restore(database_url: str, source: Path) -> None:
    url = make_url(database_url)
    if backend_of(database_url) == "sqlite":
        path = _sqlite_path(url)
        path.parent.mkdir(parents=True, exist_ok=True)
        await asyncio.to_thread(_sqlite_copy, source, path)
        return
    connection, environment = _libpq(url)
    await _tool(
        "pg_restore",
        "--no-owner",
        "--exit-on-error",
        "--single-transaction",
        *connection,
        str(source),
        environment=environment,
    )


async def revision_and_tables(database_url: str) -> tuple[str | None, int]:
    """The database's Alembic revision and how many tables it holds (0: empty)."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite" and not _sqlite_path(url).exists():
        return None, 0
    engine = create_engine(database_url)
    try:
        async with engine.connect() as connection:
            if engine.dialect.name == "postgresql":
                count = text(
                    "SELECT count(*) FROM information_schema.tables"
                    " WHERE table_schema NOT IN ('pg_catalog', 'information_schema')"
                )
            else:
                count = text("SELECT count(*) FROM sqlite_master WHERE type = 'table'")
            tables = int(await connection.scalar(count) or 0)
            revision = await connection.run_sync(current_revision) if tables else None
    finally:
        await engine.dispose()
    return revision, tables


async def require_empty(database_url: str) -> None:
    _revision, tables = await revision_and_tables(database_url)
    if tables:
        raise Conflict(
            f"The database to restore into holds {tables} tables; a backup is restored only "
            "into an empty database. Create a new one and name it with --into."
        )
