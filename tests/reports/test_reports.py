"""Periodic reports: each province's periods and deadlines, the figures of a period as the
statistics give them, the narrative a person writes, and the PDF and XLSX made of them."""

import io
import re
from datetime import date, datetime
from pathlib import Path
from typing import Any

import openpyxl
from httpx import AsyncClient
from pypdf import PdfReader
from sqlalchemy import create_engine as sync_engine
from sqlalchemy import select, text, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from nguon.areas.sources import AreaRecord
from nguon.bulletins.models import BulletinRevision
from nguon.dispatch.slots import LOCAL
from nguon.identity.roles import Role
from nguon.kit.db import create_engine
from nguon.kit.migrate import upgrade_on
from nguon.reports.models import ReportSchedule
from nguon.reports.schedule import ReportPeriod, periods_on
from tests.bulletins.test_workflow import text_bulletin
from tests.commands import nguon
from tests.conftest import (
    AN_GIANG,
    LAI_CHAU,
    LONG_STANDING,
    MakeEndpoint,
    MakeUser,
    communes_of,
    districts_of,
)
from tests.dispatch.test_queue import publish
from tests.reports.conftest import schedule_rows

PROBLEM = "application/problem+json"
MIGRATION = (
    Path(__file__).parents[2] / "migrations/versions/0020_report_schedules_and_narratives.py"
)


def of_province(code: str) -> list[ReportSchedule]:
    return [row for row in schedule_rows() if row.province_code == code]


async def test_migration_seeds_the_schedules_of_the_regulations(tmp_path: Path) -> None:
    """002 Điều 18 (the default), 000/004 Điều 15 (An Giang) and 001 Điều 14 (Lai Châu) come
    with the schema."""
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'fresh.db'}")
    async with engine.begin() as connection:
        await connection.run_sync(upgrade_on)
    async with engine.connect() as connection:
        rows = await connection.execute(
            select(ReportSchedule.province_code, ReportSchedule.period).order_by(
                ReportSchedule.province_code, ReportSchedule.period
            )
        )
        seeded = [tuple(row) for row in rows]
    await engine.dispose()
    assert seeded == [("12", "Y"), ("91", "H1"), ("91", "Y"), ("default", "H1"), ("default", "H2")]


def dated(period: ReportPeriod) -> tuple[str, str, date, date, date, date]:
    """What a schedule decides of a period: its id, title, days, and both deadlines."""
    return (
        period.id,
        period.title,
        period.first_day,
        period.last_day,
        period.units_due_before,
        period.department_due_before,
    )


def test_half_yearly_deadlines_of_the_default() -> None:
    """Đắk Nông 002 Điều 18.1-2: units before 20/6 and 20/12, the department before 30/6 and
    30/12; the regulation names no period, so each half of the year is one."""
    first, second = periods_on(of_province("default"), date(2026, 3, 1))
    assert dated(first) == (
        "2026-H1", "6 tháng đầu năm 2026", date(2026, 1, 1), date(2026, 6, 30),
        date(2026, 6, 20), date(2026, 6, 30),
    )  # fmt: skip
    assert dated(second) == (
        "2026-H2", "6 tháng cuối năm 2026", date(2026, 7, 1), date(2026, 12, 31),
        date(2026, 12, 20), date(2026, 12, 30),
    )  # fmt: skip


def test_an_giang_reports_the_first_half_and_then_the_year() -> None:
    """An Giang 000/004 Điều 15.1-2: "báo cáo 6 tháng đầu năm" before 20/6 and "báo cáo năm"
    before 20/12, the department before 30/6 and 30/12: the December report covers the year."""
    half, year = periods_on(of_province("91"), date(2026, 3, 1))
    assert dated(half) == (
        "2026-H1", "6 tháng đầu năm 2026", date(2026, 1, 1), date(2026, 6, 30),
        date(2026, 6, 20), date(2026, 6, 30),
    )  # fmt: skip
    assert dated(year) == (
        "2026-Y", "năm 2026", date(2026, 1, 1), date(2026, 12, 31),
        date(2026, 12, 20), date(2026, 12, 30),
    )  # fmt: skip


