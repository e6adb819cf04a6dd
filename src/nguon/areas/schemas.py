from datetime import date
from typing import Any

from nguon.areas.levels import AreaLevel
from nguon.kit.schemas import ResponseModel

# The answer of a route that looks up an area code given in its query or body.
UNKNOWN_AREA: dict[int | str, dict[str, Any]] = {
    404: {"description": "No administrative unit has a code you gave"}
}


class AreaSummary(ResponseModel):
    code: str
    name: str
    level: AreaLevel
    valid_from: date | None
    valid_until: date | None


class AreaListItem(AreaSummary):
    children: int


class AreaDetail(AreaSummary):
    parent: AreaSummary | None
    ancestors: list[AreaSummary]
    children: int
