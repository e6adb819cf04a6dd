"""The publisher's pages: the bulletins one can see, composing a draft, editing it with its
media, and sending it for approval.

Every page calls the service its API route calls, and the form becomes the API's own request
model, so a form is held to exactly the rules of a JSON body.
"""

import re
from collections.abc import AsyncIterator, Collection, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any, Literal, TypeVar

from fastapi import APIRouter, Depends, Form, Path, Query, Request
from pydantic import Field, ValidationError
from starlette.datastructures import UploadFile
from starlette.responses import RedirectResponse, Response

from nguon.areas.levels import AreaLevel
from nguon.areas.service import AreaService
from nguon.bulletins.endpoints import AUTHORS
from nguon.bulletins.enums import BulletinKind, BulletinStatus, Category, Priority
from nguon.bulletins.models import Bulletin
from nguon.bulletins.repository import CURSOR_PATTERN, BulletinFilter, encode_cursor
from nguon.bulletins.schemas import ID_PATTERN, BulletinCreate, BulletinUpdate, Weekday
from nguon.bulletins.service import EDITABLE_AS_REVISION, EDITABLE_IN_PLACE, BulletinService
from nguon.console.endpoints import CONSOLE, keep_on_refusal
from nguon.console.session import CSRF_HEADER, ConsoleAccess
from nguon.console.translations import Language, translations
from nguon.console.web import HUB_TIME_ZONE, render, request_language
from nguon.identity.principal import Principal
from nguon.identity.roles import Role
from nguon.kit.errors import InvalidInput
from nguon.kit.multipart import FileUpload
from nguon.kit.problems import in_words
from nguon.kit.schemas import FormModel, RequestModel
from nguon.media.endpoints import UPLOADERS, Media
from nguon.media.kinds import MediaKind
from nguon.media.models import MediaObject
from nguon.media.service import COPY_CHUNK
from nguon.unit_of_work import Session

router = APIRouter(prefix=CONSOLE, include_in_schema=False)

Author = Annotated[Principal, Depends(ConsoleAccess(AUTHORS))]
Uploader = Annotated[Principal, Depends(ConsoleAccess(UPLOADERS))]
BulletinIdPath = Annotated[str, Path(pattern=ID_PATTERN)]
MediaIds = Annotated[list[Annotated[str, Field(pattern=ID_PATTERN)]], Query(max_length=20)]

PAGE_SIZE = 50
EDITABLE = EDITABLE_IN_PLACE | EDITABLE_AS_REVISION
ID = re.compile(ID_PATTERN)
# What the person typed into a datetime-local field, or by hand where the browser has none.
LOCAL_LAYOUTS = ("%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%d/%m/%Y %H:%M")
# The form's label of each field of the API's request model, to say which one is refused.
FIELD_LABELS = {
    "title": "Title",
    "kind": "Kind",
    "body": "Text",
    "language": "Language",
    "category": "Category",
    "priority": "Priority",
    "targets": "Targets",
    "media": "Media",
    "subtitles": "Subtitles",
    "valid_from": "Valid from",
    "valid_until": "Valid until",
    "schedule": "Schedule",
    "contributor": "Contributor",
    "translation_of": "Translation of",
}

Model = TypeVar("Model", bound=RequestModel)
Codes = list[Annotated[str, Field(max_length=64)]]


