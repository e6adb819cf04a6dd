"""Review pages: the queue of bulletins waiting for a decision or an appraisal, a bulletin with
its media, history, deliveries and the actions the person may take, and the emergencies on air.

Each page takes the same `Access` object and calls the same service as its API route; which
buttons a page offers follows those guards and the service's own states and scope.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Form, Request
from pydantic import Field
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.responses import RedirectResponse, Response

from nguon.bulletins.content import subtitle_files
from nguon.bulletins.endpoints import (
    APPRAISERS,
    DECIDERS,
    REVOKERS,
    BulletinIdPath,
    read_model,
    speech_read,
)
from nguon.bulletins.models import Bulletin
from nguon.bulletins.schemas import REASON_MAX_LENGTH, BulletinRead, Decision, OptionalNote
from nguon.bulletins.service import APPRAISABLE, DECIDABLE, BulletinService, decides, in_reach
from nguon.console.endpoints import CONSOLE, keep_on_refusal
from nguon.console.forms import validated
from nguon.console.session import ConsoleAccess
from nguon.console.web import render
from nguon.dispatch.channels import Content, endpoint_kinds_reached, played_by
from nguon.dispatch.endpoints import OVERSEERS as DELIVERY_OVERSEERS
from nguon.dispatch.endpoints import DeliveryPage, delivery_page
from nguon.emergencies.endpoints import OVERSEERS as EMERGENCY_OVERSEERS
from nguon.emergencies.service import EmergencyService
from nguon.endpoints.windows import EndpointKind
from nguon.identity.access import ANY_ROLE
from nguon.identity.principal import Principal
from nguon.kit.db import utcnow
from nguon.kit.schemas import FormModel
from nguon.media.kinds import MediaKind
from nguon.media.models import MediaObject
from nguon.media.repository import MediaRepository
from nguon.speech.service import working_speech
from nguon.unit_of_work import Session

router = APIRouter(prefix=CONSOLE, include_in_schema=False)

QUEUE_SHOWN = 200
# Unconfirmed endpoints listed by name under each emergency; the rest are counted.
STRAGGLERS_LISTED = 50

Reader = Annotated[Principal, Depends(ConsoleAccess(ANY_ROLE))]
Appraiser = Annotated[Principal, Depends(ConsoleAccess(APPRAISERS))]
Decider = Annotated[Principal, Depends(ConsoleAccess(DECIDERS))]
Revoker = Annotated[Principal, Depends(ConsoleAccess(REVOKERS))]
Overseer = Annotated[Principal, Depends(ConsoleAccess(EMERGENCY_OVERSEERS))]


@dataclass(frozen=True, slots=True)
class ApprovedRevision:
    number: int
    approved_by: str
    approved_at: datetime


@dataclass(frozen=True, slots=True)
class ChannelPart:
    """One thing a channel gets of the bulletin: a message id of the catalogue and its
    values."""

    words: str
    values: dict[str, str]


@dataclass(frozen=True, slots=True)
class Channel:
    kind: EndpointKind
    parts: list[ChannelPart]


def channels_of(bulletin: Bulletin, media: Sequence[MediaObject]) -> list[Channel]:
    """What each kind of endpoint gets of the bulletin, by the rules dispatch plays it by."""
    content = Content.of(bulletin.body, (item.kind for item in media))
    reached = endpoint_kinds_reached(content)
    videos = [item.id for item in media if item.kind is MediaKind.video]
    channels = []
    for kind in EndpointKind:
        if kind not in reached:
            continue
        played = played_by(kind, content)
        parts = []
        if played.body and bulletin.body:
            parts.append(
                ChannelPart(
                    "the text, read aloud" if kind is EndpointKind.radio else "the text", {}
                )
            )
        for item in media:
            if item.kind not in played.media_kinds:
                continue
            name = {"name": item.original_name or item.id}
            if item.kind is not MediaKind.video:
                parts.append(ChannelPart(f"{item.kind.value} %(name)s", name))
                continue
            languages = [
                choice["language"] for choice in subtitle_files(bulletin.subtitles, item.id, videos)
            ] + [track.language or "?" for track in item.subtitle_tracks]
            parts.append(
                ChannelPart(
                    "video %(name)s with subtitles in %(languages)s",
                    {**name, "languages": ", ".join(languages)},
                )
                if languages
                else ChannelPart("video %(name)s without subtitles", name)
            )
        channels.append(Channel(kind, parts))
    return channels


@dataclass(frozen=True, slots=True)
class Actions:
    """The buttons a person gets on a bulletin: their role's guard admits the action, the
    bulletin is in a state it applies to, and it lies in their scope."""

    appraise: bool
    decide: bool
    revoke: bool
    request_appraisal: bool = False

    @classmethod
    def of(
        cls, actor: Principal, bulletin: BulletinRead, in_scope: bool, decider: bool
    ) -> "Actions":
        return cls(
            appraise=APPRAISERS.admits(actor.effective_role)
            and bulletin.status in APPRAISABLE
            and in_scope,
            decide=DECIDERS.admits(actor.effective_role)
            and bulletin.status in DECIDABLE
            and decider,
            revoke=REVOKERS.admits(actor.effective_role)
            and bulletin.on_air_revision is not None
            and decider,
            request_appraisal=DECIDERS.admits(actor.effective_role)
            and bulletin.status in APPRAISABLE
            and not bulletin.appraisal_requested
            and decider,
        )


class ReasonFields(FormModel):
    reason: Annotated[str, Field(max_length=REASON_MAX_LENGTH)] = ""


def reviews(actor: Principal) -> bool:
    """Whoever decides or appraises has something in the review queue."""
    return DECIDERS.admits(actor.effective_role) or APPRAISERS.admits(actor.effective_role)


def _page_of(bulletin_id: str) -> str:
    return f"{CONSOLE}/bulletins/{bulletin_id}"


async def bulletin_page(
    session: AsyncSession, actor: Principal, bulletin_id: str
) -> dict[str, Any]:
    """What the bulletin page shows, as plain values: a refused action shows it again after
    its transaction has been rolled back."""
    service = BulletinService(session)
    stored = await service.get(actor, bulletin_id)
    (view,) = await service.views([stored])
    revisions = [
        ApprovedRevision(r.number, r.approved_by, r.approved_at)
        for r in await service.repository.revisions([stored.id])
    ]
    bulletin = read_model(view)
    media = await MediaRepository(session).many(stored.media, renditions=True)
    carried = [media[media_id] for media_id in stored.media if media_id in media]
    deliveries: DeliveryPage | None = None
    if DELIVERY_OVERSEERS.admits(actor.effective_role):
        deliveries = await delivery_page(session, actor, bulletin_id)
    return {
        "bulletin": bulletin,
        "revisions": revisions,
        "channels": channels_of(stored, carried),
        "deliveries": deliveries,
        "actions": Actions.of(actor, bulletin, in_reach(actor, stored), decides(actor, stored)),
        "appraisal": await service.appraisal_reasons(stored),
        "reviewer": reviews(actor),
        "overseer": EMERGENCY_OVERSEERS.admits(actor.effective_role),
        "refused": None,
        "typed": "",
    }


async def _ready_to_act(
    request: Request,
    session: AsyncSession,
    actor: Principal,
    bulletin_id: str,
    action: str,
    typed: str = "",
) -> None:
    """Prepare the page that shows a refusal of `action` beside what the person typed."""
    request.state.audit_target = f"bulletin:{bulletin_id}"
    page = await bulletin_page(session, actor, bulletin_id)
    keep_on_refusal(request, "bulletin.html", {**page, "refused": action, "typed": typed})


def _back_to(bulletin_id: str) -> Response:
    return RedirectResponse(_page_of(bulletin_id), status_code=303)


@router.get("/review")
async def review_queue(request: Request, session: Session, actor: Reader) -> Response:
    """Guarded as the API's list of bulletins is: each section is for the role that acts on it."""
    service = BulletinService(session)
    to_decide = (
        await service.to_decide(actor, QUEUE_SHOWN)
        if DECIDERS.admits(actor.effective_role)
        else None
    )
    to_appraise = (
        await service.to_appraise(actor, QUEUE_SHOWN)
        if APPRAISERS.admits(actor.effective_role)
        else None
    )
    waiting = [*(to_decide or []), *(to_appraise or [])]
    spoken = await working_speech(session, waiting)
    speech = {key: [speech_read(s) for s in found] for key, found in spoken.items()}
    # Why each must be appraised first (Lai Châu 001 Điều 10.1a; an editor's request).
    appraisal = {bulletin.id: await service.appraisal_reasons(bulletin) for bulletin in waiting}
    return render(
        request,
        "review_queue.html",
        {
            "to_decide": to_decide,
            "to_appraise": to_appraise,
            "speech": speech,
            "appraisal": appraisal,
        },
    )