def test_an_giangs_second_half_reports_move_to_the_year(tmp_path: Path) -> None:
    """000/004 Điều 15.1: a narrative written for An Giang's `-H2` before the change is its
    year's report now; a commune of another province keeps its second half."""
    engine = sync_engine(f"sqlite:///{tmp_path / 'kept.db'}")
    with engine.begin() as connection:
        upgrade_on(connection, "0021")
        connection.execute(
            text(
                "INSERT INTO areas (id, code, name, level, parent_id, path) VALUES "
                "(1, 'VN', 'Việt Nam', 'central', NULL, '/1/'), "
                "(2, '91', 'An Giang', 'province', 1, '/1/2/'), "
                "(3, '30280', 'Phường Long Xuyên', 'commune', 2, '/1/2/3/'), "
                "(4, '67', 'Đắk Nông', 'province', 1, '/1/4/'), "
                "(5, '24611', 'Phường Nghĩa Đức', 'commune', 4, '/1/4/5/')"
            )
        )
        connection.execute(
            text(
                "INSERT INTO report_narratives (area_code, period, sections, updated_by, "
                "updated_at) VALUES ('30280', '2026-H2', '{}', 'x', '2026-12-01'), "
                "('91', '2026-H1', '{}', 'x', '2026-06-01'), "
                "('24611', '2026-H2', '{}', 'x', '2026-12-01')"
            )
        )
        upgrade_on(connection)
        kept = connection.execute(
            text("SELECT area_code, period FROM report_narratives ORDER BY area_code")
        ).all()
    engine.dispose()
    assert [tuple(row) for row in kept] == [
        ("24611", "2026-H2"),
        ("30280", "2026-Y"),
        ("91", "2026-H1"),
    ]


def test_lai_chau_reports_yearly_from_15_december() -> None:
    """Lai Châu 001 Điều 14.1-2: figures from 15/12 of the year before to 14/12, units before
    15/12, the department before 20/12; from 15/12 on, the next year's period has begun."""
    (year,) = periods_on(of_province("12"), date(2026, 6, 1))
    assert dated(year) == (
        "2026-Y", "năm 2026", date(2025, 12, 15), date(2026, 12, 14),
        date(2026, 12, 15), date(2026, 12, 20),
    )  # fmt: skip
    assert [p.id for p in periods_on(of_province("12"), date(2026, 12, 15))] == ["2026-Y", "2027-Y"]


async def test_the_api_lists_each_level_its_own_deadline(
    client: AsyncClient, make_user: MakeUser, areas: list[AreaRecord], schedules: None
) -> None:
    """002 Điều 18 / 000 Điều 15: a commune's report is due by the units' day, the province's
    department's by its own; Lai Châu's periods are yearly (001 Điều 14)."""
    commune = communes_of(areas, AN_GIANG)[0]
    viewer = await make_user("r.viewer", Role.viewer, AN_GIANG)
    listed = await client.get(
        "/api/v1/reports", params={"area": commune, "period": "2026-H1"}, headers=viewer
    )
    assert listed.status_code == 200, listed.text
    (period,) = listed.json()["periods"]
    assert period["due_before"] == "2026-06-20"
    province = await client.get("/api/v1/reports", params={"period": "2026-H1"}, headers=viewer)
    assert province.json()["periods"][0]["due_before"] == "2026-06-30"
    lc_viewer = await make_user("r.lc", Role.viewer, LAI_CHAU)
    lai_chau = await client.get("/api/v1/reports", headers=lc_viewer)
    assert next(p["id"] for p in lai_chau.json()["periods"]).endswith("-Y")


async def backdate(
    sessionmaker: async_sessionmaker[AsyncSession], bulletin_ids: list[str], moment: datetime
) -> None:
    """Bulletins first approved on a day of the period reported on."""
    async with sessionmaker() as session:
        await session.execute(
            update(BulletinRevision)
            .where(BulletinRevision.bulletin_id.in_(bulletin_ids))
            .values(approved_at=moment)
        )
        await session.commit()


def pdf_figure(text: str, label: str) -> float:
    found = re.search(rf"{re.escape(label)}\s+([0-9.]+)", text)
    assert found is not None, f"{label!r} not in the PDF: {text[:2000]}"
    return float(found.group(1))


def xlsx_figures(content: bytes) -> tuple[dict[str, Any], list[tuple[Any, ...]]]:
    workbook = openpyxl.load_workbook(io.BytesIO(content))
    figures = {row[0]: row[1] for row in workbook["Số liệu"].iter_rows(values_only=True) if row[0]}
    narrative = list(workbook["Thuyết minh"].iter_rows(min_row=2, values_only=True))
    return figures, narrative


