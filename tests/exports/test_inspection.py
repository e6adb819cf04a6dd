"""The inspection export: content, advertising content and broadcast times of a period
(001 Điều 9.1: "thông tin tuyên truyền, thông tin quảng cáo, thời gian đăng phát phục vụ
công tác thanh tra, kiểm tra"), on local days with the "to" day included."""

from datetime import date, datetime, time, timedelta
from io import BytesIO
from pathlib import Path
from typing import Any

import pytest
from httpx import AsyncClient
from openpyxl import load_workbook
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from nguon.areas.sources import AreaRecord
from nguon.bulletins.models import BulletinRevision
from nguon.dispatch.slots import LOCAL
from nguon.identity.roles import Role
from tests.bulletins.test_workflow import text_bulletin
from tests.commands import nguon
from tests.conftest import AN_GIANG, LAI_CHAU, MakeEndpoint, MakeUser, communes_of
from tests.dispatch.test_queue import publish

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
LAST_DAY = datetime.now(LOCAL).date() - timedelta(days=1)
FIRST_DAY = LAST_DAY - timedelta(days=2)


def local(day: date, hour: int = 0, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), LOCAL)


async def approved_at(
    sessionmaker: async_sessionmaker[AsyncSession], bulletin_id: str, moment: datetime
) -> None:
    async with sessionmaker() as session:
        await session.execute(
            update(BulletinRevision)
            .where(BulletinRevision.bulletin_id == bulletin_id)
            .values(approved_at=moment)
        )
        await session.commit()


def rows(book: Any, sheet: str) -> list[tuple[Any, ...]]:
    return [tuple(row) for row in book[sheet].iter_rows(values_only=True)]


@pytest.fixture
async def period_content(
    client: AsyncClient,
    make_user: MakeUser,
    make_endpoint: MakeEndpoint,
    areas: list[AreaRecord],
    sessionmaker: async_sessionmaker[AsyncSession],
) -> dict[str, str]:
    """In An Giang: a bulletin and an advertisement on air within the period, one on air the
    day before it; plays at the period's edges. A Lai Châu bulletin outside the area."""
    publisher = await make_user("export.publisher", Role.publisher, AN_GIANG)
    editor = await make_user("export.editor", Role.editor, AN_GIANG)
    other_editor = await make_user("export.laichau", Role.editor, LAI_CHAU)
    commune = communes_of(areas, AN_GIANG)[0]
    radio = await make_endpoint("EX-RADIO", "radio", commune)
    inside = await publish(client, publisher, editor, text_bulletin(AN_GIANG, title="Lịch tiêm"))
    advert = await publish(
        client,
        publisher,
        editor,
        text_bulletin(AN_GIANG, title="=Gạo ST25 giá tốt", category="advertising"),
    )
    before = await publish(client, publisher, editor, text_bulletin(AN_GIANG, title="Hôm trước"))
    elsewhere = await publish(
        client, other_editor, other_editor, text_bulletin(LAI_CHAU, title="Lai Châu")
    )
    await approved_at(sessionmaker, inside, local(FIRST_DAY))  # the first moment: included
    await approved_at(sessionmaker, advert, local(LAST_DAY, 23, 59))  # the last day: included
    await approved_at(sessionmaker, before, local(FIRST_DAY) - timedelta(seconds=1))
    await approved_at(sessionmaker, elsewhere, local(FIRST_DAY, 12))

    def play(client_id: str, bulletin: str, begins: datetime, outcome: str) -> dict[str, Any]:
        ends = begins + timedelta(minutes=2)
        return {
            "id": client_id,
            "bulletin_id": bulletin,
            "started_at": begins.isoformat(),
            "ended_at": ends.isoformat(),
            "outcome": outcome,
        }

    reported = await client.post(
        "/api/v1/device/plays",
        json={
            "plays": [
                play("too-early", inside, local(FIRST_DAY) - timedelta(minutes=1), "played"),
                play("first", inside, local(FIRST_DAY, 5), "played"),
                play("advert", advert, local(LAST_DAY, 17, 30), "interrupted"),
                play("last", inside, local(LAST_DAY, 23, 58), "failed"),
                play("too-late", inside, local(LAST_DAY + timedelta(days=1)), "played"),
            ]
        },
        headers=radio,
    )
    assert reported.status_code == 200, reported.text
    return {"inside": inside, "advert": advert, "editor_token": editor["Authorization"]}