@router.get("/bulletins/{bulletin_id}")
async def show_bulletin(
    request: Request, bulletin_id: BulletinIdPath, session: Session, actor: Reader
) -> Response:
    return render(request, "bulletin.html", await bulletin_page(session, actor, bulletin_id))


@router.post("/bulletins/{bulletin_id}/appraise")
async def appraise(
    request: Request,
    bulletin_id: BulletinIdPath,
    session: Session,
    actor: Appraiser,
    fields: Annotated[ReasonFields, Form()],
) -> Response:
    await _ready_to_act(request, session, actor, bulletin_id, "appraise", fields.reason)
    note = validated(OptionalNote, {"reason": fields.reason or None})
    await BulletinService(session).appraise(actor, bulletin_id, note.reason)
    return _back_to(bulletin_id)


@router.post("/bulletins/{bulletin_id}/approve")
async def approve(
    request: Request, bulletin_id: BulletinIdPath, session: Session, actor: Decider
) -> Response:
    await _ready_to_act(request, session, actor, bulletin_id, "approve")
    await BulletinService(session, request.app.state.speech).approve(
        actor, bulletin_id, request.app.state.settings
    )
    return _back_to(bulletin_id)


@router.post("/bulletins/{bulletin_id}/request-appraisal")
async def request_appraisal(
    request: Request, bulletin_id: BulletinIdPath, session: Session, actor: Decider
) -> Response:
    await _ready_to_act(request, session, actor, bulletin_id, "request-appraisal")
    await BulletinService(session).request_appraisal(actor, bulletin_id)
    return _back_to(bulletin_id)


