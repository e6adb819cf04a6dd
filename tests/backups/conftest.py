import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from httpx import AsyncClient
from sqlalchemy import text
from sqlalchemy.engine import make_url

from nguon.areas.sources import AreaRecord
from nguon.identity.roles import Role
from nguon.kit.db import create_engine
from nguon.kit.settings import Settings
from tests.conftest import LAI_CHAU, MakeUser, communes_of, districts_of

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "media"


def environment_of(settings: Settings) -> dict[str, str]:
    """The settings a `nguon` command needs to act on the same hub as the test's app."""
    environment = {"NGUON_DATA_DIR": str(settings.data_dir)}
    if settings.s3_endpoint:
        assert settings.s3_access_key is not None
        assert settings.s3_secret_key is not None
        environment |= {
            "NGUON_S3_ENDPOINT": settings.s3_endpoint,
            "NGUON_S3_ACCESS_KEY": settings.s3_access_key.get_secret_value(),
            "NGUON_S3_SECRET_KEY": settings.s3_secret_key.get_secret_value(),
            "NGUON_S3_SECURE": "false",
            "NGUON_S3_BUCKET": settings.s3_bucket,
        }
    if settings.backup_s3_bucket:
        environment["NGUON_BACKUP_S3_BUCKET"] = settings.backup_s3_bucket
    return environment


@pytest.fixture
async def empty_database_url(database_url: str, tmp_path: Path) -> AsyncIterator[str]:
    """A new, empty database on the test's own server, dropped afterwards."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'restored.db'}"
        return
    name = f"restored_{uuid.uuid4().hex[:12]}"
    server = create_engine(url.set(database="postgres").render_as_string(hide_password=False))
    try:
        async with server.connect() as connection:
            autocommit = await connection.execution_options(isolation_level="AUTOCOMMIT")
            await autocommit.execute(text(f'CREATE DATABASE "{name}"'))
        yield url.set(database=name).render_as_string(hide_password=False)
        async with server.connect() as connection:
            autocommit = await connection.execution_options(isolation_level="AUTOCOMMIT")
            await autocommit.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
    finally:
        await server.dispose()


async def on_air_audio_bulletin(
    client: AsyncClient, make_user: MakeUser, areas: list[AreaRecord]
) -> tuple[str, str]:
    """An audio bulletin approved and on air in a Lai Châu commune: its id and its media's."""
    district = districts_of(areas, LAI_CHAU)[0]
    publisher = await make_user("backup.publisher", Role.publisher, district)
    editor = await make_user("backup.editor", Role.editor, LAI_CHAU)
    uploaded = await client.post(
        "/api/v1/media",
        files={"file": ("ban-tin.mp3", (FIXTURES / "tone.mp3").read_bytes(), "audio/mpeg")},
        headers=publisher,
    )
    assert uploaded.status_code == 201, uploaded.text
    media_id = uploaded.json()["id"]
    created = await client.post(
        "/api/v1/bulletins",
        json={
            "title": "Bản tin phòng chống lũ",
            "kind": "audio",
            "language": "vi",
            "category": "disaster_fire_epidemic",
            "priority": "normal",
            "targets": [communes_of(areas, district)[0]],
            "media": [media_id],
        },
        headers=publisher,
    )
    assert created.status_code == 201, created.text
    bulletin_id = created.json()["id"]
    submitted = await client.post(f"/api/v1/bulletins/{bulletin_id}/submit", headers=publisher)
    assert submitted.status_code == 200, submitted.text
    approved = await client.post(f"/api/v1/bulletins/{bulletin_id}/approve", headers=editor)
    assert approved.status_code == 200, approved.text
    return bulletin_id, media_id
