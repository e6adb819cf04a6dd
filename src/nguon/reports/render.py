"""The report as a document: A4 PDF (WeasyPrint) and an XLSX workbook with the same figures.

Both are made from `figure_tables`, so the PDF and the workbook cannot disagree; rendering
takes hundreds of milliseconds and runs in a thread, off the event loop.
"""

import asyncio
import io
from collections.abc import Sequence
from pathlib import Path

import xlsxwriter
from jinja2 import Environment, FileSystemLoader, select_autoescape

from nguon.console.translations import translations
from nguon.dispatch.slots import LOCAL
from nguon.kit.errors import Unavailable
from nguon.reports.schemas import ReportRead

PDF_TYPE = "application/pdf"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

Figure = int | float | str
Table = tuple[str, Sequence[tuple[str, Figure]]]

KINDS = {"text": "Văn bản", "audio": "Âm thanh", "image": "Hình ảnh",
         "infographic": "Đồ họa thông tin", "video": "Video"}  # fmt: skip
LEVELS = {"central": "Trung ương", "province": "Tỉnh", "district": "Huyện", "commune": "Xã"}
INCIDENT_KINDS = {
    "power": "Sự cố điện",
    "technical": "Sự cố kỹ thuật",
    "cyber": "Sự cố an ninh mạng",
}
SEVERITIES = {"low": "Thấp", "medium": "Trung bình", "high": "Cao", "critical": "Nghiêm trọng"}

_templates = Environment(
    loader=FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=select_autoescape(["html"]),
)


def figure_tables(report: ReportRead) -> list[Table]:
    """The report's figures as titled rows of (label, value)."""
    vietnamese = translations("vi")
    bulletins = report.statistics.bulletins
    broadcast = report.statistics.broadcast
    return [
        (
            "1. Tin bài đã phát",
            [("Tổng số tin bài", bulletins.total), ("Tin bài diễn tập", bulletins.exercises)]
            + [(f"Loại: {KINDS[k]}", n) for k, n in bulletins.by_kind.items()]
            + [(f"Cấp: {LEVELS[k]}", n) for k, n in bulletins.by_level.items()]
            + [(f"Lĩnh vực: {vietnamese.gettext(k)}", n) for k, n in bulletins.by_category.items()]
            + [(f"Nguồn: {s.name} ({s.code})", s.bulletins) for s in bulletins.by_source],
        ),
        (
            "2. Nội dung",
            [
                ("Nội dung tự xây dựng", report.content.built_locally),
                ("Nội dung tiếp nhận từ cấp trên", report.content.received_from_above),
            ],
        ),
        (
            "3. Thời lượng phát",
            [
                ("Số phút đã phát", broadcast.played_minutes),
                ("Số phút theo khung giờ hoạt động", broadcast.required_minutes),
                ("Số phút tối thiểu theo quy định", broadcast.minimum_minutes),
            ],
        ),
        (
            "4. Thiết bị và thời gian hoạt động",
            [
                ("Tổng số thiết bị", report.statistics.endpoints.total),
                ("Thiết bị đang hoạt động", report.statistics.endpoints.enabled),
                ("Tỷ lệ thời gian trực tuyến (%)", round(report.uptime.uptime * 100, 2)),
            ],
        ),
        (
            "5. Sự cố",
            [
                ("Tổng số sự cố", report.incidents.total),
                ("Đã khắc phục", report.incidents.resolved),
                ("Chưa khắc phục", report.incidents.open),
            ]
            + [(INCIDENT_KINDS[k], n) for k, n in report.incidents.by_kind.items()]
            + [(f"Mức độ: {SEVERITIES[k]}", n) for k, n in report.incidents.by_severity.items()],
        ),
    ]


def pdf_bytes(report: ReportRead) -> bytes:
    html = _templates.get_template("report.html").render(
        report=report,
        tables=figure_tables(report),
        day=report.generated_at.astimezone(LOCAL).date(),
        place=report.area.name,
    )
    try:
        # Imported here: WeasyPrint loads the system's Pango when imported, and the rest of
        # the hub serves on a machine without it.
        from weasyprint import HTML
    except OSError as exc:
        raise Unavailable(
            "PDF reports need the Pango library (Debian: libpango-1.0-0 and "
            f"libpangoft2-1.0-0), which could not be loaded: {exc}"
        ) from exc
    document: bytes = HTML(string=html).write_pdf()
    return document


def xlsx_bytes(report: ReportRead) -> bytes:
    buffer = io.BytesIO()
    workbook = xlsxwriter.Workbook(buffer, {"in_memory": True})
    bold = workbook.add_format({"bold": True})
    figures = workbook.add_worksheet("Số liệu")
    figures.set_column(0, 0, 50)
    figures.set_column(1, 1, 16)
    figures.write_row(
        0, 0, [f"Báo cáo {report.period.title} – {report.area.name} ({report.area.code})"], bold
    )
    row = 2
    for title, rows in figure_tables(report):
        figures.write(row, 0, title, bold)
        row += 1
        for label, value in rows:
            figures.write(row, 0, label)
            figures.write(row, 1, value)
            row += 1
        row += 1
    narrative = workbook.add_worksheet("Thuyết minh")
    narrative.set_column(0, 0, 40)
    narrative.set_column(1, 1, 100)
    narrative.write_row(0, 0, ["Mục", "Nội dung"], bold)
    for number, section in enumerate(report.narrative.sections, start=1):
        narrative.write_row(number, 0, [section.title, section.text])
    workbook.close()
    return buffer.getvalue()


async def render_pdf(report: ReportRead) -> bytes:
    return await asyncio.to_thread(pdf_bytes, report)


async def render_xlsx(report: ReportRead) -> bytes:
    return await asyncio.to_thread(xlsx_bytes, report)
