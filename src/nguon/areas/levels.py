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

# [0-9], not \d, which also takes non-ASCII digits; \Z, not $, which lets a trailing newline through
CODE_PATTERNS: dict[AreaLevel, re.Pattern[str]] = {
    AreaLevel.central: re.compile(r"\AVN\Z"),
    AreaLevel.province: re.compile(r"\A[0-9]{2}\Z"),
    AreaLevel.district: re.compile(r"\A[0-9]{3}\Z"),
    AreaLevel.commune: re.compile(r"\A[0-9]{5}\Z"),
}
