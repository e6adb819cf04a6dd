import hashlib
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request, Response, status
from fastapi.responses import FileResponse, JSONResponse, RedirectResponse

from nguon.identity.access import Access, AnyPrincipal
from nguon.identity.principal import Principal
from nguon.identity.roles import Role
from nguon.kit.idempotency import IdempotencyKey, IdempotencyStore
from nguon.kit.multipart import FileUpload
from nguon.kit.schemas import ResponseModel, pattern
from nguon.kit.storage import Redirect
from nguon.media.kinds import MediaKind
from nguon.media.models import MediaObject
from nguon.media.renditions import ORIGINAL
from nguon.media.service import MediaService
from nguon.unit_of_work import Session

router = APIRouter(prefix="/api/v1/media", tags=["media"])

UPLOADERS = Access(Role.publisher, Role.editor)
MediaId = Annotated[
    str,
    Path(
        pattern=pattern(r"^[0-9a-f]{32}$", "32 hexadecimal digits (0-9, a-f)"),
        description="Media id",
    ),
]


def media_service(request: Request, session: Session) -> MediaService:
    state = request.app.state
    return MediaService(session, state.storage, state.settings)


Media = Annotated[MediaService, Depends(media_service)]


class RenditionRead(ResponseModel):
    name: str
    content_type: str
    size: int
    sha256: str
    duration_s: float | None
    width: int | None
    height: int | None
    url: str


class SubtitleTrackRead(ResponseModel):
    """A subtitle stream inside a video."""

    stream_index: int
    codec: str
    language: str | None  # as the container names it (ISO 639-2: `vie`, `eng`)


class MediaRead(ResponseModel):
    id: str
    sha256: str
    size: int
    content_type: str
    kind: MediaKind
    duration_s: float | None
    width: int | None
    height: int | None
    original_name: str | None
    created_at: datetime
    url: str
    renditions: list[RenditionRead]
    subtitle_tracks: list[SubtitleTrackRead]  # of a video: the subtitle streams it holds

    @classmethod
    def of(cls, media: MediaObject) -> "MediaRead":
        base = f"/api/v1/media/{media.id}"
        return cls(
            id=media.id,
            sha256=media.sha256,
            size=media.size,
            content_type=media.content_type,
            kind=media.kind,
            duration_s=media.duration_s,
            width=media.width,
            height=media.height,
            original_name=media.original_name,
            created_at=media.created_at,
            url=base,
            renditions=[
                RenditionRead(
                    name=r.name,
                    content_type=r.content_type,
                    size=r.size,
                    sha256=r.sha256,
                    duration_s=r.duration_s,
                    width=r.width,
                    height=r.height,
                    url=f"{base}/{r.name}",
                )
                for r in media.renditions
            ],
            subtitle_tracks=[
                SubtitleTrackRead(
                    stream_index=track.stream_index, codec=track.codec, language=track.language
                )
                for track in media.subtitle_tracks
            ],
        )


UPLOAD_BODY = {
    "required": True,
    "content": {
        "multipart/form-data": {
            "schema": {
                "type": "object",
                "required": ["file"],
                "properties": {"file": {"type": "string", "format": "binary"}},
            }
        }
    },
}


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    summary="Upload audio, an image, a video or its subtitles",
    response_model=MediaRead,
    description="Multipart field `file`. The type is decided from the bytes; the file travels on "
    "to storage while it arrives. Subtitles (WebVTT, SRT; UTF-8) are recognised by their content "
    "and name and checked cue by cue; an SRT file also gets a `webvtt` rendition. A video's "
    "embedded subtitle streams are listed in `subtitle_tracks`. The same content uploaded again "
    "returns the stored object with 200.",
    responses={
        200: {"description": "The same content was stored before", "model": MediaRead},
        400: {"description": "The multipart body is malformed"},
        413: {"description": "The file is larger than NGUON_MEDIA_MAX_BYTES"},
        415: {"description": "Not a kind of media the hub takes"},
        422: {"description": "No `file` field, or a file that cannot be read as its kind"},
    },
    openapi_extra={"requestBody": UPLOAD_BODY},
)
async def upload_media(
    service: Media,
    actor: Annotated[Principal, Depends(UPLOADERS)],
    request: Request,
    response: Response,
    idempotency_key: IdempotencyKey = None,
) -> MediaRead | JSONResponse:
    upload = FileUpload(request, "file")
    await upload.start()
    store = IdempotencyStore(service.session, actor.label, idempotency_key, "POST /api/v1/media")
    if await store.seen():
        digest = hashlib.sha256()
        async for chunk in upload.chunks():
            digest.update(chunk)
        replay = await store.replay(digest.hexdigest())
        assert replay is not None
        return JSONResponse(replay.response, status_code=replay.status)
    ingested = await service.ingest(actor, upload.chunks(), upload.filename)
    request.state.audit_target = f"media:{ingested.media.id}"
    response.status_code = status.HTTP_201_CREATED if ingested.created else status.HTTP_200_OK
    answer = MediaRead.of(ingested.media)
    await store.remember(
        ingested.media.sha256, response.status_code, answer.model_dump(mode="json")
    )
    return answer


async def deliver_media(
    service: MediaService, actor: Principal, media_id: str, rendition: str
) -> Response:
    delivery = await service.delivery(actor, media_id, rendition)
    if isinstance(delivery, Redirect):
        return RedirectResponse(delivery.url, status_code=status.HTTP_307_TEMPORARY_REDIRECT)
    return FileResponse(
        delivery.path, media_type=delivery.content_type, content_disposition_type="inline"
    )


@router.get(
    "/{media_id}",
    summary="The uploaded file (a redirect to object storage, or the bytes with Range support)",
    response_class=Response,
)
async def get_media(media_id: MediaId, service: Media, actor: AnyPrincipal) -> Response:
    return await deliver_media(service, actor, media_id, ORIGINAL)


@router.get(
    "/{media_id}/{rendition}",
    summary="A rendition: `original`, `broadcast` (audio for radio), `thumbnail` (images) or "
    "`webvtt` (SRT subtitles as WebVTT)",
    response_class=Response,
)
async def get_rendition(
    media_id: MediaId,
    rendition: Annotated[str, Path(pattern=pattern(r"^[a-z]{1,32}$", "1 to 32 lowercase letters"))],
    service: Media,
    actor: AnyPrincipal,
) -> Response:
    return await deliver_media(service, actor, media_id, rendition)
