from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query

from nguon.audit.service import AuditFilter, AuditService, Outcome
from nguon.identity.access import Admin
from nguon.kit.schemas import INT64_MAX, Instant, ResponseModel
from nguon.unit_of_work import Session

router = APIRouter(prefix="/api/v1/audit", tags=["audit"])


class AuditRecordRead(ResponseModel):
    id: int
    at: datetime
    actor: str
    action: str
    target: str | None
    outcome: Outcome
    status: int | None
    request_id: str | None
    client: str | None
    hash: str


class AuditPage(ResponseModel):
    items: list[AuditRecordRead]
    next_before_id: int | None


class AuditBreakRead(ResponseModel):
    record_id: int
    reason: str


class AuditVerification(ResponseModel):
    intact: bool
    checked: int
    breaks: list[AuditBreakRead]


@router.get("", summary="The audit trail, newest first")
async def list_audit(
    session: Session,
    actor_principal: Admin,
    actor: Annotated[str | None, Query(max_length=200, examples=["user:admin"])] = None,
    action: Annotated[str | None, Query(max_length=200, examples=["POST /api/v1/users"])] = None,
    outcome: Outcome | None = None,
    since: Instant | None = None,
    until: Instant | None = None,
    before_id: Annotated[
        int | None, Query(ge=1, le=INT64_MAX, description="Page on from here")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> AuditPage:
    records = await AuditService(session).search_for(
        actor_principal,
        AuditFilter(actor=actor, action=action, outcome=outcome, since=since, until=until),
        limit,
        before_id,
    )
    items = [AuditRecordRead.model_validate(record) for record in records]
    return AuditPage(items=items, next_before_id=items[-1].id if len(items) == limit else None)


@router.get(
    "/verify",
    summary="Check the whole audit chain under the hub's key",
    description="Names every record edited, deleted or hashed without the hub's key, and "
    "newest records deleted since a checkpoint. For administrators at province level or above: "
    "the chain is the whole hub's. `nguon audit verify` does the same and writes a checkpoint.",
)
async def verify_audit(session: Session, actor: Admin) -> AuditVerification:
    checked, breaks = await AuditService(session).verify_for(actor)
    return AuditVerification(
        intact=not breaks,
        checked=checked,
        breaks=[AuditBreakRead(record_id=b.record_id, reason=b.reason) for b in breaks],
    )
