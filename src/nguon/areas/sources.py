"""Reading administrative units from their sources, into plain records (no database here)."""

import csv
from collections.abc import Collection, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from vietnam_provinces import Province, VietNamDivisionType, Ward

from nguon.areas.levels import CODE_PATTERNS, AreaLevel

REFORM_DAY = date(2025, 7, 1)  # two tiers from this day on
CSV_COLUMNS = ("code", "name", "level", "parent_code", "valid_from", "valid_until")

# vietnam-provinces has no full-name field: it names centrally-run cities in full
# ("Thành phố Hà Nội") but provinces bare ("An Giang"), and wards in full ("Xã Mỹ Hòa Hưng").
_PROVINCE_TITLES = {
    VietNamDivisionType.TINH: "Tỉnh",
    VietNamDivisionType.THANH_PHO_TRUNG_UONG: "Thành phố",
}


class AreaSourceError(ValueError):
    """Data that cannot be loaded; the message names the line or code at fault."""


@dataclass(frozen=True, slots=True)
class AreaRecord:
    code: str
    name: str
    level: AreaLevel
    parent_code: str | None  # None for a province: the importer puts it under the national root
    valid_from: date | None  # None: since a date that is not recorded
    valid_until: date | None  # None: still valid


def current_units(province_codes: Collection[str] | None = None) -> list[AreaRecord]:
    """Today's provinces, then their communes/wards, each sorted by code, from the
    `vietnam-provinces` package: all of them, or only the given provinces and theirs."""
    provinces = {_province_code(p.code.value): p for p in Province.iter_all()}
    wanted = set(provinces) if province_codes is None else set(province_codes)
    if unknown := sorted(wanted - provinces.keys()):
        raise AreaSourceError(f"no current province has the code(s) {', '.join(unknown)}")
    province_records = [_province_record(provinces[code]) for code in sorted(wanted)]
    commune_records = sorted(
        (
            _commune_record(w)
            for w in Ward.iter_all()
            if _province_code(w.province_code.value) in wanted
        ),
        key=lambda record: record.code,
    )
    return province_records + commune_records


def _province_code(number: int) -> str:
    return f"{number:02d}"


def _province_record(province: Province) -> AreaRecord:
    return AreaRecord(
        code=_province_code(province.code.value),
        name=_province_full_name(province),
        level=AreaLevel.province,
        parent_code=None,
        valid_from=REFORM_DAY,
        valid_until=None,
    )


def _province_full_name(province: Province) -> str:
    title = _PROVINCE_TITLES.get(province.division_type)
    if title is None or province.name.startswith(title):
        return province.name
    return f"{title} {province.name}"


def _commune_record(ward: Ward) -> AreaRecord:
    return AreaRecord(
        code=f"{ward.code.value:05d}",
        name=ward.name,
        level=AreaLevel.commune,
        parent_code=_province_code(ward.province_code.value),
        valid_from=REFORM_DAY,
        valid_until=None,
    )


def units_from_csv(path: Path) -> list[AreaRecord]:
    """Units from a UTF-8 CSV with the columns `CSV_COLUMNS`, parents before children."""
    lines: dict[str, int] = {}
    records: dict[str, AreaRecord] = {}
    for line, row in _csv_rows(path):
        where = f"{path.name}: line {line}"
        record = _record_from_row(row, where)
        if record.code in records:
            raise AreaSourceError(
                f"{where}: code {record.code} already on line {lines[record.code]}"
            )
        lines[record.code] = line
        records[record.code] = record
    for code, record in records.items():
        _check_parent(record, records, f"{path.name}: line {lines[code]}")
    return sorted(records.values(), key=lambda record: (record.level.rank, record.code))


def _csv_rows(path: Path) -> Iterator[tuple[int, dict[str, str]]]:
    """Each data row with the line it ends on, as column -> text."""
    # utf-8-sig: spreadsheet programs often save UTF-8 with a byte-order mark
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.reader(handle)
        header = next(reader, [])
        if sorted(header) != sorted(CSV_COLUMNS):
            raise AreaSourceError(
                f"{path.name}: line 1: the header must be {','.join(CSV_COLUMNS)}, "
                f"found {','.join(header)!r}"
            )
        for fields in reader:
            if not fields:
                continue
            if len(fields) != len(header):
                raise AreaSourceError(
                    f"{path.name}: line {reader.line_num}: "
                    f"{len(fields)} fields, the header has {len(header)}"
                )
            yield reader.line_num, dict(zip(header, fields, strict=True))


def _record_from_row(row: dict[str, str], where: str) -> AreaRecord:
    level = _level(row["level"], where)
    code = row["code"].strip()
    if not CODE_PATTERNS[level].match(code):
        raise AreaSourceError(f"{where}: {code!r} is not a {level} code")
    name = row["name"].strip()
    if not name:
        raise AreaSourceError(f"{where}: unit {code} has no name")
    parent_code = row["parent_code"].strip() or None
    if level is not AreaLevel.province and parent_code is None:
        raise AreaSourceError(f"{where}: {level} {code} needs a parent_code")
    valid_from = _day(row["valid_from"], where)
    valid_until = _day(row["valid_until"], where)
    if valid_from and valid_until and valid_until < valid_from:
        raise AreaSourceError(
            f"{where}: valid_until {valid_until} is before valid_from {valid_from}"
        )
    return AreaRecord(code, name, level, parent_code, valid_from, valid_until)


def _level(text: str, where: str) -> AreaLevel:
    try:
        level = AreaLevel(text.strip())
    except ValueError as exc:
        raise AreaSourceError(f"{where}: unknown level {text!r}") from exc
    if level is AreaLevel.central:
        raise AreaSourceError(f"{where}: the national root is not loaded from a file")
    return level


def _check_parent(record: AreaRecord, records: dict[str, AreaRecord], where: str) -> None:
    if record.parent_code is None:
        return
    if record.level is AreaLevel.province:
        # the national root is not in any file; the importer attaches provinces to it
        raise AreaSourceError(f"{where}: province {record.code} cannot have a parent_code")
    parent = records.get(record.parent_code)
    if parent is None:
        raise AreaSourceError(
            f"{where}: parent {record.parent_code} of {record.code} is not in the file"
        )
    if parent.level.rank >= record.level.rank:
        raise AreaSourceError(
            f"{where}: {record.level} {record.code} cannot lie below "
            f"{parent.level} {record.parent_code}"
        )


def _day(text: str, where: str) -> date | None:
    text = text.strip()
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise AreaSourceError(f"{where}: {text!r} is not an ISO date (YYYY-MM-DD)") from exc
