"""Reading units from the vietnam-provinces package and from CSV files (no database)."""

import re
from collections import Counter
from datetime import date
from pathlib import Path

import pytest

import nguon.areas
from nguon.areas.levels import CODE_PATTERNS, AreaLevel
from nguon.areas.sources import AreaRecord, AreaSourceError, current_units, units_from_csv

LEGACY_LAI_CHAU = Path(nguon.areas.__file__).parent / "data" / "legacy_lai_chau.csv"
HEADER = "code,name,level,parent_code,valid_from,valid_until"
PROVINCE_12 = "12,Tỉnh Lai Châu,province,,,"


def by_level(records: list[AreaRecord], level: AreaLevel) -> list[AreaRecord]:
    return [r for r in records if r.level is level]


def write_csv(tmp_path: Path, *rows: str, header: str = HEADER) -> Path:
    path = tmp_path / "units.csv"
    path.write_text("".join(line + "\n" for line in (header, *rows)), encoding="utf-8")
    return path


def assert_refused(path: Path, message: str) -> None:
    with pytest.raises(AreaSourceError, match=re.escape(f"units.csv: {message}")):
        units_from_csv(path)


# --- current two-tier data -------------------------------------------------------------------


def test_current_data_has_34_provinces_and_3321_communes() -> None:
    records = current_units()
    provinces = by_level(records, AreaLevel.province)
    communes = by_level(records, AreaLevel.commune)
    assert (len(provinces), len(communes)) == (34, 3321)
    assert len(records) == 34 + 3321
    province_codes = {p.code for p in provinces}
    assert {c.parent_code for c in communes} == province_codes
    assert {p.parent_code for p in provinces} == {None}
    assert all(CODE_PATTERNS[r.level].match(r.code) for r in records)
    assert len({r.code for r in records}) == len(records)
    assert {(r.valid_from, r.valid_until) for r in records} == {(date(2025, 7, 1), None)}


def test_current_data_lists_provinces_then_communes_by_code() -> None:
    records = current_units()
    assert records == sorted(records, key=lambda r: (r.level.rank, r.code))
    assert records[0] == AreaRecord(
        "01", "Thành phố Hà Nội", AreaLevel.province, None, date(2025, 7, 1), None
    )
    assert records[34].level is AreaLevel.commune


def test_current_names_are_full_official_names() -> None:
    names = {r.code: r.name for r in current_units()}
    assert names["91"] == "Tỉnh An Giang"  # the package itself says only "An Giang"
    assert names["12"] == "Tỉnh Lai Châu"
    assert names["79"] == "Thành phố Hồ Chí Minh"
    prefixes = Counter(name.split(" ")[0] for code, name in names.items() if len(code) == 5)
    assert prefixes == {"Xã": 2621, "Phường": 687, "Đặc": 13}  # đặc khu are communes too


def test_filtering_to_an_giang_gives_its_wards_only() -> None:
    records = current_units(["91"])
    assert records[0] == AreaRecord(
        "91", "Tỉnh An Giang", AreaLevel.province, None, date(2025, 7, 1), None
    )
    communes = records[1:]
    assert len(communes) == 102
    assert all(c.level is AreaLevel.commune and c.parent_code == "91" for c in communes)
    assert "Xã Mỹ Hòa Hưng" in {c.name for c in communes}
    assert "Đặc khu Phú Quốc" in {c.name for c in communes}
    everything = current_units()
    assert communes == [r for r in everything if r.parent_code == "91"]


def test_filtering_to_several_provinces_sorts_them_by_code() -> None:
    records = current_units(["91", "12"])
    assert [p.code for p in by_level(records, AreaLevel.province)] == ["12", "91"]
    assert {c.parent_code for c in by_level(records, AreaLevel.commune)} == {"12", "91"}


def test_an_empty_filter_gives_nothing() -> None:
    assert current_units([]) == []