class BulletinForm(FormModel):
    """The compose and edit form as typed: text fields are kept as they came, so that a
    refusal can show them again; the API's model says what they must be."""

    title: Annotated[str, Field(max_length=1_000)] = ""
    kind: Annotated[str, Field(max_length=32)] = BulletinKind.text.value
    category: Annotated[str, Field(max_length=64)] = ""
    priority: Annotated[str, Field(max_length=32)] = Priority.normal.value
    language: Annotated[str, Field(max_length=64)] = "vi"
    body: Annotated[str, Field(max_length=40_000)] = ""
    targets: Codes = Field(default_factory=list, max_length=1_000)
    endpoint_targets: Annotated[str, Field(max_length=20_000)] = ""
    media: Codes = Field(default_factory=list, max_length=20)
    # One row per subtitle file: its id, language and video (empty: the only video) side by
    # side, each row always sent; `subtitle_dropped` names the rows left out.
    subtitle_media: Codes = Field(default_factory=list, max_length=20)
    subtitle_language: Codes = Field(default_factory=list, max_length=20)
    subtitle_video: Codes = Field(default_factory=list, max_length=20)
    subtitle_dropped: Codes = Field(default_factory=list, max_length=20)
    sensitive: bool = False
    share_with_central: bool = False
    # Editors only (002 Điều 10.2): the form carries the box, and says it did, only for them,
    # so that another author's edit keeps what an editor set.
    outside_windows: bool = False
    outside_windows_offered: bool = False
    valid_from: Annotated[str, Field(max_length=32)] = ""
    valid_until: Annotated[str, Field(max_length=32)] = ""
    contributor: Annotated[str, Field(max_length=1_000)] = ""
    translation_of: Annotated[str, Field(max_length=64)] = ""
    schedule_type: Annotated[str, Field(max_length=16)] = ""
    schedule_at: Annotated[str, Field(max_length=32)] = ""
    schedule_times: Annotated[str, Field(max_length=1_000)] = ""
    schedule_weekdays: Codes = Field(default_factory=list, max_length=7)
    schedule_repeat: Annotated[str, Field(max_length=8)] = "1"
    schedule_gap: Annotated[str, Field(max_length=8)] = "0"
    send_for_approval: bool = False  # the edit form's `Gửi duyệt` button


# --- from the form to the API's model, and back ------------------------------------------


def local_input(moment: datetime | None) -> str:
    """An instant as a datetime-local field shows it, on the province's clock."""
    if moment is None:
        return ""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(HUB_TIME_ZONE).strftime("%Y-%m-%dT%H:%M")


def _refused(field: str, words: str, language: Language) -> InvalidInput:
    """A refusal of one field, named by its label on the form (its words are translated with
    the rest of the detail, from the catalogue)."""
    label = translations(language).gettext(FIELD_LABELS[field]) if field in FIELD_LABELS else field
    return InvalidInput(f"{label}: {words}")


def _instant(typed: str, field: str, language: Language) -> datetime | None:
    """A local time as typed, as the UTC instant the service takes; none when left empty."""
    text = typed.strip()
    if not text:
        return None
    for layout in LOCAL_LAYOUTS:
        try:
            local = datetime.strptime(text, layout)
        except ValueError:
            continue
        return local.replace(tzinfo=HUB_TIME_ZONE).astimezone(UTC)
    raise _refused(field, "must be a date and time such as 25/12/2026 07:30", language)


def _schedule(form: BulletinForm, language: Language) -> dict[str, Any] | None:
    if not form.schedule_type:
        return None
    once = form.schedule_type == "once"
    return {
        "type": form.schedule_type,
        "at": _instant(form.schedule_at, "schedule", language) if once else None,
        "times": [] if once else form.schedule_times.replace(",", " ").split(),
        "weekdays": form.schedule_weekdays if form.schedule_type == "weekdays" else [],
        "repeat": form.schedule_repeat or "1",
        "gap_minutes": form.schedule_gap or "0",
    }


def _content(form: BulletinForm, language: Language) -> dict[str, Any]:
    """The form as the fields of the API's request body."""
    chosen_by_editor = (
        {"outside_windows": form.outside_windows} if form.outside_windows_offered else {}
    )
    return {
        **chosen_by_editor,
        "title": form.title,
        "kind": form.kind,
        "body": form.body.strip() or None,
        "language": form.language,
        "category": form.category,
        "priority": form.priority,
        "targets": [*form.targets, *form.endpoint_targets.replace(",", " ").split()],
        "media": form.media,
        "subtitles": [
            {"media": media_id, "language": language, "video": video or None}
            for media_id, language, video in zip(
                form.subtitle_media, form.subtitle_language, form.subtitle_video, strict=False
            )
            if media_id not in form.subtitle_dropped
        ],
        "sensitive": form.sensitive,
        "share_with_central": form.share_with_central,
        "valid_from": _instant(form.valid_from, "valid_from", language),
        "valid_until": _instant(form.valid_until, "valid_until", language),
        "schedule": _schedule(form, language),
        "contributor": form.contributor.strip() or None,
        "translation_of": form.translation_of.strip() or None,
    }


