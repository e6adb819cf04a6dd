from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request

from nguon.areas.levels import AreaLevel
from nguon.identity.access import Access
from nguon.identity.principal import Principal
from nguon.identity.roles import Role
from nguon.kit.errors import Forbidden
from nguon.kit.schemas import ResponseModel, pattern
from nguon.unit_of_work import Session
from nguon.uplink.models import UplinkAttempt, UplinkKind, UplinkMessage, UplinkStatus
from nguon.uplink.service import UplinkService

router = APIRouter(prefix="/api/v1/uplink", tags=["uplink"])
ADMINS = Access(Role.admin)


class UplinkAttemptRead(ResponseModel):
    attempted_at: datetime
    status_code: int | None
    error: str | None
    duration_ms: int


class UplinkMessageRead(ResponseModel):
    id: int
    kind: UplinkKind
    subject: str
    status: UplinkStatus
    attempts: int
    next_attempt_at: datetime | None  # when it is tried again; None once it has ended
    last_error: str | None
    created_at: datetime
    sent_at: datetime | None
    history: list[UplinkAttemptRead]


class UplinkPage(ResponseModel):
    enabled: bool
    central_url: str | None
    items: list[UplinkMessageRead]
    next_cursor: str | None


def _read(message: UplinkMessage, attempts: list[UplinkAttempt]) -> UplinkMessageRead:
    return UplinkMessageRead(
        id=message.id,
        kind=message.kind,
        subject=message.subject,
        status=message.status,
        attempts=message.attempts,
        next_attempt_at=message.next_attempt_at if message.status is UplinkStatus.pending else None,
        last_error=message.last_error,
        created_at=message.created_at,
        sent_at=message.sent_at,
        history=[UplinkAttemptRead.model_validate(attempt) for attempt in attempts],
    )


def _require_province(actor: Principal) -> None:
    """The uplink is the province's: a district's administrator neither reads nor drives it."""
    if actor.area.level not in (AreaLevel.province, AreaLevel.central):
        raise Forbidden(
            f"The uplink to the central system belongs to the province; {actor.label} "
            f"administers {actor.area.code}."
        )


@router.get(
    "/messages",
    summary="What went up to the central system, or waits to, newest first, with every attempt",
)
async def list_uplink_messages(
    request: Request,
    session: Session,
    actor: Annotated[Principal, Depends(ADMINS)],
    status: UplinkStatus | None = None,
    cursor: Annotated[
        str | None, Query(pattern=pattern(r"^[0-9]{1,18}$", "the next_cursor of the page before"))
    ] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> UplinkPage:
    _require_province(actor)
    settings = request.app.state.settings
    messages, attempts = await UplinkService(session).messages(
        status, int(cursor) if cursor else None, limit
    )
    return UplinkPage(
        enabled=settings.uplink_enabled,
        central_url=settings.central_url,
        items=[_read(message, attempts[message.id]) for message in messages],
        next_cursor=str(messages[-1].id) if len(messages) == limit else None,
    )


@router.post(
    "/messages/{message_id}/retry",
    summary="Send a message again now: one refused, or one waiting out its backoff",
    responses={409: {"description": "The message was delivered already"}},
)
async def retry_uplink_message(
    request: Request,
    session: Session,
    actor: Annotated[Principal, Depends(ADMINS)],
    message_id: Annotated[int, Path(ge=1, le=2**31 - 1)],
) -> UplinkMessageRead:
    _require_province(actor)
    request.state.audit_target = f"uplink:{message_id}"
    return _read(*await UplinkService(session).retry(message_id))
