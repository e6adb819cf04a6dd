"""What broken-off uploads leave behind is swept; uploads in progress and stored media stay."""

import asyncio
import os
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from nguon.identity.roles import Role
from nguon.kit.db import utcnow
from nguon.kit.settings import Settings
from nguon.kit.storage import GrowingFile, LocalStorage, ObjectStorage
from nguon.media.sweep import SWEEP_ACTOR, sweep
from tests.conftest import AN_GIANG, MakeUser
from tests.media.test_upload import png_bytes, upload


async def stored_keys(storage: ObjectStorage) -> set[str]:
    return {stored.key for stored in await storage.objects("media/")}


def broken_off_upload(storage: LocalStorage, age: timedelta) -> Path:
    """The half-written file of an upload whose process was killed `age` ago."""
    partial = storage.path_of(f"media/{uuid.uuid4().hex}/original.mp3.partial")
    partial.parent.mkdir(parents=True)
    partial.write_bytes(b"ID3" + bytes(4096))
    when = (utcnow() - age).timestamp()
    os.utime(partial, (when, when))
    return partial


def key_of(storage: LocalStorage, partial: Path) -> str:
    return partial.relative_to(storage.root).as_posix().removesuffix(".partial")


async def test_leftovers_are_swept_and_live_uploads_kept(
    app: FastAPI,
    client: AsyncClient,
    make_user: MakeUser,
    sessionmaker: async_sessionmaker[AsyncSession],
    settings: Settings,
    tmp_path: Path,
) -> None:
    storage: ObjectStorage = app.state.storage
    publisher = await make_user("sweep.publisher", Role.publisher, AN_GIANG)
    committed: dict[str, Any] = await upload(client, publisher, "a.png", png_bytes(), "image/png")
    assert committed["status"] == 201, committed
    media_keys = await stored_keys(storage)
    assert len(media_keys) == 2  # the original and its thumbnail

    # Stored before its transaction failed: no media record names it.
    leftover = tmp_path / "leftover.png"
    leftover.write_bytes(png_bytes((8, 8)))
    orphan = f"media/{uuid.uuid4().hex}/original.png"
    await storage.put_file(orphan, leftover, "image/png")
    # An upload still arriving while the sweep runs.
    arriving = GrowingFile(tmp_path / "arriving")
    arriving.append(b"ID3" + bytes(1000))
    live = f"media/{uuid.uuid4().hex}/original.mp3"
    transfer = asyncio.create_task(storage.put_growing(live, arriving, "audio/mpeg"))
    stale = fresh = None
    if isinstance(storage, LocalStorage):  # S3 never shows half an object
        stale = broken_off_upload(storage, timedelta(hours=2))
        fresh = broken_off_upload(storage, timedelta(minutes=1))

    now = utcnow()
    # The orphan is as young as an upload whose record is still being written: kept for now.
    first = await sweep(sessionmaker, storage, settings, now)
    assert first.orphans == []
    assert first.partials == ([key_of(storage, stale)] if stale else [])
    if stale is not None:
        assert not stale.exists()
        assert fresh.exists()
    arriving.append(bytes(1000))
    arriving.finish()
    await transfer
    assert await stored_keys(storage) == media_keys | {orphan, live}

    # A day on, neither was ever recorded.
    past_grace = now + timedelta(seconds=settings.media_orphan_grace_seconds + 60)
    second = await sweep(sessionmaker, storage, settings, past_grace)
    assert sorted(second.orphans) == sorted([orphan, live])
    assert second.partials == ([key_of(storage, fresh)] if stale else [])
    assert await stored_keys(storage) == media_keys
    served = await client.get(f"/api/v1/media/{committed['body']['id']}", headers=publisher)
    assert served.status_code in (200, 307)

    admin = await make_user("sweep.admin", Role.admin, AN_GIANG)
    audit = await client.get("/api/v1/audit", headers=admin)
    sweeps = [r for r in audit.json()["items"] if r["actor"] == SWEEP_ACTOR]
    assert [r["action"] for r in sweeps] == ["media sweep"] * (2 if stale else 1)