def _validated(
    model: type[Model],
    form: BulletinForm,
    request: Request,
    kept_when_empty: Collection[str] = (),
) -> Model:
    """The API's model of the form, or a refusal naming the first field it finds wrong.
    Fields in `kept_when_empty` are left out when the form has nothing in them, as a PATCH
    that keeps their stored values."""
    language = request_language(request)
    values = {
        name: value
        for name, value in _content(form, language).items()
        if value is not None or name not in kept_when_empty
    }
    try:
        return model.model_validate(values)
    except ValidationError as error:
        first = error.errors()[0]
        field = str(first["loc"][0]) if first["loc"] else ""
        raise _refused(field, in_words(first, {}), language) from error


def _form_of(bulletin: Bulletin, area_codes: set[str]) -> BulletinForm:
    schedule: dict[str, Any] = bulletin.schedule or {}
    at = schedule.get("at")
    return BulletinForm(
        title=bulletin.title,
        kind=bulletin.kind.value,
        category=bulletin.category.value,
        priority=bulletin.priority.value,
        language=bulletin.language,
        body=bulletin.body or "",
        targets=[code for code in bulletin.targets if code in area_codes],
        endpoint_targets=" ".join(code for code in bulletin.targets if code not in area_codes),
        media=list(bulletin.media),
        subtitle_media=[choice["media"] for choice in bulletin.subtitles],
        subtitle_language=[choice["language"] for choice in bulletin.subtitles],
        subtitle_video=[choice.get("video") or "" for choice in bulletin.subtitles],
        sensitive=bulletin.sensitive,
        share_with_central=bulletin.share_with_central,
        outside_windows=bulletin.outside_windows,
        valid_from=local_input(bulletin.valid_from),
        valid_until=local_input(bulletin.valid_until),
        contributor=bulletin.contributor or "",
        translation_of=bulletin.translation_of or "",
        schedule_type=schedule.get("type", ""),
        schedule_at=local_input(datetime.fromisoformat(at)) if at else "",
        schedule_times=" ".join(str(t)[:5] for t in schedule.get("times", [])),
        schedule_weekdays=list(schedule.get("weekdays", [])),
        schedule_repeat=str(schedule.get("repeat", 1)),
        schedule_gap=str(schedule.get("gap_minutes", 0)),
    )


# --- what the form offers ------------------------------------------------------------------


# A page shown again on refusal is rendered after the transaction is undone, when stored rows
# can no longer be read: what it shows of them is copied out first.


@dataclass(frozen=True, slots=True)
class Unit:
    code: str
    name: str


@dataclass(frozen=True, slots=True)
class MediaItem:
    id: str
    kind: MediaKind
    original_name: str | None
    size: int
    duration_s: float | None
    width: int | None
    height: int | None

    @classmethod
    def of(cls, media: MediaObject) -> "MediaItem":
        return cls(
            media.id,
            media.kind,
            media.original_name,
            media.size,
            media.duration_s,
            media.width,
            media.height,
        )


@dataclass(frozen=True, slots=True)
class SubtitleRow:
    """A subtitle file in the form, with the language and video chosen for it."""

    item: MediaItem
    language: str
    video: str  # empty: the bulletin's only video


@dataclass(frozen=True, slots=True)
class BulletinState:
    id: str
    status: BulletinStatus
    revision: int
    reason: str | None
    editable: bool  # in a state the service edits (the author's area is checked before)

    @classmethod
    def of(cls, bulletin: Bulletin) -> "BulletinState":
        return cls(
            bulletin.id,
            bulletin.status,
            bulletin.revision,
            bulletin.reason,
            bulletin.status in EDITABLE,
        )


