from datetime import date
from typing import Annotated

from fastapi import APIRouter, Path, Query

from nguon.areas.models import Area
from nguon.areas.schemas import UNKNOWN_AREA, AreaDetail, AreaListItem, AreaSummary
from nguon.areas.service import AreaService
from nguon.identity.access import AnyPrincipal
from nguon.kit.schemas import Page, pattern
from nguon.unit_of_work import Session

router = APIRouter(prefix="/api/v1/areas", tags=["areas"])

CODE_PATTERN = pattern(r"^[A-Za-z0-9]{1,16}$", "1 to 16 letters or digits")
OnDay = Annotated[
    date | None,
    Query(
        alias="at",
        description="The day the codes refer to; default: today, or for a retired code the "
        "last unit that held it.",
    ),
]


def _summary(area: Area) -> AreaSummary:
    return AreaSummary.model_validate(area)


@router.get(
    "",
    summary="List the units below a parent (default: the national root)",
    responses=UNKNOWN_AREA,
)
async def list_areas(
    session: Session,
    _principal: AnyPrincipal,
    on: OnDay = None,
    parent: Annotated[str | None, Query(pattern=CODE_PATTERN, description="Parent code")] = None,
) -> Page[AreaListItem]:
    listed = await AreaService(session).children_of(parent, on)
    return Page(
        items=[
            AreaListItem(**_summary(area).model_dump(), children=children)
            for area, children in listed
        ]
    )


@router.get("/{code}", summary="One unit with its ancestors")
async def get_area(
    code: Annotated[str, Path(pattern=CODE_PATTERN, description="Statistics office code")],
    session: Session,
    _principal: AnyPrincipal,
    on: OnDay = None,
) -> AreaDetail:
    area, ancestors, children = await AreaService(session).describe(code, on)
    lineage = [_summary(unit) for unit in ancestors]
    return AreaDetail(
        **_summary(area).model_dump(),
        parent=lineage[-1] if lineage else None,
        ancestors=lineage,
        children=children,
    )
