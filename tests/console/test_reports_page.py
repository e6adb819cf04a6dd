"""The reports page: an area's periods with their deadlines, the downloads, and the narrative
written in the browser (002 Điều 18; Lai Châu 001 Điều 14 and its outline)."""

from io import BytesIO

import pytest
from httpx import AsyncClient
from openpyxl import load_workbook
from pypdf import PdfReader

from nguon.areas.sources import AreaRecord
from nguon.identity.roles import Role
from tests.conftest import AN_GIANG, LAI_CHAU, MakeUser
from tests.console.conftest import SignInAs
from tests.reports.conftest import schedules  # noqa: F401  (the fixture, used below)

pytestmark = pytest.mark.usefixtures("schedules")


async def test_editors_see_the_deadlines_download_and_write_the_report_002_dieu_18(
    client: AsyncClient, sign_in_as: SignInAs, areas: list[AreaRecord]
) -> None:
    """002 Điều 18 / 000 Điều 15: the province's department reports before 30/6 and 30/12;
    the editor downloads the PDF and XLSX and writes the narrative from the console."""
    token = await sign_in_as("report.editor", Role.editor, AN_GIANG)
    page = await client.get("/console/reports")
    assert page.status_code == 200, page.text
    assert 'href="/console/reports"' in page.text  # in the main menu
    assert "Hạn gửi trước ngày" in page.text
    assert "30/06/2026" in page.text
    assert "30/12/2026" in page.text
    assert "Quá hạn" in page.text  # 2026-H1, nothing written, its deadline passed

    pdf = await client.get(f"/console/reports/{AN_GIANG}/2026-H1.pdf")
    assert pdf.status_code == 200
    assert PdfReader(BytesIO(pdf.content)).pages
    xlsx = await client.get(f"/console/reports/{AN_GIANG}/2026-H1.xlsx")
    assert load_workbook(BytesIO(xlsx.content)).sheetnames == ["Số liệu", "Thuyết minh"]

    form = await client.get(f"/console/reports/{AN_GIANG}/2026-H1")
    assert "Đánh giá chung" in form.text
    saved = await client.post(
        f"/console/reports/{AN_GIANG}/2026-H1",
        data={
            "csrf_token": token,
            "assessment": "Vận hành ổn định.",
            "difficulties": "",
            "proposals": "Bổ sung kinh phí.",
        },
    )
    assert saved.status_code == 303, saved.text
    shown = await client.get(saved.headers["location"])
    assert "Đã lưu phần thuyết minh." in shown.text
    assert "Bổ sung kinh phí." in shown.text
    assert "Đã viết" in (await client.get("/console/reports")).text


async def test_lai_chau_writes_to_its_own_outline_and_others_are_kept_out_001_dieu_14(
    client: AsyncClient, sign_in_as: SignInAs, areas: list[AreaRecord]
) -> None:
    """001 Điều 14 and its ĐỀ CƯƠNG BÁO CÁO: Lai Châu's yearly report has the outline's
    headings; An Giang's editor may not open it, nor a publisher any report."""
    await sign_in_as("report.lc", Role.editor, LAI_CHAU)
    form = await client.get(f"/console/reports/{LAI_CHAU}/2026-Y")
    assert form.status_code == 200, form.text
    assert "I. Đặc điểm tình hình" in form.text
    assert "V.1. Kiến nghị Ủy ban nhân dân tỉnh" in form.text
    await sign_in_as("report.ag", Role.editor, AN_GIANG)
    assert (await client.get(f"/console/reports/{LAI_CHAU}/2026-Y")).status_code == 403
    await sign_in_as("report.publisher", Role.publisher, AN_GIANG)
    assert (await client.get("/console/reports")).status_code == 403
    assert (await client.get(f"/console/reports/{AN_GIANG}/2026-H1.xlsx")).status_code == 403


@pytest.mark.parametrize("role", [Role.viewer, Role.appraiser])
async def test_viewers_and_appraisers_read_the_report_and_download_it_but_write_nothing(
    client: AsyncClient, sign_in_as: SignInAs, make_user: MakeUser, role: Role
) -> None:
    """002 Điều 18: those who answer for the area's broadcasting read its reports, as the
    API's REPORT_READERS; the narrative stays its editors' and administrators' to write."""
    editor = await make_user("narrative.editor", Role.editor, AN_GIANG)
    written = await client.put(
        f"/api/v1/reports/{AN_GIANG}/2026-H1/narrative",
        json={"sections": {"assessment": "Vận hành ổn định.", "proposals": ""}},
        headers=editor,
    )
    assert written.status_code == 200, written.text

    token = await sign_in_as(f"report.{role.value}", role, AN_GIANG)
    listing = await client.get("/console/reports")
    assert listing.status_code == 200, listing.text
    assert 'href="/console/reports"' in listing.text  # in the main menu
    assert "30/06/2026" in listing.text
    assert "Xem báo cáo" in listing.text
    assert "Viết thuyết minh" not in listing.text

    page = await client.get(f"/console/reports/{AN_GIANG}/2026-H1")
    assert page.status_code == 200, page.text
    assert '<h1 id="report-title">Báo cáo 6 tháng đầu năm 2026 · ' in page.text
    assert 'id="narrative-text"' in page.text
    assert "Vận hành ổn định." in page.text
    assert "Chưa viết." in page.text  # the proposals, left empty
    assert "<textarea" not in page.text
    assert 'id="narrative-form"' not in page.text

    xlsx = await client.get(f"/console/reports/{AN_GIANG}/2026-H1.xlsx")
    assert xlsx.status_code == 200
    assert load_workbook(BytesIO(xlsx.content)).sheetnames == ["Số liệu", "Thuyết minh"]

    refused = await client.post(
        f"/console/reports/{AN_GIANG}/2026-H1",
        data={"csrf_token": token, "assessment": "Sửa bởi người xem.", "proposals": ""},
    )
    assert refused.status_code == 403
    report = await client.get(f"/api/v1/reports/{AN_GIANG}/2026-H1", headers=editor)
    sections = {s["key"]: s["text"] for s in report.json()["narrative"]["sections"]}
    assert sections["assessment"] == "Vận hành ổn định."