async def _target_areas(session: Session, actor: Principal) -> dict[AreaLevel, list[Unit]]:
    """The units of the person's area, by level, for the targets list."""
    grouped: dict[AreaLevel, list[Unit]] = {}
    for area in await AreaService(session).subtree(actor.area.id):
        grouped.setdefault(area.level, []).append(Unit(area.code, area.name))
    return dict(sorted(grouped.items(), key=lambda item: item[0].rank))


async def _media_of(service: Media, actor: Principal, ids: Iterable[str]) -> list[MediaItem]:
    return [MediaItem.of(await service.get(actor, media_id)) for media_id in dict.fromkeys(ids)]


async def _form_context(
    session: Session,
    media_service: Media,
    actor: Principal,
    form: BulletinForm,
    **more: Any,
) -> dict[str, Any]:
    areas = await _target_areas(session, actor)
    found = {
        item.id: item
        for item in await _media_of(media_service, actor, [*form.media, *form.subtitle_media])
    }
    media_items = [
        found[i] for i in dict.fromkeys(form.media) if found[i].kind is not MediaKind.subtitle
    ]
    chosen = {
        media_id: (language, video)
        for media_id, language, video in zip(
            form.subtitle_media, form.subtitle_language, form.subtitle_video, strict=False
        )
    }
    # A subtitle file just uploaded arrives among the media: it gets a row of its own.
    uploaded = [i for i in form.media if found[i].kind is MediaKind.subtitle]
    return {
        "form": form,
        "areas": areas,
        "media_items": media_items,
        "videos": [item for item in media_items if item.kind is MediaKind.video],
        "subtitle_rows": [
            SubtitleRow(found[i], *chosen.get(i, (form.language, "")))
            for i in dict.fromkeys([*form.subtitle_media, *uploaded])
            if i not in form.subtitle_dropped
        ],
        "kinds": list(BulletinKind),
        "priorities": list(Priority),
        "categories": list(Category),
        "weekdays": list(Weekday),
        "can_upload": UPLOADERS.admits(actor.effective_role),
        "province_level": actor.area.level is AreaLevel.province,
        "editor": actor.effective_role is Role.editor,
        **more,
    }


# --- pages ---------------------------------------------------------------------------------


@router.get("/bulletins")
async def bulletins_page(
    request: Request,
    session: Session,
    actor: Author,
    status: Annotated[BulletinStatus | Literal[""], Query()] = "",
    cursor: Annotated[str | None, Query(pattern=CURSOR_PATTERN)] = None,
) -> Response:
    service = BulletinService(session)
    query = BulletinFilter(status=status or None)
    found = await service.search(actor, query, PAGE_SIZE, cursor)
    return render(
        request,
        "bulletins.html",
        {
            "bulletins": found,
            "statuses": list(BulletinStatus),
            "status": status,
            "next_cursor": encode_cursor(found[-1]) if len(found) == PAGE_SIZE else None,
            "editable": {
                bulletin.id
                for bulletin in found
                if bulletin.status in EDITABLE and actor.area.contains(bulletin.origin_area_path)
            },
        },
    )


@router.get("/bulletins/new")
async def compose_page(
    request: Request,
    session: Session,
    media_service: Media,
    actor: Author,
    media: MediaIds = [],  # noqa: B006 - FastAPI copies a default list for each request
    translation_of: Annotated[str, Query(max_length=64)] = "",
) -> Response:
    """The compose form; `translation_of` starts a language version of a bulletin."""
    form = BulletinForm(media=media, translation_of=translation_of)
    context = await _form_context(session, media_service, actor, form)
    return render(request, "compose.html", context)


@router.post("/bulletins/new")
async def compose(
    request: Request,
    session: Session,
    media_service: Media,
    actor: Author,
    form: Annotated[BulletinForm, Form()],
) -> Response:
    keep_on_refusal(
        request,
        "compose.html",
        await _form_context(session, media_service, actor, form),
    )
    fields = _validated(BulletinCreate, form, request)
    bulletin = await BulletinService(session).create(actor, fields)
    request.state.audit_target = f"bulletin:{bulletin.id}"
    return RedirectResponse(f"{CONSOLE}/bulletins/{bulletin.id}/edit", status_code=303)


