"""Backups of the whole hub: taken, listed, checked part by part, restored into an empty
database. The seeds: 002 Điều 11.2 (the operator backs up regularly) and 14.7 (periodically,
as the law on archives says); 000/004 Điều 6.5 (monthly); 001 Điều 9.1 (content, advertising
and broadcast times kept for inspection)."""

import hashlib
import json

import pytest
from httpx import ASGITransport, AsyncClient
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from nguon.app import create_app
from nguon.areas.sources import AreaRecord
from nguon.backups.store import BackupStore
from nguon.identity.roles import Role
from nguon.kit.settings import Settings
from nguon.kit.storage import create_storage
from tests.backups.conftest import environment_of, on_air_audio_bulletin
from tests.commands import Ran, nguon
from tests.conftest import LAI_CHAU, PASSWORD, MakeUser, with_s3


@pytest.fixture(params=["local", "s3"])
def settings(request: pytest.FixtureRequest, settings: Settings, s3_server: str) -> Settings:
    """Backups in data_dir with media on disk, and backups in an S3 bucket with media on S3."""
    if request.param == "local":
        return settings
    on_s3 = with_s3(settings, s3_server)
    return on_s3.model_copy(update={"backup_s3_bucket": f"backups-{on_s3.s3_bucket}"})


def backup(settings: Settings, database_url: str, *args: str) -> Ran:
    return nguon(database_url, "backup", *args, environment=environment_of(settings))


def created(settings: Settings, database_url: str) -> str:
    ran = backup(settings, database_url, "create")
    assert ran.returncode == 0, ran.stderr
    return ran.stdout.strip().splitlines()[-1]


async def test_backup_is_listed_and_verifies_002_dieu_11_2(
    client: AsyncClient,
    make_user: MakeUser,
    areas: list[AreaRecord],
    settings: Settings,
    database_url: str,
    backend: str,
) -> None:
    """002 Điều 11.2: the operator backs up the hub's data; each part of it can be checked."""
    _bulletin, _media_id = await on_air_audio_bulletin(client, make_user, areas)
    backup_id = created(settings, database_url)

    listed = backup(settings, database_url, "list")
    assert listed.returncode == 0, listed.stderr
    assert backup_id in listed.stdout
    assert backend in listed.stdout
    assert f"last run: {backup_id} succeeded (cli)" in listed.stdout
    verified = backup(settings, database_url, "verify", backup_id)
    assert verified.returncode == 0, verified.stderr
    assert f"backup {backup_id} intact" in verified.stdout
    # Progress for long work: a line per part, parts done of all.
    assert "1/" in verified.stderr
    assert "parts" in verified.stderr


async def tamper(settings: Settings, backup_id: str, part: str, content: bytes | None) -> None:
    """Change a stored part's bytes, or delete it (None), where the backups are kept."""
    store = BackupStore.from_settings(settings)
    key = store.key(backup_id, part)
    if content is None:
        await store.storage.delete(key)
        return
    changed = settings.data_dir / "tampered"
    changed.write_bytes(content)
    await store.storage.put_file(key, changed, "application/octet-stream")


async def test_verify_names_each_changed_or_missing_part_002_dieu_14_7(
    client: AsyncClient,
    make_user: MakeUser,
    areas: list[AreaRecord],
    settings: Settings,
    database_url: str,
    backend: str,
) -> None:
    """002 Điều 14.7: a backup kept for the archives must be known to be whole."""
    _bulletin, _media_id = await on_air_audio_bulletin(client, make_user, areas)
    backup_id = created(settings, database_url)
    manifest = await _manifest(settings, backup_id)
    original = next(p for p in manifest["parts"] if p["name"].endswith("original.mp3"))
    database_part = "database.pgdump" if backend == "postgresql" else "database.sqlite3"

    await tamper(settings, backup_id, original["name"], b"not the recording")
    damaged = backup(settings, database_url, "verify", backup_id)
    assert damaged.returncode == 1
    assert named(damaged) == {original["name"]: "changed"}

    await tamper(settings, backup_id, database_part, None)
    damaged = backup(settings, database_url, "verify", backup_id)
    assert damaged.returncode == 1
    assert named(damaged) == {original["name"]: "changed", database_part: "missing"}
    assert f"DAMAGED: 2 of {len(manifest['parts'])} parts" in damaged.stderr

    unknown = backup(settings, database_url, "verify", "20200101t000000z-0000")
    assert unknown.returncode == 1
    assert "No backup 20200101t000000z-0000" in unknown.stderr


