from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request, status
from fastapi.responses import JSONResponse

from nguon.areas.levels import AreaLevel
from nguon.areas.schemas import UNKNOWN_AREA
from nguon.areas.service import AreaService
from nguon.bulletins.enums import BulletinKind, BulletinStatus, Category, Priority
from nguon.bulletins.repository import CURSOR_PATTERN, BulletinFilter, encode_cursor
from nguon.bulletins.schemas import (
    ID_PATTERN,
    LANGUAGE_PATTERN,
    BulletinCreate,
    BulletinPage,
    BulletinRead,
    BulletinUpdate,
    Decision,
    MediaSummary,
    OptionalNote,
    Schedule,
    SpeechRead,
    SubtitleRead,
)
from nguon.bulletins.service import BulletinService, BulletinView
from nguon.identity.access import Access, AnyPrincipal
from nguon.identity.principal import Principal
from nguon.identity.roles import Role
from nguon.kit.idempotency import IdempotencyKey, IdempotencyStore, fingerprint
from nguon.kit.schemas import pattern
from nguon.media.models import MediaObject
from nguon.speech.service import Spoken
from nguon.unit_of_work import Session

router = APIRouter(prefix="/api/v1/bulletins", tags=["bulletins"])

# Actions that only apply to a bulletin in some states.
WRONG_STATE: dict[int | str, dict[str, Any]] = {
    409: {"description": "The bulletin is not in a state this action applies to"}
}
AUTHORS = Access(Role.publisher, Role.editor, Role.commune_chair)
APPRAISERS = Access(Role.appraiser)
DECIDERS = Access(Role.editor, Role.commune_chair)
REVOKERS = Access(Role.editor, Role.admin, Role.commune_chair)

BulletinIdPath = Annotated[str, Path(pattern=ID_PATTERN, description="Bulletin id")]


def read_model(view: BulletinView) -> BulletinRead:
    bulletin = view.bulletin
    return BulletinRead(
        id=bulletin.id,
        status=bulletin.status,
        level=bulletin.level,
        revision=bulletin.revision,
        on_air_revision=bulletin.on_air_revision,
        origin_area=bulletin.origin_area_code,
        title=bulletin.title,
        kind=bulletin.kind,
        body=bulletin.body,
        language=bulletin.language,
        category=bulletin.category,
        priority=bulletin.priority,
        targets=bulletin.targets,
        media=bulletin.media,
        media_details=[_summary(media) for media in view.media],
        subtitles=[SubtitleRead.model_validate(choice) for choice in bulletin.subtitles],
        speech=[speech_read(spoken) for spoken in view.speech],
        sensitive=bulletin.sensitive,
        valid_from=bulletin.valid_from,
        valid_until=bulletin.valid_until,
        schedule=Schedule.model_validate(bulletin.schedule) if bulletin.schedule else None,
        contributor=bulletin.contributor,
        translation_of=bulletin.translation_of,
        exercise=bulletin.exercise,
        share_with_central=bulletin.share_with_central,
        outside_windows=bulletin.outside_windows,
        appraisal_requested=bulletin.appraisal_requested,
        created_by=bulletin.created_by,
        appraised_by=bulletin.appraised_by,
        decided_by=bulletin.decided_by,
        reason=bulletin.reason,
        created_at=bulletin.created_at,
        updated_at=bulletin.updated_at,
    )


def _summary(media: MediaObject) -> MediaSummary:
    return MediaSummary(
        id=media.id,
        kind=media.kind,
        content_type=media.content_type,
        sha256=media.sha256,
        size=media.size,
        duration_s=media.duration_s,
        width=media.width,
        height=media.height,
        url=f"/api/v1/media/{media.id}",
    )


def speech_read(spoken: Spoken) -> SpeechRead:
    return SpeechRead(
        language=spoken.speech.language,
        status=spoken.speech.status,
        detail=spoken.speech.detail,
        engine=spoken.speech.engine,
        voice=spoken.speech.voice,
        media=_summary(spoken.media) if spoken.media else None,
    )