async def _stored_form(session: Session, actor: Principal, bulletin: Bulletin) -> BulletinForm:
    areas = await _target_areas(session, actor)
    return _form_of(bulletin, {area.code for units in areas.values() for area in units})


@router.get("/bulletins/{bulletin_id}/edit")
async def edit_page(
    request: Request,
    bulletin_id: BulletinIdPath,
    session: Session,
    media_service: Media,
    actor: Author,
    media: MediaIds = [],  # noqa: B006 - FastAPI copies a default list for each request
    saved: bool = False,
) -> Response:
    bulletin = await BulletinService(session).for_author(actor, bulletin_id)
    form = await _stored_form(session, actor, bulletin)
    form.media = [*form.media, *media]
    context = await _form_context(
        session,
        media_service,
        actor,
        form,
        bulletin=BulletinState.of(bulletin),
        saved=saved,
    )
    return render(request, "edit.html", context)


@router.post("/bulletins/{bulletin_id}/edit")
async def edit(
    request: Request,
    bulletin_id: BulletinIdPath,
    session: Session,
    media_service: Media,
    actor: Author,
    form: Annotated[BulletinForm, Form()],
) -> Response:
    """Keep what the form says of the bulletin, as PATCH does: every field of the form is
    sent; a validity left empty keeps the one stored. `Gửi duyệt` then sends it for approval
    as it now stands: a rejected bulletin must be edited into a new draft before it can go
    again, and a file just uploaded goes with it."""
    service = BulletinService(session, request.app.state.speech)
    bulletin = await service.for_author(actor, bulletin_id)
    keep_on_refusal(
        request,
        "edit.html",
        await _form_context(
            session, media_service, actor, form, bulletin=BulletinState.of(bulletin)
        ),
    )
    changes = _validated(BulletinUpdate, form, request, ("valid_from", "valid_until"))
    await service.update(actor, bulletin_id, changes)
    request.state.audit_target = f"bulletin:{bulletin_id}"
    if not form.send_for_approval:
        return RedirectResponse(
            f"{CONSOLE}/bulletins/{bulletin_id}/edit?saved=true", status_code=303
        )
    await service.submit(actor, bulletin_id)
    return RedirectResponse(f"{CONSOLE}/bulletins/{bulletin_id}", status_code=303)


# --- uploads -------------------------------------------------------------------------------


async def _chunks_of(file: UploadFile) -> AsyncIterator[bytes]:
    while chunk := await file.read(COPY_CHUNK):
        yield chunk


@router.post("/media")
async def upload(request: Request, media_service: Media, actor: Uploader) -> Response:
    """A file for a bulletin, stored as POST /api/v1/media stores it.

    The page's script sends the CSRF token in a header and the file as the API takes it, one
    multipart field streamed on to storage, and puts the answer, a media item, in the form.
    Without the script the browser posts the whole form, which the CSRF check has read; the
    answer then leads back to the page with the file in its list."""
    scripted = CSRF_HEADER in request.headers
    if scripted:
        keep_on_refusal(request, "media_refusal.html", {})
        streamed = FileUpload(request, "file")
        await streamed.start()
        chunks, filename = streamed.chunks(), streamed.filename
        back, listed = "", []
    else:
        typed = await request.form()
        file = typed.get("file")
        if not isinstance(file, UploadFile) or not file.filename:
            raise InvalidInput("Choose a file to upload.")
        chunks, filename = _chunks_of(file), file.filename
        bulletin = str(typed.get("bulletin", ""))
        back = f"/bulletins/{bulletin}/edit" if ID.match(bulletin) else "/bulletins/new"
        listed = [str(item) for item in typed.getlist("media") if ID.match(str(item))]
    ingested = await media_service.ingest(actor, chunks, filename)
    request.state.audit_target = f"media:{ingested.media.id}"
    if scripted:
        status = 201 if ingested.created else 200
        return render(request, "media_item.html", {"item": MediaItem.of(ingested.media)}, status)
    query = "&".join(f"media={media_id}" for media_id in [*listed, ingested.media.id])
    return RedirectResponse(f"{CONSOLE}{back}?{query}", status_code=303)
