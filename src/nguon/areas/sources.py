"""Reading administrative units from their sources, into plain records (no database here)."""

import csv
from collections.abc import Collection
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from vietnam_provinces import Province, VietNamDivisionType, Ward

from nguon.areas.levels import CODE_PATTERNS, AreaLevel

REFORM_DAY = date(2025, 7, 1)  # two tiers from this day on
_PROVINCE_TITLES = {
    VietNamDivisionType.TINH: "Tỉnh",
    VietNamDivisionType.THANH_PHO_TRUNG_UONG: "Thành phố",
}
CSV_COLUMNS = ("code", "name", "level", "parent_code", "valid_from", "valid_until")


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
    """Today's provinces and communes/wards from the `vietnam-provinces` package, or only
    the named provinces and theirs."""
    provinces = sorted(Province.iter_all(), key=lambda p: p.code.value)
    known = {f"{p.code.value:02d}" for p in provinces}
    wanted = set(province_codes) if province_codes else known
    if unknown := sorted(wanted - known):
        raise AreaSourceError(f"no current province has the code(s) {', '.join(unknown)}")
    records = [
        AreaRecord(code, _province_name(p), AreaLevel.province, None, REFORM_DAY, None)
        for p in provinces
        if (code := f"{p.code.value:02d}") in wanted
    ]
    wards = sorted(Ward.iter_all(), key=lambda w: w.code.value)
    records += [
        AreaRecord(f"{w.code.value:05d}", w.name, AreaLevel.commune, parent, REFORM_DAY, None)
        for w in wards
        if (parent := f"{w.province_code.value:02d}") in wanted
    ]
    return records


def _province_name(province: Province) -> str:
    """The package names provinces bare ("An Giang"); wards it names in full ("Phường ...")."""
    title = _PROVINCE_TITLES.get(province.division_type, "")
    return (
        province.name
        if not title or province.name.startswith(title)
        else f"{title} {province.name}"
    )


def units_from_csv(path: Path) -> list[AreaRecord]:
    """Units from a CSV with the columns `CSV_COLUMNS`, parents before children."""
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        if reader.fieldnames is None or set(reader.fieldnames) != set(CSV_COLUMNS):
            raise AreaSourceError(
                f"{path.name}: line 1: the header must be {','.join(CSV_COLUMNS)}, "
                f"found {','.join(reader.fieldnames or [])}"
            )
        records: dict[str, tuple[int, AreaRecord]] = {}
        for row in reader:
            line = reader.line_num
            record = _record_from_row(row, f"{path.name}: line {line}")
            if record.code in records:
                first_line = records[record.code][0]
                raise AreaSourceError(
                    f"{path.name}: line {line}: code {record.code} already on line {first_line}"
                )
            records[record.code] = (line, record)
    for line, record in records.values():
        _check_parent(record, records, f"{path.name}: line {line}")
    return sorted((r for _, r in records.values()), key=lambda r: (r.level.rank, r.code))


def _record_from_row(row: dict[str, str], where: str) -> AreaRecord:
    try:
        level = AreaLevel(row["level"].strip())
    except ValueError as exc:
        raise AreaSourceError(f"{where}: unknown level {row['level']!r}") from exc
    if level is AreaLevel.central:
        raise AreaSourceError(f"{where}: the national root is not loaded from a file")
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


def _check_parent(
    record: AreaRecord, records: dict[str, tuple[int, AreaRecord]], where: str
) -> None:
    if record.parent_code is None:
        return
    if record.level is AreaLevel.province:
        raise AreaSourceError(f"{where}: province {record.code} cannot have a parent in the file")
    parent = records.get(record.parent_code)
    if parent is None:
        raise AreaSourceError(
            f"{where}: parent {record.parent_code} of {record.code} is not in the file"
        )
    if parent[1].level.rank >= record.level.rank:
        raise AreaSourceError(
            f"{where}: {record.level} {record.code} cannot lie below "
            f"{parent[1].level} {record.parent_code}"
        )


def _day(text: str, where: str) -> date | None:
    text = text.strip()
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise AreaSourceError(f"{where}: {text!r} is not an ISO date (YYYY-MM-DD)") from exc