async def _answer(service: BulletinService, request: Request, bulletin_id: str) -> BulletinRead:
    request.state.audit_target = f"bulletin:{bulletin_id}"
    bulletin = await service.repository.get(bulletin_id)
    assert bulletin is not None
    (view,) = await service.views([bulletin])
    return read_model(view)


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    summary="Create a draft bulletin",
    response_model=BulletinRead,
    responses={
        201: {"description": "Created (or, with a repeated Idempotency-Key, the first answer)"},
        **UNKNOWN_AREA,
    },
)
async def create_bulletin(
    body: BulletinCreate,
    session: Session,
    actor: Annotated[Principal, Depends(AUTHORS)],
    request: Request,
    idempotency_key: IdempotencyKey = None,
) -> BulletinRead | JSONResponse:
    store = IdempotencyStore(session, actor.label, idempotency_key, "POST /api/v1/bulletins")
    request_fingerprint = fingerprint(body.model_dump(mode="json"))
    if (replay := await store.replay(request_fingerprint)) is not None:
        return JSONResponse(replay.response, status_code=replay.status)
    service = BulletinService(session)
    bulletin = await service.create(actor, body)
    answer = await _answer(service, request, bulletin.id)
    await store.remember(
        request_fingerprint, status.HTTP_201_CREATED, answer.model_dump(mode="json")
    )
    return answer