async def check_documents(
    client: AsyncClient,
    headers: dict[str, str],
    area: str,
    period: str,
    stats: dict[str, Any],
    **more: float,
) -> None:
    """The PDF's text and the workbook's cells carry the statistics' own figures (and more of
    the report's, by label)."""
    expected = {
        **more,
        "Tổng số tin bài": stats["bulletins"]["total"],
        "Số phút theo khung giờ hoạt động": stats["broadcast"]["required_minutes"],
        "Số phút đã phát": stats["broadcast"]["played_minutes"],
        "Tổng số thiết bị": stats["endpoints"]["total"],
        "Cấp: Tỉnh": stats["bulletins"]["by_level"]["province"],
        "Cấp: Xã": stats["bulletins"]["by_level"]["commune"],
    }
    pdf = await client.get(f"/api/v1/reports/{area}/{period}.pdf", headers=headers)
    assert pdf.status_code == 200, pdf.text
    assert pdf.headers["content-type"] == "application/pdf"
    reader = PdfReader(io.BytesIO(pdf.content))
    page = reader.pages[0].mediabox
    assert (round(float(page.width) / 72 * 25.4), round(float(page.height) / 72 * 25.4)) == (
        210,
        297,
    )  # A4
    # Words as they read, whatever the lines they wrapped onto.
    text = " ".join(" ".join(p.extract_text() for p in reader.pages).split())
    assert "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" in text
    assert "Độc lập - Tự do - Hạnh phúc" in text
    for label, value in expected.items():
        assert pdf_figure(text, label) == value, label
    xlsx = await client.get(f"/api/v1/reports/{area}/{period}.xlsx", headers=headers)
    assert xlsx.status_code == 200, xlsx.text
    figures, _narrative = xlsx_figures(xlsx.content)
    for label, value in expected.items():
        assert figures[label] == value, label


async def test_an_giang_first_half_of_2026_matches_the_statistics(
    client: AsyncClient,
    make_user: MakeUser,
    make_endpoint: MakeEndpoint,
    areas: list[AreaRecord],
    sessionmaker: async_sessionmaker[AsyncSession],
    schedules: None,
) -> None:
    """An Giang 000/004 Điều 15 (002 Điều 18): the half-year report carries the figures
    `GET /api/v1/stats` gives for 1/1 to 30/6, in the PDF and the workbook alike."""
    commune = communes_of(areas, AN_GIANG)[0]
    await make_endpoint("AG-R1", "radio", commune, registered_at=LONG_STANDING)
    publisher = await make_user("r.pub", Role.publisher, AN_GIANG)
    commune_publisher = await make_user("r.cpub", Role.publisher, commune)
    editor = await make_user("r.editor", Role.editor, AN_GIANG)
    published = [
        await publish(client, publisher, editor, text_bulletin(commune)),
        await publish(client, publisher, editor, text_bulletin(AN_GIANG)),
        await publish(client, commune_publisher, editor, text_bulletin(commune)),
    ]
    await backdate(sessionmaker, published, datetime(2026, 3, 1, 9, tzinfo=LOCAL))
    stats = await client.get(
        "/api/v1/stats",
        params={
            "area": AN_GIANG,
            "from": "2026-01-01T00:00:00+07:00",
            "to": "2026-07-01T00:00:00+07:00",
        },
        headers=editor,
    )
    assert stats.status_code == 200, stats.text
    report = await client.get(f"/api/v1/reports/{AN_GIANG}/2026-H1", headers=editor)
    assert report.status_code == 200, report.text
    body = report.json()
    assert body["statistics"]["bulletins"] == stats.json()["bulletins"]
    assert body["statistics"]["broadcast"]["required_minutes"] > 0
    assert body["statistics"]["broadcast"] == stats.json()["broadcast"]
    assert body["content"]["built_locally"] == 3
    await check_documents(client, editor, AN_GIANG, "2026-H1", stats.json())
    # The commune made one bulletin itself and received both of the province's (one meant for
    # it, one for the whole province), delivered to its radio.
    of_commune = await client.get(f"/api/v1/reports/{commune}/2026-H1", headers=editor)
    assert of_commune.json()["content"] == {"built_locally": 1, "received_from_above": 2}


