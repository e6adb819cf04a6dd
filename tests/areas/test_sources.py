"""Reading units from the vietnam-provinces package and from CSV files."""

from pathlib import Path

import pytest

from nguon.areas.levels import CODE_PATTERNS, AreaLevel
from nguon.areas.sources import AreaSourceError, current_units, units_from_csv
from nguon.demo.service import LEGACY_CSV

HEADER = "code,name,level,parent_code,valid_from,valid_until\n"


def test_current_data_has_34_provinces_and_3321_communes() -> None:
    records = current_units()
    provinces = [r for r in records if r.level is AreaLevel.province]
    communes = [r for r in records if r.level is AreaLevel.commune]
    assert (len(provinces), len(communes)) == (34, 3321)
    province_codes = {p.code for p in provinces}
    assert all(c.parent_code in province_codes for c in communes)
    assert all(CODE_PATTERNS[r.level].match(r.code) for r in records)
    assert {r.valid_until for r in records} == {None}


def test_one_province_with_its_communes() -> None:
    records = current_units(["91"])
    assert records[0].code == "91"
    assert records[0].name == "Tỉnh An Giang"
    assert all(r.parent_code == "91" for r in records[1:])
    assert len(records) > 50


def test_unknown_province_is_refused() -> None:
    with pytest.raises(AreaSourceError, match="00"):
        current_units(["00"])


def test_shipped_legacy_province_has_three_tiers() -> None:
    records = units_from_csv(LEGACY_CSV)
    by_level = {level: [r for r in records if r.level is level] for level in AreaLevel}
    assert [p.code for p in by_level[AreaLevel.province]] == ["12"]
    assert len(by_level[AreaLevel.district]) == 8
    assert len(by_level[AreaLevel.commune]) == 106
    district_codes = {d.code for d in by_level[AreaLevel.district]}
    assert {d.parent_code for d in by_level[AreaLevel.district]} == {"12"}
    assert all(c.parent_code in district_codes for c in by_level[AreaLevel.commune])
    assert {r.valid_until.isoformat() for r in records if r.valid_until} == {"2025-06-30"}
    assert records.index(by_level[AreaLevel.province][0]) == 0  # parents first


def write(tmp_path: Path, *rows: str) -> Path:
    path = tmp_path / "units.csv"
    path.write_text(HEADER + "".join(row + "\n" for row in rows), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        (["12,Tỉnh X,province,,,", "105,Huyện Y,county,12,,"], "line 3: unknown level 'county'"),
        (
            ["12,Tỉnh X,province,,,", "1050,Huyện Y,district,12,,"],
            "line 3: '1050' is not a district",
        ),
        (
            ["12,Tỉnh X,province,,,", "105,Huyện Y,district,,,"],
            "line 3: district 105 needs a parent",
        ),
        (["12,Tỉnh X,province,,,", "105,Huyện Y,district,13,,"], "line 3: parent 13 of 105 is not"),
        (
            ["12,Tỉnh X,province,,,", "03386,Xã Z,commune,12,,", "00105,Xã W,commune,03386,,"],
            "line 4: commune 00105 cannot lie below commune 03386",
        ),
        (["12,Tỉnh X,province,,2025-01-01,2024-01-01"], "line 2: valid_until 2024-01-01 is before"),
        (["12,Tỉnh X,province,,,", "12,Tỉnh X2,province,,,"], "line 3: code 12 already on line 2"),
        (["12,Tỉnh X,province,,,30/06/2025"], "line 2: '30/06/2025' is not an ISO date"),
        (["VN,Việt Nam,central,,,"], "line 2: the national root is not loaded from a file"),
    ],
)
def test_bad_rows_are_named_by_line(tmp_path: Path, rows: list[str], message: str) -> None:
    with pytest.raises(AreaSourceError, match=message.replace("(", r"\(")):
        units_from_csv(write(tmp_path, *rows))


def test_wrong_header_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "units.csv"
    path.write_text("ma,ten\n12,X\n", encoding="utf-8")
    with pytest.raises(AreaSourceError, match="line 1: the header must be"):
        units_from_csv(path)


def test_parent_may_come_after_its_child_in_the_file(tmp_path: Path) -> None:
    records = units_from_csv(write(tmp_path, "105,Huyện Y,district,12,,", "12,Tỉnh X,province,,,"))
    assert [r.code for r in records] == ["12", "105"]
