from datetime import date

from nguon.areas.levels import AreaLevel
from nguon.kit.schemas import ResponseModel


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