async def test_lai_chau_yearly_report_matches_the_statistics(
    client: AsyncClient,
    make_user: MakeUser,
    areas: list[AreaRecord],
    sessionmaker: async_sessionmaker[AsyncSession],
    schedules: None,
) -> None:
    """Lai Châu 001 Điều 14: the yearly report counts from 15/12/2025, its narrative follows
    the annexed outline (ĐỀ CƯƠNG BÁO CÁO) heading by heading."""
    district = districts_of(areas, LAI_CHAU)[0]
    publisher = await make_user("r.lcpub", Role.publisher, LAI_CHAU)
    editor = await make_user("r.lceditor", Role.editor, LAI_CHAU)
    published = [await publish(client, publisher, editor, text_bulletin(district))]
    admin = await make_user("r.lcadmin", Role.admin, LAI_CHAU)
    incident = await client.post(
        "/api/v1/incidents",
        json={"kind": "power", "severity": "high", "title": "Mất điện", "areas": [district]},
        headers=admin,
    )
    assert incident.status_code == 201, incident.text
    await backdate(sessionmaker, published, datetime(2025, 12, 20, 9, tzinfo=LOCAL))
    report = await client.get(f"/api/v1/reports/{LAI_CHAU}/2026-Y", headers=editor)
    assert report.status_code == 200, report.text
    body = report.json()
    stats = await client.get(
        "/api/v1/stats",
        params={
            "area": LAI_CHAU,
            "from": "2025-12-15T00:00:00+07:00",
            "to": body["statistics"]["period"]["to"],
        },
        headers=editor,
    )
    assert stats.json()["bulletins"] == body["statistics"]["bulletins"]
    assert body["statistics"]["bulletins"]["total"] == 1
    titles = [section["title"] for section in body["narrative"]["sections"]]
    assert titles[0] == "I. Đặc điểm tình hình"
    assert "V.2. Kiến nghị Bộ Thông tin và Truyền thông" in titles
    assert body["incidents"]["total"] == 1
    assert body["incidents"]["open"] == 1
    assert body["incidents"]["by_kind"]["power"] == 1
    assert body["incidents"]["by_severity"]["high"] == 1
    await check_documents(
        client, editor, LAI_CHAU, "2026-Y", stats.json(),
        **{"Tổng số sự cố": 1, "Sự cố điện": 1, "Chưa khắc phục": 1, "Đã khắc phục": 0},
    )  # fmt: skip


async def test_the_narrative_is_kept_and_printed(
    client: AsyncClient, make_user: MakeUser, areas: list[AreaRecord], schedules: None
) -> None:
    """002 Điều 18: the report a unit sends carries its own assessment, difficulties and
    proposals, kept per report, in the JSON, the PDF and the workbook."""
    editor = await make_user("r.neditor", Role.editor, AN_GIANG)
    url = f"/api/v1/reports/{AN_GIANG}/2026-H1"
    written = await client.put(
        f"{url}/narrative",
        json={
            "sections": {
                "assessment": "Hệ thống vận hành ổn định.",
                "proposals": "Đề nghị bổ sung kinh phí.",
            }
        },
        headers=editor,
    )
    assert written.status_code == 200, written.text
    again = await client.put(
        f"{url}/narrative", json={"sections": {"difficulties": "Mất điện kéo dài."}},
        headers=editor,
    )  # fmt: skip
    assert again.status_code == 200, again.text
    sections = {s["key"]: s["text"] for s in (await client.get(url, headers=editor)).json()[
        "narrative"]["sections"]}  # fmt: skip
    assert sections == {
        "assessment": "Hệ thống vận hành ổn định.",
        "difficulties": "Mất điện kéo dài.",
        "proposals": "Đề nghị bổ sung kinh phí.",
    }
    listed = await client.get("/api/v1/reports", params={"period": "2026-H1"}, headers=editor)
    assert listed.json()["periods"][0]["status"] == "written"
    pdf = await client.get(f"{url}.pdf", headers=editor)
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.content)).pages)
    assert "Đề nghị bổ sung kinh phí." in text
    _figures, narrative = xlsx_figures((await client.get(f"{url}.xlsx", headers=editor)).content)
    assert ("Khó khăn, vướng mắc", "Mất điện kéo dài.") in narrative

    unknown = await client.put(
        f"{url}/narrative", json={"sections": {"funding": "x"}}, headers=editor
    )
    assert unknown.status_code == 422
    assert unknown.headers["content-type"] == PROBLEM
    assert "no section funding" in unknown.json()["detail"]