async def _with_reason(
    request: Request,
    session: AsyncSession,
    actor: Principal,
    bulletin_id: str,
    action: Literal["reject", "revoke"],
    reason: str,
) -> Response:
    await _ready_to_act(request, session, actor, bulletin_id, action, reason)
    decision = validated(Decision, {"reason": reason})
    service = BulletinService(session)
    decide = service.reject if action == "reject" else service.revoke
    await decide(actor, bulletin_id, decision.reason)
    return _back_to(bulletin_id)


@router.post("/bulletins/{bulletin_id}/reject")
async def reject(
    request: Request,
    bulletin_id: BulletinIdPath,
    session: Session,
    actor: Decider,
    fields: Annotated[ReasonFields, Form()],
) -> Response:
    return await _with_reason(request, session, actor, bulletin_id, "reject", fields.reason)


@router.post("/bulletins/{bulletin_id}/revoke")
async def revoke(
    request: Request,
    bulletin_id: BulletinIdPath,
    session: Session,
    actor: Revoker,
    fields: Annotated[ReasonFields, Form()],
) -> Response:
    return await _with_reason(request, session, actor, bulletin_id, "revoke", fields.reason)


async def _live(request: Request, session: AsyncSession, actor: Principal) -> dict[str, Any]:
    service = EmergencyService(session, request.app.state.settings)
    now = utcnow()
    return {"emergencies": await service.live(actor, STRAGGLERS_LISTED, now), "now": now}


@router.get("/emergencies")
async def emergencies(request: Request, session: Session, actor: Overseer) -> Response:
    return render(request, "emergencies.html", await _live(request, session, actor))


@router.get("/emergencies/status")
async def emergency_status(request: Request, session: Session, actor: Overseer) -> Response:
    return render(request, "emergency_status.html", await _live(request, session, actor))