@router.get("", summary="Bulletins you can see, newest first", responses=UNKNOWN_AREA)
async def list_bulletins(
    session: Session,
    actor: AnyPrincipal,
    status_: Annotated[BulletinStatus | None, Query(alias="status")] = None,
    kind: BulletinKind | None = None,
    priority: Priority | None = None,
    level: AreaLevel | None = None,
    area: Annotated[
        str | None,
        Query(
            pattern=pattern(r"^[A-Za-z0-9]{1,16}$", "1 to 16 letters or digits"),
            description="Origin within this area",
        ),
    ] = None,
    language: Annotated[str | None, Query(pattern=LANGUAGE_PATTERN)] = None,
    category: Category | None = None,
    q: Annotated[
        str | None,
        Query(max_length=200, description="Words in title or body, with or without diacritics"),
    ] = None,
    cursor: Annotated[
        str | None,
        Query(pattern=CURSOR_PATTERN, description="A `next_cursor` of an earlier page"),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> BulletinPage:
    area_path = (await AreaService(session).get_by_code(area)).path if area else None
    query = BulletinFilter(
        status=status_,
        kind=kind,
        priority=priority,
        level=level,
        area_path=area_path,
        language=language,
        category=category,
        text=q,
    )
    service = BulletinService(session)
    found = await service.search(actor, query, limit, cursor)
    items = [read_model(view) for view in await service.views(found)]
    next_cursor = encode_cursor(found[-1]) if len(found) == limit else None
    return BulletinPage(items=items, next_cursor=next_cursor)


@router.get("/{bulletin_id}", summary="One bulletin")
async def get_bulletin(
    bulletin_id: BulletinIdPath, session: Session, actor: AnyPrincipal
) -> BulletinRead:
    service = BulletinService(session)
    (view,) = await service.views([await service.get(actor, bulletin_id)])
    return read_model(view)


@router.patch(
    "/{bulletin_id}",
    summary="Edit a bulletin",
    responses=WRONG_STATE,
    description="A draft changes in place. Editing a rejected or an on-air bulletin starts a new "
    "revision that needs approval again; an on-air bulletin keeps playing its approved revision "
    "until then.",
)
async def update_bulletin(
    bulletin_id: BulletinIdPath,
    body: BulletinUpdate,
    session: Session,
    actor: Annotated[Principal, Depends(AUTHORS)],
    request: Request,
) -> BulletinRead:
    service = BulletinService(session)
    await service.update(actor, bulletin_id, body)
    return await _answer(service, request, bulletin_id)


@router.post("/{bulletin_id}/submit", summary="Send a draft for approval", responses=WRONG_STATE)
async def submit_bulletin(
    bulletin_id: BulletinIdPath,
    session: Session,
    actor: Annotated[Principal, Depends(AUTHORS)],
    request: Request,
) -> BulletinRead:
    service = BulletinService(session, request.app.state.speech)
    await service.submit(actor, bulletin_id)
    return await _answer(service, request, bulletin_id)


@router.post(
    "/{bulletin_id}/appraise",
    summary="Appraise a submitted bulletin (thẩm định)",
    responses=WRONG_STATE,
)
async def appraise_bulletin(
    bulletin_id: BulletinIdPath,
    session: Session,
    actor: Annotated[Principal, Depends(APPRAISERS)],
    request: Request,
    body: OptionalNote | None = None,
) -> BulletinRead:
    service = BulletinService(session)
    await service.appraise(actor, bulletin_id, body.reason if body else None)
    return await _answer(service, request, bulletin_id)


@router.post(
    "/{bulletin_id}/request-appraisal",
    summary="Send a submitted bulletin to appraisal: approval then waits for it",
    responses=WRONG_STATE,
    description="Any bulletin may need an appraiser's eyes, not only those marked sensitive "
    "or reaching a border-gate display (Lai Châu 001 Điều 10.1a). A new revision starts "
    "without the request.",
)
async def request_appraisal(
    bulletin_id: BulletinIdPath,
    session: Session,
    actor: Annotated[Principal, Depends(DECIDERS)],
    request: Request,
) -> BulletinRead:
    service = BulletinService(session)
    await service.request_appraisal(actor, bulletin_id)
    return await _answer(service, request, bulletin_id)


@router.post(
    "/{bulletin_id}/approve",
    summary="Approve: published now, or scheduled until valid_from",
    responses=WRONG_STATE,
    description="Sensitive bulletins, those reaching a border-gate display (Lai Châu 001 "
    "Điều 10.1a) and those an editor sent to appraisal must be appraised first. A commune "
    "chair approves the commune's own bulletins.",
)
async def approve_bulletin(
    bulletin_id: BulletinIdPath,
    session: Session,
    actor: Annotated[Principal, Depends(DECIDERS)],
    request: Request,
) -> BulletinRead:
    service = BulletinService(session, request.app.state.speech)
    await service.approve(actor, bulletin_id, request.app.state.settings)
    return await _answer(service, request, bulletin_id)


@router.post("/{bulletin_id}/reject", summary="Reject, with a reason", responses=WRONG_STATE)
async def reject_bulletin(
    bulletin_id: BulletinIdPath,
    body: Decision,
    session: Session,
    actor: Annotated[Principal, Depends(DECIDERS)],
    request: Request,
) -> BulletinRead:
    service = BulletinService(session)
    await service.reject(actor, bulletin_id, body.reason)
    return await _answer(service, request, bulletin_id)


@router.post(
    "/{bulletin_id}/revoke",
    summary="Take an on-air bulletin off air, with a reason",
    responses=WRONG_STATE,
)
async def revoke_bulletin(
    bulletin_id: BulletinIdPath,
    body: Decision,
    session: Session,
    actor: Annotated[Principal, Depends(REVOKERS)],
    request: Request,
) -> BulletinRead:
    service = BulletinService(session)
    await service.revoke(actor, bulletin_id, body.reason)
    return await _answer(service, request, bulletin_id)


@router.post(
    "/{bulletin_id}/speech",
    summary="Make the bulletin's speech again",
    responses={409: {"description": "The bulletin has no body to read, or its own recording"}},
    description="Reads the working revision aloud again (the title, then the body) with the "
    "configured speech engine, e.g. after the speech service was away; when that revision is "
    "on air, radios get the speech once it is ready.",
)
async def make_speech(
    bulletin_id: BulletinIdPath,
    session: Session,
    actor: Annotated[Principal, Depends(AUTHORS)],
    request: Request,
) -> BulletinRead:
    service = BulletinService(session, request.app.state.speech)
    await service.speak_again(actor, bulletin_id)
    return await _answer(service, request, bulletin_id)
