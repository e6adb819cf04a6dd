from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from pydantic import Field

from nguon.dispatch.events import EndpointEventType
from nguon.endpoints.endpoints import Endpoints
from nguon.endpoints.schemas import CODE_PATTERN
from nguon.identity.access import ADMIN, Access
from nguon.identity.principal import Principal
from nguon.identity.roles import Role
from nguon.kit.schemas import Page, ResponseModel
from nguon.push.models import NotificationStatus
from nguon.push.service import NotificationHistory, PushService
from nguon.unit_of_work import Session

router = APIRouter(prefix="/api/v1/endpoints", tags=["push"])

OVERSEERS = Access(Role.editor, Role.admin)
Code = Annotated[str, Path(pattern=CODE_PATTERN, description="Endpoint code")]


def push_service(request: Request, session: Session, endpoints: Endpoints) -> PushService:
    return PushService(session, endpoints, request.app.state.settings)


Pushes = Annotated[PushService, Depends(push_service)]


class PushSecretRead(ResponseModel):
    endpoint: str
    push_secret: str


class NotifiedBulletin(ResponseModel):
    id: str
    revision: int
    priority: str
    title: str
    valid_until: datetime | None


class AttemptRead(ResponseModel):
    attempted_at: datetime
    status_code: int | None
    error: str | None
    duration_ms: int


class NotificationRead(ResponseModel):
    id: str
    event_id: int
    type: EndpointEventType
    status: NotificationStatus
    playlist_version: int
    bulletin: NotifiedBulletin | None
    created_at: datetime
    next_attempt_at: Annotated[
        datetime | None, Field(description="When it is tried again, while pending")
    ]
    expires_at: datetime
    delivered_at: datetime | None
    last_error: str | None
    attempts: list[AttemptRead]


def read_model(item: NotificationHistory) -> NotificationRead:
    notification = item.notification
    bulletin = notification.payload.get("bulletin")
    pending = notification.status is NotificationStatus.pending
    return NotificationRead(
        id=notification.public_id,
        event_id=notification.event_id,
        type=notification.type,
        status=notification.status,
        playlist_version=notification.payload["playlist_version"],
        bulletin=NotifiedBulletin.model_validate(bulletin) if bulletin else None,
        created_at=notification.created_at,
        next_attempt_at=notification.next_attempt_at if pending else None,
        expires_at=notification.expires_at,
        delivered_at=notification.delivered_at,
        last_error=notification.last_error,
        attempts=[AttemptRead.model_validate(attempt) for attempt in item.attempts],
    )


@router.post(
    "/{code}/push-secret",
    summary="Issue a new webhook secret for an endpoint; it is in the answer, once",
    description="Notifications to the endpoint's push URL are signed with it from now on, "
    "queued ones included; the previous secret stops working at once. The gateway checks "
    "`X-Signature`: the hex HMAC-SHA256, under this secret, of `X-Timestamp` + `.` + the body.",
)
async def new_push_secret(
    code: Code,
    pushes: Pushes,
    actor: Annotated[Principal, Depends(ADMIN)],
    request: Request,
    response: Response,
) -> PushSecretRead:
    endpoint, secret = await pushes.new_secret(actor, code)
    request.state.audit_target = f"endpoint:{endpoint.code}"
    response.headers["Cache-Control"] = "no-store"
    return PushSecretRead(endpoint=endpoint.code, push_secret=secret)


@router.get(
    "/{code}/notifications",
    summary="Webhook notifications to an endpoint, newest first, with every attempt",
)
async def list_notifications(
    code: Code,
    pushes: Pushes,
    actor: Annotated[Principal, Depends(OVERSEERS)],
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> Page[NotificationRead]:
    return Page(items=[read_model(item) for item in await pushes.history(actor, code, limit)])