def named(verified: Ran) -> dict[str, str]:
    """The parts `verify` names as damaged, and how (progress lines are indented)."""
    problems = {}
    for line in verified.stderr.splitlines():
        part, _, reason = line.partition(": ")
        if reason and not line.startswith((" ", "backup ")):
            problems[part] = reason.split(":")[0]
    return problems


async def _manifest(settings: Settings, backup_id: str) -> dict[str, list[dict[str, str]]]:
    target = settings.data_dir / "manifest-read"
    assert await BackupStore.from_settings(settings).get(backup_id, "manifest.json", target)
    manifest: dict[str, list[dict[str, str]]] = json.loads(target.read_text())
    return manifest


async def test_restore_into_an_empty_database_brings_the_hub_back_001_dieu_9_1(
    client: AsyncClient,
    make_user: MakeUser,
    areas: list[AreaRecord],
    settings: Settings,
    database_url: str,
    engine: AsyncEngine,
    empty_database_url: str,
) -> None:
    """001 Điều 9.1: what was broadcast is kept for inspection. After the database is broken
    and the media lost, a restore into an empty database gives the same bulletins, the same
    media (same SHA-256) and an intact audit chain."""
    bulletin_id, media_id = await on_air_audio_bulletin(client, make_user, areas)
    headers = await make_user("backup.viewer", Role.viewer, LAI_CHAU)
    before = (await client.get(f"/api/v1/bulletins/{bulletin_id}", headers=headers)).json()
    listing = (await client.get("/api/v1/bulletins", headers=headers)).json()
    recording = await _download(client, media_id, headers)
    backup_id = created(settings, database_url)

    # Break the database and lose the media.
    async with engine.begin() as connection:
        await connection.execute(text("DELETE FROM bulletins"))
    storage = create_storage(settings)
    for stored in await storage.objects("media/"):
        await storage.delete(stored.key)

    refused = backup(settings, database_url, "restore", backup_id, "--into", database_url)
    assert refused.returncode == 1
    assert "only into an empty database" in refused.stderr

    restored = backup(settings, database_url, "restore", backup_id, "--into", empty_database_url)
    assert restored.returncode == 0, restored.stderr
    assert "NGUON_SECRET_KEY" in restored.stdout

    hub = create_app(settings.model_copy(update={"database_url": empty_database_url}))
    try:
        transport = ASGITransport(app=hub)
        async with AsyncClient(transport=transport, base_url="http://hub.test") as again:
            token = await again.post(
                "/api/v1/auth/token",
                data={"username": "backup.viewer", "password": PASSWORD},
            )
            assert token.status_code == 200, token.text
            headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
            after = await again.get(f"/api/v1/bulletins/{bulletin_id}", headers=headers)
            assert after.status_code == 200, after.text
            assert after.json() == before
            assert (await again.get("/api/v1/bulletins", headers=headers)).json() == listing
            assert await _download(again, media_id, headers) == recording
    finally:
        await hub.state.engine.dispose()

    audited = nguon(empty_database_url, "audit", "verify")
    assert audited.returncode == 0, audited.stderr
    assert "audit chain intact" in audited.stdout
    listed = backup(settings, empty_database_url, "list")
    assert f"last run: {backup_id} succeeded" in listed.stdout


async def _download(client: AsyncClient, media_id: str, headers: dict[str, str]) -> str:
    """The SHA-256 of the media's bytes, fetched as a device would (following a redirect)."""
    answer = await client.get(f"/api/v1/media/{media_id}", headers=headers)
    if answer.status_code in (302, 307):
        async with AsyncClient() as outside:
            answer = await outside.get(answer.headers["location"])
    assert answer.status_code == 200, answer.text
    return hashlib.sha256(answer.content).hexdigest()


async def test_a_failed_backup_is_recorded_and_leaves_nothing_002_dieu_11_2(
    settings: Settings, database_url: str, backend: str, client: AsyncClient
) -> None:
    """002 Điều 11.2: a backup that could not be taken is seen as failed, with the reason
    (here pg_dump missing from PATH), and leaves no half backup behind."""
    if backend != "postgresql":
        pytest.skip("SQLite's backup API needs no outside tool")
    failed = nguon(
        database_url,
        "backup",
        "create",
        environment={**environment_of(settings), "PATH": "/nonexistent"},
    )
    assert failed.returncode == 1
    assert "pg_dump is not on PATH" in failed.stderr
    listed = backup(settings, database_url, "list")
    assert "no backups in" in listed.stdout
    assert "failed (cli)" in listed.stdout
    assert "pg_dump is not on PATH" in listed.stdout
    ready = (await client.get("/readyz")).json()
    [check] = [check for check in ready["checks"] if check["name"] == "backups"]
    assert check["ok"] is False
    assert ready["status"] == "degraded"