@pytest.mark.parametrize("code", ["00", "1", "091", "VN"])
def test_unknown_province_code_is_refused(code: str) -> None:
    with pytest.raises(AreaSourceError, match=f"code\\(s\\) {code}$"):
        current_units(["91", code])


# --- the shipped legacy CSV ------------------------------------------------------------------


def test_shipped_legacy_lai_chau_has_three_tiers() -> None:
    records = units_from_csv(LEGACY_LAI_CHAU)
    provinces = by_level(records, AreaLevel.province)
    districts = by_level(records, AreaLevel.district)
    communes = by_level(records, AreaLevel.commune)
    assert [(p.code, p.name, p.parent_code) for p in provinces] == [("12", "Tỉnh Lai Châu", None)]
    assert len(districts) == 8
    assert len(communes) == 106
    assert {d.parent_code for d in districts} == {"12"}
    district_codes = {d.code for d in districts}
    assert {c.parent_code for c in communes} == district_codes
    assert {(r.valid_from, r.valid_until) for r in records} == {(None, date(2025, 6, 30))}
    assert records == provinces + districts + communes  # parents before children


def test_shipped_legacy_lai_chau_has_the_known_units() -> None:
    names = {r.code: r.name for r in units_from_csv(LEGACY_LAI_CHAU)}
    assert names["105"] == "Thành phố Lai Châu"
    assert names["112"] == "Huyện Nậm Nhùn"
    commune_names = [name for code, name in names.items() if len(code) == 5]
    kinds = Counter(
        next(k for k in ("Phường", "Thị trấn", "Xã") if n.startswith(k + " "))
        for n in commune_names
    )
    assert kinds == {"Xã": 94, "Phường": 5, "Thị trấn": 7}


# --- CSV: what loads -------------------------------------------------------------------------


def test_csv_loads_parents_first_whatever_the_file_order(tmp_path: Path) -> None:
    path = write_csv(
        tmp_path,
        "03386,Xã A,commune,105,,",
        "105,Huyện B,district,12,2008-10-01,2025-06-30",
        "03637,Xã C,commune,12,2025-07-01,",  # two-tier: a commune straight under its province
        PROVINCE_12,
    )
    records = units_from_csv(path)
    assert [(r.code, r.level, r.parent_code) for r in records] == [
        ("12", AreaLevel.province, None),
        ("105", AreaLevel.district, "12"),
        ("03386", AreaLevel.commune, "105"),
        ("03637", AreaLevel.commune, "12"),
    ]
    assert (records[1].valid_from, records[1].valid_until) == (date(2008, 10, 1), date(2025, 6, 30))
    assert (records[3].valid_from, records[3].valid_until) == (date(2025, 7, 1), None)


def test_csv_columns_may_come_in_any_order_and_with_a_byte_order_mark(tmp_path: Path) -> None:
    path = tmp_path / "units.csv"
    path.write_text(
        "name,code,level,valid_until,valid_from,parent_code\nTỉnh Lai Châu,12,province,,,\n",
        encoding="utf-8-sig",
    )
    assert units_from_csv(path) == [
        AreaRecord("12", "Tỉnh Lai Châu", AreaLevel.province, None, None, None)
    ]


# --- CSV: one refusal per kind of error, each naming its line --------------------------------


def test_csv_missing_column_is_refused(tmp_path: Path) -> None:
    path = write_csv(
        tmp_path, "12,Tỉnh Lai Châu,province,,", header=HEADER.removesuffix(",valid_until")
    )
    assert_refused(path, "line 1: the header must be")


def test_csv_unknown_column_is_refused(tmp_path: Path) -> None:
    path = write_csv(tmp_path, PROVINCE_12 + ",x", header=HEADER + ",population")
    assert_refused(path, "line 1: the header must be")


def test_csv_row_with_missing_fields_is_refused(tmp_path: Path) -> None:
    path = write_csv(tmp_path, PROVINCE_12, "105,Huyện B,district,12")
    assert_refused(path, "line 3: 4 fields, the header has 6")


