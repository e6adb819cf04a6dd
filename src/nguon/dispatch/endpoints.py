from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Path, Request, Response, status
from sqlalchemy.ext.asyncio import AsyncSession

from nguon.bulletins.schemas import ID_PATTERN
from nguon.bulletins.service import BulletinService
from nguon.dispatch.cache import PlaylistCache, etag_matches
from nguon.dispatch.models import DeliveryStatus, PlayOutcome
from nguon.dispatch.plays import PLAYS_SHOWN, PlayService
from nguon.dispatch.schemas import PlaylistRead
from nguon.dispatch.service import Dispatcher, PlaylistService, RenderedPlaylist
from nguon.endpoints.schemas import CODE_PATTERN
from nguon.endpoints.windows import EndpointKind
from nguon.identity.access import Access
from nguon.identity.principal import Principal
from nguon.identity.roles import Role
from nguon.kit.db import utcnow
from nguon.kit.schemas import Instant, ResponseModel
from nguon.unit_of_work import Session

router = APIRouter(prefix="/api/v1/bulletins", tags=["dispatch"])

OVERSEERS = Access(Role.editor, Role.admin)
# A commune's chair checks what the commune's endpoints will play, as the department does.
PREVIEWERS = Access(Role.editor, Role.admin, Role.commune_chair)
DEVICE = Access(Role.endpoint)
preview_router = APIRouter(prefix="/api/v1/endpoints", tags=["dispatch"])
device_playlist_router = APIRouter(prefix="/api/v1/device", tags=["device"])
DEVICE_PLAYLIST_PATH = "/api/v1/device/playlist"
EndpointCode = Annotated[str, Path(pattern=CODE_PATTERN, description="Endpoint code")]
IfNoneMatch = Annotated[str | None, Header(description="The ETag of the playlist held")]
PLAYLIST_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"model": PlaylistRead, "headers": {"ETag": {"description": "Strong validator"}}},
    304: {"description": "Unchanged since the ETag in If-None-Match"},
}


def playlist_response(rendered: RenderedPlaylist, if_none_match: str | None) -> Response:
    headers = {"ETag": rendered.etag, "Cache-Control": "no-cache"}
    if etag_matches(if_none_match, rendered.etag):
        return Response(status_code=status.HTTP_304_NOT_MODIFIED, headers=headers)
    return Response(rendered.body, media_type="application/json", headers=headers)


@device_playlist_router.get(
    "/playlist",
    summary="What to play now and in the next 24 hours; poll with If-None-Match",
    description="`items` is what plays now, in the regulation's order: inside an operating "
    "window everything whose slot falls in it, outside only emergencies. `upcoming` holds "
    "the slots after the current window, up to a day past its end, for offline caching. "
    "Media URLs are relative to the hub; radios get the broadcast rendition. Send the ETag "
    "back in If-None-Match: an unchanged playlist answers 304 and costs the hub no query.",
    response_class=Response,
    responses=PLAYLIST_RESPONSES,
)
async def device_playlist(
    request: Request,
    session: Session,
    device: Annotated[Principal, Depends(DEVICE)],
    if_none_match: IfNoneMatch = None,
) -> Response:
    cache: PlaylistCache = request.app.state.playlists
    now = utcnow()
    assert device.endpoint_id is not None  # endpoint keys always name their endpoint
    rendered = cache.get(device.endpoint_id, now)
    if rendered is None:
        rendered = await PlaylistService(session).for_device(device, now)
        cache.put(rendered)
    return playlist_response(rendered, if_none_match)


@preview_router.get(
    "/{code}/playlist",
    summary="Preview exactly what the device API gives an endpoint at a moment",
    description="`at` defaults to now; the answer and its ETag are what the endpoint would "
    "receive at that moment, for checking a schedule before it airs.",
    response_class=Response,
    responses=PLAYLIST_RESPONSES,
)
async def preview_playlist(
    code: EndpointCode,
    session: Session,
    actor: Annotated[Principal, Depends(PREVIEWERS)],
    at: Instant | None = None,
    if_none_match: IfNoneMatch = None,
) -> Response:
    rendered = await PlaylistService(session).preview(actor, code, at or utcnow())
    return playlist_response(rendered, if_none_match)


class DeliveryRead(ResponseModel):
    endpoint: str
    endpoint_name: str
    endpoint_kind: EndpointKind
    area: str
    revision: int
    status: DeliveryStatus
    detail: str | None
    updated_at: datetime


class DeliveryPage(ResponseModel):
    items: list[DeliveryRead]
    counts: dict[str, int]


async def delivery_page(session: AsyncSession, actor: Principal, bulletin_id: str) -> DeliveryPage:
    bulletin = await BulletinService(session).get(actor, bulletin_id)
    rows, counts = await Dispatcher(session).deliveries(bulletin.id)
    return DeliveryPage(
        items=[
            DeliveryRead(
                endpoint=endpoint.code,
                endpoint_name=endpoint.name,
                endpoint_kind=endpoint.kind,
                area=endpoint.area_code,
                revision=delivery.revision,
                status=delivery.status,
                detail=delivery.detail,
                updated_at=delivery.updated_at,
            )
            for delivery, endpoint in rows
        ],
        counts=dict(counts),
    )


@router.get("/{bulletin_id}/deliveries", summary="Where a bulletin goes: one delivery per endpoint")
async def list_deliveries(
    bulletin_id: Annotated[str, Path(pattern=ID_PATTERN)],
    session: Session,
    actor: Annotated[Principal, Depends(OVERSEERS)],
) -> DeliveryPage:
    return await delivery_page(session, actor, bulletin_id)


# --- plays: what the devices say they played -----------------------------------------------


class PlayRead(ResponseModel):
    endpoint: str
    started_at: datetime
    ended_at: datetime
    outcome: PlayOutcome
    revision: int
    received_at: datetime


class PlayPage(ResponseModel):
    items: list[PlayRead]


@router.get(
    "/{bulletin_id}/plays",
    summary="Where and when a bulletin played: the devices' as-run records",
    description=f"The latest {PLAYS_SHOWN} records first.",
)
async def list_plays(
    bulletin_id: Annotated[str, Path(pattern=ID_PATTERN)],
    session: Session,
    actor: Annotated[Principal, Depends(OVERSEERS)],
) -> PlayPage:
    bulletin = await BulletinService(session).get(actor, bulletin_id)
    rows = await PlayService(session).of_bulletin(bulletin.id)
    return PlayPage(
        items=[
            PlayRead(
                endpoint=endpoint.code,
                started_at=play.started_at,
                ended_at=play.ended_at,
                outcome=play.outcome,
                revision=play.revision,
                received_at=play.received_at,
            )
            for play, endpoint in rows
        ]
    )
