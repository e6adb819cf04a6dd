"""The backups page: the runs with their status, and the inspection export to download
(002 Điều 11.2: backups taken regularly; 001 Điều 9.1: data kept for inspection)."""

from datetime import UTC, datetime
from io import BytesIO

from httpx import AsyncClient
from openpyxl import load_workbook
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from nguon.backups.service import BackupService
from nguon.backups.store import BackupStore
from nguon.identity.roles import Role
from nguon.kit.settings import Settings
from nguon.kit.storage import create_storage
from tests.conftest import AN_GIANG
from tests.console.conftest import SignInAs


async def test_admins_see_the_backup_runs_and_download_the_export_002_dieu_11_2(
    client: AsyncClient,
    sign_in_as: SignInAs,
    settings: Settings,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    """002 Điều 11.2 and 001 Điều 9.1: the operator sees each backup's status in Vietnamese
    and takes the period's export for inspectors from the same page."""
    await sign_in_as("backup.admin", Role.admin, AN_GIANG)
    empty = await client.get("/console/backups")
    assert empty.status_code == 200
    assert 'href="/console/backups"' in empty.text  # in the main menu
    assert "Chưa có bản sao lưu nào." in empty.text

    service = BackupService(
        settings, sessionmaker, BackupStore.from_settings(settings), create_storage(settings)
    )
    manifest = await service.create("test", "cli")
    page = await client.get("/console/backups")
    assert f"<code>{manifest.backup_id}</code>" in page.text
    assert "thành công" in page.text
    assert "dòng lệnh" in page.text

    today = datetime.now(UTC).date().isoformat()
    export = await client.get("/console/backups/inspection", params={"from": today, "to": today})
    assert export.status_code == 200, export.text
    book = load_workbook(BytesIO(export.content))
    assert book.sheetnames == ["Bulletins", "Advertising", "Broadcasts"]

    refused = await client.get("/console/backups/inspection", params={"from": today, "to": ""})
    assert refused.status_code == 422
    assert "Hãy chọn ngày đầu và ngày cuối" in refused.text
    assert f'value="{today}"' in refused.text


async def test_the_backups_page_is_for_admins_002_dieu_11_2(
    client: AsyncClient, sign_in_as: SignInAs
) -> None:
    """002 Điều 11.2: the backups are the operator's (an administrator's) to watch."""
    await sign_in_as("backup.viewer", Role.viewer, AN_GIANG)
    assert (await client.get("/console/backups")).status_code == 403
    assert (
        await client.get(
            "/console/backups/inspection", params={"from": "2026-01-01", "to": "2026-01-01"}
        )
    ).status_code == 403
