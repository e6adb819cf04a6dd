"""The inspection workbook: three sheets with Vietnamese headers, times on the local clock.

Written with xlsxwriter in constant-memory mode, row after row, so a long period costs disk,
not memory; a sheet that reaches the format's row limit goes on in a sheet of the same name
numbered on."""

from collections.abc import Iterable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import xlsxwriter
from xlsxwriter.worksheet import Worksheet

from nguon.console.translations import translations
from nguon.dispatch.slots import LOCAL
from nguon.exports.repository import BulletinRow, PlayRow

ROW_LIMIT = 1_048_576
TIME_FORMAT = "dd/mm/yyyy hh:mm:ss"

BULLETIN_HEADERS = (
    "Mã tin",
    "Tiêu đề",
    "Hình thức",
    "Lĩnh vực",
    "Mức độ ưu tiên",
    "Ngôn ngữ",
    "Mã đơn vị nguồn",
    "Đơn vị nguồn",
    "Tác giả",
    "Người tạo",
    "Người duyệt",
    "Thời điểm lên sóng",
    "Hiệu lực từ",
    "Hiệu lực đến",
    "Trạng thái",
    "Diễn tập",
    "Nội dung",
)
BROADCAST_HEADERS = (
    "Mã thiết bị",
    "Tên thiết bị",
    "Loại thiết bị",
    "Mã xã",
    "Xã",
    "Mã tin",
    "Tiêu đề",
    "Lĩnh vực",
    "Phiên bản",
    "Bắt đầu phát",
    "Kết thúc phát",
    "Thời lượng (giây)",
    "Kết quả",
    "Diễn tập",
)
SHEETS = {"bulletins": "Bulletins", "advertising": "Advertising", "broadcasts": "Broadcasts"}


def vietnamese(value: str) -> str:
    return translations("vi").gettext(value)


def local(instant: datetime) -> datetime:
    """Excel keeps no time zone: the local wall-clock time, as inspectors read it."""
    return instant.astimezone(LOCAL).replace(tzinfo=None)


def yes_no(value: bool) -> str:
    return "Có" if value else "Không"


def bulletin_cells(row: BulletinRow) -> list[Any]:
    return [
        row.id,
        row.title,
        vietnamese(row.kind),
        vietnamese(row.category),
        vietnamese(row.priority),
        row.language,
        row.source_code,
        row.source_name,
        row.contributor or "",
        row.created_by,
        row.decided_by or "",
        local(row.on_air_at),
        local(row.valid_from),
        local(row.valid_until),
        vietnamese(row.status),
        yes_no(row.exercise),
        row.body or "",
    ]


def play_cells(row: PlayRow) -> list[Any]:
    return [
        row.endpoint_code,
        row.endpoint_name,
        vietnamese(row.endpoint_kind),
        row.commune_code,
        row.commune_name,
        row.bulletin_id,
        row.title,
        vietnamese(row.category),
        row.revision,
        local(row.started_at),
        local(row.ended_at),
        round((row.ended_at - row.started_at).total_seconds(), 3),
        vietnamese(f"play {row.outcome}"),
        yes_no(row.exercise),
    ]


class Sheet:
    """One kind of row, in as many worksheets as the row limit asks."""

    def __init__(self, book: "InspectionWorkbook", name: str, headers: Sequence[str]) -> None:
        self.book = book
        self.name = name
        self.headers = headers
        self.count = 0
        self._parts = 0
        self._sheet: Worksheet | None = None
        self._row = 0

    def _next_sheet(self) -> Worksheet:
        self._parts += 1
        name = self.name if self._parts == 1 else f"{self.name} ({self._parts})"
        sheet = self.book.workbook.add_worksheet(name)
        sheet.write_row(0, 0, self.headers, self.book.bold)
        sheet.freeze_panes(1, 0)
        self._row = 1
        return sheet

    def open(self) -> None:
        # Made up front, so the sheets stand in this order and an empty one still shows its
        # headers.
        self._sheet = self._next_sheet()

    def write_all(self, rows: Iterable[Sequence[Any]]) -> None:
        for cells in rows:
            self.write(cells)

    def write(self, cells: Sequence[Any]) -> None:
        if self._sheet is None or self._row >= ROW_LIMIT:
            self._sheet = self._next_sheet()
        for column, value in enumerate(cells):
            if isinstance(value, datetime):
                self._sheet.write_datetime(self._row, column, value, self.book.time)
            else:
                self._sheet.write(self._row, column, value)
        self._row += 1
        self.count += 1


class InspectionWorkbook:
    def __init__(self, path: Path, title: str) -> None:
        self.workbook = xlsxwriter.Workbook(
            str(path),  # Text stays text: a title typed as "=..." or a URL is no formula or link.
            {"constant_memory": True, "strings_to_formulas": False, "strings_to_urls": False},
        )
        self.workbook.set_properties({"title": title})
        self.bold = self.workbook.add_format({"bold": True})
        self.time = self.workbook.add_format({"num_format": TIME_FORMAT})

    def sheet(self, name: str, headers: Sequence[str]) -> Sheet:
        return Sheet(self, name, headers)

    def close(self) -> None:
        self.workbook.close()