def check_figures(book: Any, content: dict[str, str]) -> None:
    assert book.sheetnames == ["Bulletins", "Advertising", "Broadcasts"]
    bulletins = rows(book, "Bulletins")
    assert bulletins[0][:4] == ("Mã tin", "Tiêu đề", "Hình thức", "Lĩnh vực")
    assert [row[0] for row in bulletins[1:]] == [content["inside"]]
    assert bulletins[1][3] == "Tiếp cận thông tin"
    assert bulletins[1][11] == local(FIRST_DAY).replace(tzinfo=None)  # local wall-clock time

    advertising = rows(book, "Advertising")
    assert [row[:2] for row in advertising[1:]] == [(content["advert"], "=Gạo ST25 giá tốt")]
    assert advertising[1][3] == "Quảng cáo"
    assert book["Advertising"]["B2"].data_type == "s"  # typed text, never a formula
    assert advertising[1][11] == local(LAST_DAY, 23, 59).replace(tzinfo=None)

    broadcasts = rows(book, "Broadcasts")
    assert broadcasts[0][9:13] == ("Bắt đầu phát", "Kết thúc phát", "Thời lượng (giây)", "Kết quả")
    assert [(row[0], row[5], row[9], row[11], row[12]) for row in broadcasts[1:]] == [
        ("EX-RADIO", content["inside"], local(FIRST_DAY, 5).replace(tzinfo=None), 120, "phát hết"),
        (
            "EX-RADIO",
            content["advert"],
            local(LAST_DAY, 17, 30).replace(tzinfo=None),
            120,
            "bị ngắt giữa chừng",
        ),
        (
            "EX-RADIO",
            content["inside"],
            local(LAST_DAY, 23, 58).replace(tzinfo=None),
            120,
            "không phát được",
        ),
    ]


async def test_export_holds_the_periods_content_advertising_and_broadcasts_001_dieu_9_1(
    client: AsyncClient, period_content: dict[str, str]
) -> None:
    """001 Điều 9.1: what inspectors ask for, of the local days asked, the last one included."""
    editor = {"Authorization": period_content["editor_token"]}
    answer = await client.get(
        "/api/v1/exports/inspection",
        params={"from": FIRST_DAY.isoformat(), "to": LAST_DAY.isoformat(), "area": AN_GIANG},
        headers=editor,
    )
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == XLSX
    assert (
        f"kiem-tra-{AN_GIANG}-{FIRST_DAY}-{LAST_DAY}.xlsx" in answer.headers["content-disposition"]
    )
    check_figures(load_workbook(BytesIO(answer.content)), period_content)

    # Without an area: the editor's own.
    own = await client.get(
        "/api/v1/exports/inspection",
        params={"from": FIRST_DAY.isoformat(), "to": LAST_DAY.isoformat()},
        headers=editor,
    )
    check_figures(load_workbook(BytesIO(own.content)), period_content)


async def test_export_is_for_editors_and_admins_within_their_area_001_dieu_9_1(
    client: AsyncClient, make_user: MakeUser, areas: list[AreaRecord]
) -> None:
    """001 Điều 9.1: the export is the operator's; each sees only their own area."""
    period = {"from": FIRST_DAY.isoformat(), "to": LAST_DAY.isoformat()}
    viewer = await make_user("export.viewer", Role.viewer, AN_GIANG)
    refused = await client.get("/api/v1/exports/inspection", params=period, headers=viewer)
    assert refused.status_code == 403

    commune_editor = await make_user("export.commune", Role.editor, communes_of(areas, AN_GIANG)[0])
    outside = await client.get(
        "/api/v1/exports/inspection", params={**period, "area": AN_GIANG}, headers=commune_editor
    )
    assert outside.status_code == 403
    assert "the inspection export" in outside.json()["detail"]

    admin = await make_user("export.admin", Role.admin, AN_GIANG)
    backwards = await client.get(
        "/api/v1/exports/inspection",
        params={"from": LAST_DAY.isoformat(), "to": FIRST_DAY.isoformat()},
        headers=admin,
    )
    assert backwards.status_code == 422
    assert f"to {FIRST_DAY} is before from {LAST_DAY}" in backwards.json()["detail"]
    too_long = await client.get(
        "/api/v1/exports/inspection",
        params={"from": "2025-01-01", "to": "2026-01-02"},  # 367 days
        headers=admin,
    )
    assert too_long.status_code == 422
    assert "at most 366 days" in too_long.json()["detail"]


async def test_the_command_writes_the_same_workbook_001_dieu_9_1(
    period_content: dict[str, str], database_url: str, tmp_path: Path
) -> None:
    """001 Điều 9.1: the operator can export from the command line too."""
    out = tmp_path / "kiem-tra.xlsx"
    ran = nguon(
        database_url,
        "export",
        "inspection",
        "--from",
        FIRST_DAY.isoformat(),
        "--to",
        LAST_DAY.isoformat(),
        "--area",
        AN_GIANG,
        "--out",
        str(out),
        environment={"NGUON_DATA_DIR": str(tmp_path)},
    )
    assert ran.returncode == 0, ran.stderr
    assert "1 bulletins, 1 advertising, 3 broadcasts" in ran.stdout
    check_figures(load_workbook(out), period_content)
