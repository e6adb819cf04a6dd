from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, status
from pydantic import Field

from nguon.areas.levels import AreaLevel
from nguon.areas.schemas import AreaSummary
from nguon.bulletins.enums import BulletinKind, Priority
from nguon.bulletins.schemas import ID_PATTERN
from nguon.communes.models import ProgrammeEntry
from nguon.communes.service import CommuneService, QueueItem
from nguon.identity.access import Access
from nguon.identity.principal import Principal
from nguon.identity.roles import USER_ROLES, Role
from nguon.kit.db import utcnow
from nguon.kit.schemas import ROW_ID_MAX, Instant, RequestModel, ResponseModel, pattern
from nguon.unit_of_work import Session

router = APIRouter(prefix="/api/v1/communes", tags=["communes"])

# People of the commune and anyone above it; integrations act as publishers.
COMMUNE_READERS = Access(*USER_ROLES, Role.integration)
# The commune's chair, and the editors and administrators above it.
QUEUE_READERS = Access(Role.commune_chair, Role.editor, Role.admin)
# The regulation gives the order and the choice of normal items to the commune chair alone.
CHAIR = Access(Role.commune_chair)
CommuneCode = Annotated[
    str, Path(pattern=pattern(r"^[0-9]{5}$", "5 digits"), description="5-digit commune code")
]


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
    section: Literal["emergency", "priority", "programme", "available"]
    title: str
    kind: BulletinKind
    language: str
    priority: Priority
    level: AreaLevel
    origin_area: str
    slot: datetime | None
    published_at: datetime
    valid_until: datetime


class QueueRead(ResponseModel):
    items: list[QueueItemRead]


class QueueOrder(RequestModel):
    bulletin_ids: Annotated[
        list[Annotated[str, Field(pattern=ID_PATTERN)]],
        Field(max_length=200, description="Colliding priority items, in the order to play them"),
    ]


class ProgrammeChoice(RequestModel):
    bulletin_id: Annotated[str, Field(pattern=ID_PATTERN)]
    slot: Instant


class ProgrammeChoices(RequestModel):
    items: Annotated[list[ProgrammeChoice], Field(min_length=1, max_length=200)]


class ProgrammeEntryRead(ResponseModel):
    id: int
    bulletin_id: str
    slot: datetime
    created_by: str
    created_at: datetime


class ProgrammeRead(ResponseModel):
    items: list[ProgrammeEntryRead]


def _queue(items: list[QueueItem]) -> QueueRead:
    return QueueRead(items=[QueueItemRead.model_validate(item) for item in items])


def _programme(entries: list[ProgrammeEntry]) -> ProgrammeRead:
    return ProgrammeRead(items=[ProgrammeEntryRead.model_validate(entry) for entry in entries])


@router.get(
    "/{code}/queue",
    summary="The commune radio's programme: emergencies, priority items in order, normal offered",
    description="Order (Decision 002, Điều 8): emergency before priority before normal; within "
    "a class central, province, district, commune; then scheduled time, then publication; "
    "the chair's order of colliding priority items applies. Each item carries its next `slot` "
    "on the commune's radio. Normal bulletins are `available` until the chair puts them into "
    "the `programme`. `at` previews another moment (default now).",
)
async def get_queue(
    code: CommuneCode,
    session: Session,
    actor: Annotated[Principal, Depends(QUEUE_READERS)],
    at: Instant | None = None,
) -> QueueRead:
    return _queue(await CommuneService(session).radio_queue(actor, code, at or utcnow()))


@router.put(
    "/{code}/queue/order",
    summary="The chair orders priority items that collide with the commune's own (Điều 8.2)",
    description="`bulletin_ids` lists colliding priority items in the order to play them; it "
    "replaces the earlier order, and an empty list restores the regulation's order. Any other "
    "bulletin is refused with 422, naming those that may be ordered.",
)
async def order_queue(
    code: CommuneCode,
    body: QueueOrder,
    session: Session,
    actor: Annotated[Principal, Depends(CHAIR)],
) -> QueueRead:
    service = CommuneService(session)
    return _queue(await service.order(actor, code, body.bulletin_ids, utcnow()))


@router.get("/{code}/programme", summary="Normal bulletins the chair put into the programme")
async def get_programme(
    code: CommuneCode,
    session: Session,
    actor: Annotated[Principal, Depends(QUEUE_READERS)],
) -> ProgrammeRead:
    return _programme(await CommuneService(session).programme(actor, code, utcnow()))


@router.post(
    "/{code}/programme",
    summary="The chair puts normal bulletins into radio slots (Điều 8.3)",
    description="Each slot must lie inside the commune radio's operating windows and the "
    "bulletin's validity, and not in the past. Choosing the same slot again changes nothing.",
)
async def add_to_programme(
    code: CommuneCode,
    body: ProgrammeChoices,
    session: Session,
    actor: Annotated[Principal, Depends(CHAIR)],
) -> ProgrammeRead:
    choices = [(choice.bulletin_id, choice.slot) for choice in body.items]
    return _programme(await CommuneService(session).schedule(actor, code, choices, utcnow()))


@router.delete(
    "/{code}/programme/{entry_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Take an entry out of the programme",
)
async def remove_from_programme(
    code: CommuneCode,
    entry_id: Annotated[int, Path(ge=1, le=ROW_ID_MAX)],
    session: Session,
    actor: Annotated[Principal, Depends(CHAIR)],
) -> None:
    await CommuneService(session).unschedule(actor, code, entry_id)


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
