from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Path

from nguon.areas.levels import AreaLevel
from nguon.areas.schemas import AreaSummary
from nguon.bulletins.enums import BulletinKind, BulletinStatus, Priority
from nguon.communes.service import CommuneService
from nguon.identity.access import Access
from nguon.identity.principal import Principal
from nguon.identity.roles import USER_ROLES, Role
from nguon.kit.schemas import ResponseModel
from nguon.unit_of_work import Session

router = APIRouter(prefix="/api/v1/communes", tags=["communes"])

# People of the commune and anyone above it; integrations act as publishers.
COMMUNE_READERS = Access(*USER_ROLES, Role.integration)
# The commune's chair, and the editors and administrators above it.
QUEUE_READERS = Access(Role.commune_chair, Role.editor, Role.admin)
CommuneCode = Annotated[str, Path(pattern=r"^[0-9]{5}$", description="5-digit commune code")]


class StaffMember(ResponseModel):
    username: str
    full_name: str | None
    role: Role
    active: bool


class CommuneRead(ResponseModel):
    area: AreaSummary
    ancestors: list[AreaSummary]
    staff: list[StaffMember]


class QueueItemRead(ResponseModel):
    bulletin_id: str
    section: str
    title: str
    kind: BulletinKind
    language: str
    priority: Priority
    level: AreaLevel
    origin_area: str
    status: BulletinStatus
    slot: datetime | None
    published_at: datetime


class QueueRead(ResponseModel):
    items: list[QueueItemRead]


@router.get(
    "/{code}/queue",
    summary="The commune radio's programme: emergencies, priority items in order, normal offered",
    description="Order (Decision 002, Điều 8): emergency before priority before normal; within "
    "a class central, province, district, commune; then scheduled time, then publication. "
    "Normal bulletins have the section `available`: the chair chooses which to schedule.",
)
async def get_queue(
    code: CommuneCode,
    session: Session,
    actor: Annotated[Principal, Depends(QUEUE_READERS)],
) -> QueueRead:
    queue = await CommuneService(session).radio_queue(actor, code)
    return QueueRead(items=[QueueItemRead.model_validate(item) for item in queue])


@router.get("/{code}", summary="A commune: where it sits and who acts for it")
async def get_commune(
    code: CommuneCode,
    session: Session,
    actor: Annotated[Principal, Depends(COMMUNE_READERS)],
) -> CommuneRead:
    profile = await CommuneService(session).profile(actor, code)
    return CommuneRead(
        area=AreaSummary.model_validate(profile.area),
        ancestors=[AreaSummary.model_validate(unit) for unit in profile.ancestors],
        staff=[StaffMember.model_validate(user) for user in profile.staff],
    )
