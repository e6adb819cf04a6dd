from typing import Annotated

from fastapi import APIRouter, Depends, Path

from nguon.areas.schemas import AreaSummary
from nguon.communes.service import CommuneService
from nguon.identity.access import Access
from nguon.identity.principal import Principal
from nguon.identity.roles import USER_ROLES, Role
from nguon.kit.schemas import ResponseModel
from nguon.unit_of_work import Session

router = APIRouter(prefix="/api/v1/communes", tags=["communes"])

# People of the commune and anyone above it; integrations act as publishers.
COMMUNE_READERS = Access(*USER_ROLES, Role.integration)


class StaffMember(ResponseModel):
    username: str
    full_name: str | None
    role: Role
    active: bool


class CommuneRead(ResponseModel):
    area: AreaSummary
    ancestors: list[AreaSummary]
    staff: list[StaffMember]


@router.get("/{code}", summary="A commune: where it sits and who acts for it")
async def get_commune(
    code: Annotated[str, Path(pattern=r"^[0-9]{5}$", description="5-digit commune code")],
    session: Session,
    actor: Annotated[Principal, Depends(COMMUNE_READERS)],
) -> CommuneRead:
    profile = await CommuneService(session).profile(actor, code)
    return CommuneRead(
        area=AreaSummary.model_validate(profile.area),
        ancestors=[AreaSummary.model_validate(unit) for unit in profile.ancestors],
        staff=[StaffMember.model_validate(user) for user in profile.staff],
    )
