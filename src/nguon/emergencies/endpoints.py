from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request

from nguon.bulletins.schemas import ID_PATTERN
from nguon.emergencies.schemas import CURSOR_PATTERN, EmergencyRead
from nguon.emergencies.service import DeliveryFilter, EmergencyService
from nguon.identity.access import Access
from nguon.identity.principal import Principal
from nguon.identity.roles import Role
from nguon.kit.db import utcnow
from nguon.unit_of_work import Session

router = APIRouter(prefix="/api/v1/emergencies", tags=["emergencies"])

OVERSEERS = Access(Role.editor, Role.admin)


@router.get(
    "/{bulletin_id}",
    summary="How an emergency reached its endpoints: per endpoint, and who has not confirmed it",
    description="The id is an emergency bulletin's, or one of its language variants'; the answer "
    "covers the original and every variant. `counts` and the seconds from approval to the "
    "first and last arrival and confirmation cover every delivery; `stragglers` lists the "
    "endpoints whose delivery is live and unconfirmed, online ones first; `endpoints` is a page "
    "of deliveries by endpoint code (`state=stragglers` keeps the unconfirmed ones; pass "
    "`next_cursor` back as `cursor`). Unconfirmed emergencies are announced again to online "
    "endpoints every NGUON_EMERGENCY_REPUSH_SECONDS until they leave the air.",
    responses={409: {"description": "Not an emergency bulletin (`priority` says what it is)"}},
)
async def get_emergency(
    bulletin_id: Annotated[str, Path(pattern=ID_PATTERN, description="Bulletin id")],
    request: Request,
    session: Session,
    actor: Annotated[Principal, Depends(OVERSEERS)],
    state: Annotated[
        DeliveryFilter, Query(description="`stragglers`: only the unconfirmed deliveries")
    ] = "all",
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
    cursor: Annotated[str | None, Query(pattern=CURSOR_PATTERN)] = None,
) -> EmergencyRead:
    service = EmergencyService(session, request.app.state.settings)
    return await service.status(actor, bulletin_id, state, limit, cursor, utcnow())