def test_csv_unknown_level_is_refused(tmp_path: Path) -> None:
    path = write_csv(tmp_path, PROVINCE_12, "105,Huyện B,county,12,,")
    assert_refused(path, "line 3: unknown level 'county'")


def test_csv_central_level_is_refused(tmp_path: Path) -> None:
    path = write_csv(tmp_path, "VN,Việt Nam,central,,,", PROVINCE_12)
    assert_refused(path, "line 2: the national root is not loaded from a file")


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ("2,Tỉnh X,province,,,", "'2' is not a province code"),
        ("012,Tỉnh X,province,,,", "'012' is not a province code"),
        ("12a,Huyện X,district,12,,", "'12a' is not a district code"),
        ("1050,Huyện X,district,12,,", "'1050' is not a district code"),
        ("3637,Xã X,commune,12,,", "'3637' is not a commune code"),
        ("١٢٣٤٥,Xã X,commune,12,,", "'١٢٣٤٥' is not a commune code"),
    ],
)
def test_csv_code_of_the_wrong_format_is_refused(tmp_path: Path, row: str, message: str) -> None:
    path = write_csv(tmp_path, PROVINCE_12, row)
    assert_refused(path, f"line 3: {message}")


def test_csv_district_without_parent_is_refused(tmp_path: Path) -> None:
    path = write_csv(tmp_path, PROVINCE_12, "105,Huyện B,district,,,")
    assert_refused(path, "line 3: district 105 needs a parent_code")


def test_csv_commune_without_parent_is_refused(tmp_path: Path) -> None:
    path = write_csv(tmp_path, PROVINCE_12, "03386,Xã A,commune,,,")
    assert_refused(path, "line 3: commune 03386 needs a parent_code")


def test_csv_parent_not_in_the_file_is_refused(tmp_path: Path) -> None:
    path = write_csv(tmp_path, PROVINCE_12, "105,Huyện B,district,12,,", "03386,Xã A,commune,106,,")
    assert_refused(path, "line 4: parent 106 of 03386 is not in the file")


def test_csv_parent_at_the_same_level_is_refused(tmp_path: Path) -> None:
    path = write_csv(tmp_path, PROVINCE_12, "03386,Xã A,commune,12,,", "03387,Xã B,commune,03386,,")
    assert_refused(path, "line 4: commune 03387 cannot lie below commune 03386")


def test_csv_parent_below_the_child_is_refused(tmp_path: Path) -> None:
    path = write_csv(
        tmp_path,
        PROVINCE_12,
        "105,Huyện B,district,03386,,",
        "03386,Xã A,commune,12,,",
    )
    assert_refused(path, "line 3: district 105 cannot lie below commune 03386")


def test_csv_province_with_a_parent_is_refused(tmp_path: Path) -> None:
    path = write_csv(tmp_path, PROVINCE_12, "11,Tỉnh Điện Biên,province,12,,")
    assert_refused(path, "line 3: province 11 cannot have a parent_code")


def test_csv_valid_until_before_valid_from_is_refused(tmp_path: Path) -> None:
    path = write_csv(tmp_path, PROVINCE_12, "105,Huyện B,district,12,2025-07-01,2025-06-30")
    assert_refused(path, "line 3: valid_until 2025-06-30 is before valid_from 2025-07-01")


def test_csv_date_not_in_iso_format_is_refused(tmp_path: Path) -> None:
    path = write_csv(tmp_path, PROVINCE_12, "105,Huyện B,district,12,,30/06/2025")
    assert_refused(path, "line 3: '30/06/2025' is not an ISO date")


def test_csv_duplicate_code_is_refused(tmp_path: Path) -> None:
    path = write_csv(
        tmp_path, PROVINCE_12, "105,Huyện B,district,12,,", "105,Huyện C,district,12,,"
    )
    assert_refused(path, "line 4: code 105 already on line 3")