async def test_readers_read_editors_and_admins_of_the_area_write(
    client: AsyncClient, make_user: MakeUser, areas: list[AreaRecord], schedules: None
) -> None:
    """002 Điều 18.1: each unit reports on itself; others may not write its report."""
    url = f"/api/v1/reports/{AN_GIANG}/2026-H1"
    body = {"sections": {"assessment": "Tốt."}}
    viewer = await make_user("r.aviewer", Role.viewer, AN_GIANG)
    assert (await client.get(url, headers=viewer)).status_code == 200
    assert (await client.put(f"{url}/narrative", json=body, headers=viewer)).status_code == 403
    publisher = await make_user("r.apub", Role.publisher, AN_GIANG)
    assert (await client.get(url, headers=publisher)).status_code == 403
    other = await make_user("r.other", Role.editor, LAI_CHAU)
    refused = await client.put(f"{url}/narrative", json=body, headers=other)
    assert refused.status_code == 403
    assert refused.headers["content-type"] == PROBLEM
    admin = await make_user("r.admin", Role.admin, AN_GIANG)
    assert (await client.put(f"{url}/narrative", json=body, headers=admin)).status_code == 200


async def test_a_period_the_province_does_not_keep_is_refused(
    client: AsyncClient, make_user: MakeUser, areas: list[AreaRecord], schedules: None
) -> None:
    """An Giang reports on the first half and on the year (000 Điều 15), Lai Châu on the year
    (001 Điều 14): each refuses the periods it does not keep, and a malformed id, with a
    problem that says what to write."""
    editor = await make_user("r.beditor", Role.editor, AN_GIANG)
    second_half = await client.get(f"/api/v1/reports/{AN_GIANG}/2026-H2", headers=editor)
    assert second_half.status_code == 422
    assert second_half.headers["content-type"] == PROBLEM
    assert "2026-H1, 2026-Y" in second_half.json()["detail"]
    malformed = await client.get(f"/api/v1/reports/{AN_GIANG}/H1-2026", headers=editor)
    assert malformed.status_code == 422
    assert malformed.headers["content-type"] == PROBLEM
    future = await client.get(f"/api/v1/reports/{AN_GIANG}/2030-H1", headers=editor)
    assert future.status_code == 422
    assert "nothing to report yet" in future.json()["detail"]
    lc_editor = await make_user("r.blc", Role.editor, LAI_CHAU)
    halves = await client.get(f"/api/v1/reports/{LAI_CHAU}/2026-H1.pdf", headers=lc_editor)
    assert halves.status_code == 422
    assert "2026-Y" in halves.json()["detail"]


async def test_the_command_makes_the_report_as_the_api_does(
    client: AsyncClient,
    make_user: MakeUser,
    areas: list[AreaRecord],
    schedules: None,
    database_url: str,
    tmp_path: Path,
) -> None:
    """002 Điều 18: the department can make a unit's report from the command line too; the
    workbook carries the API's figures, and a period of another province's is refused."""
    editor = await make_user("r.ceditor", Role.editor, AN_GIANG)
    await client.put(
        f"/api/v1/reports/{AN_GIANG}/2026-H1/narrative",
        json={"sections": {"assessment": "Ổn định."}},
        headers=editor,
    )
    out = tmp_path / "bao-cao.xlsx"
    ran = nguon(
        database_url, "reports", "make", "--area", AN_GIANG, "--period", "2026-H1",
        "--out", str(out),
    )  # fmt: skip
    assert ran.returncode == 0, ran.stderr
    assert f"report 2026-H1 of {AN_GIANG}" in ran.stdout
    figures, narrative = xlsx_figures(out.read_bytes())
    assert figures["Tổng số tin bài"] == 0
    assert ("Đánh giá chung", "Ổn định.") in narrative
    pdf = tmp_path / "bao-cao.pdf"
    ran = nguon(
        database_url, "reports", "make", "--area", AN_GIANG, "--period", "2026-H1",
        "--out", str(pdf),
    )  # fmt: skip
    assert ran.returncode == 0, ran.stderr
    assert PdfReader(pdf).pages
    refused = nguon(
        database_url, "reports", "make", "--area", AN_GIANG, "--period", "2026-H2",
        "--out", str(out),
    )  # fmt: skip
    assert refused.returncode == 1
    assert "no report period of this province" in refused.stderr
