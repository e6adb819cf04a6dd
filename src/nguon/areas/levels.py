import re
from enum import StrEnum


class AreaLevel(StrEnum):
    central = "central"
    province = "province"
    district = "district"
    commune = "commune"

    @property
    def rank(self) -> int:
        """0 for the national root; a larger rank lies lower in the hierarchy."""
        return _RANKS[self]


_RANKS = {
    AreaLevel.central: 0,
    AreaLevel.province: 1,
    AreaLevel.district: 2,
    AreaLevel.commune: 3,
}

CODE_PATTERNS: dict[AreaLevel, re.Pattern[str]] = {
    AreaLevel.central: re.compile(r"^VN$"),
    AreaLevel.province: re.compile(r"^\d{2}$"),
    AreaLevel.district: re.compile(r"^\d{3}$"),
    AreaLevel.commune: re.compile(r"^\d{5}$"),
}
