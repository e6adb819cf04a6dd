"""The commune chair's pages: the radio's queue in the regulation's order, the programme of
normal items on a day of the radio's windows, and what each endpoint plays at a moment.

Each page calls the services of the API routes it stands beside (`nguon.communes.endpoints`,
and the playlist preview of `nguon.dispatch.endpoints`), behind the same guards, so what a
page shows and refuses is what the API shows and refuses.
"""

from collections.abc import Sequence
from datetime import date, datetime
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Path, Query, Request
from pydantic import Field
from starlette.responses import RedirectResponse, Response

from nguon.areas.levels import AreaLevel
from nguon.bulletins.enums import Priority
from nguon.communes.endpoints import CHAIR, QUEUE_READERS
from nguon.communes.models import ProgrammeEntry
from nguon.communes.service import CommuneService, QueueItem, RadioDay
from nguon.console.endpoints import CONSOLE, keep_on_refusal
from nguon.console.session import ConsoleAccess
from nguon.console.web import HUB_TIME_ZONE, render
from nguon.dispatch.endpoints import PREVIEWERS
from nguon.dispatch.order import colliding, in_play_order
from nguon.dispatch.schemas import PlaylistRead
from nguon.dispatch.service import PlaylistService
from nguon.dispatch.slots import DAY
from nguon.identity.principal import Principal
from nguon.kit.db import utcnow
from nguon.kit.errors import InvalidInput
from nguon.kit.schemas import EARLIEST_INSTANT, LATEST_INSTANT, ROW_ID_MAX, FormModel
from nguon.unit_of_work import Session

router = APIRouter(prefix=CONSOLE, include_in_schema=False)

Reader = Annotated[Principal, Depends(ConsoleAccess(QUEUE_READERS))]
Chair = Annotated[Principal, Depends(ConsoleAccess(CHAIR))]
Previewer = Annotated[Principal, Depends(ConsoleAccess(PREVIEWERS))]
SECTIONS = ("emergency", "priority", "programme", "available")
# What <input type="datetime-local"> sends and shows, minutes only.
LOCAL_INPUT = "%Y-%m-%dT%H:%M"
Code = Annotated[str, Field(max_length=16)]
BulletinId = Annotated[str, Field(max_length=64)]
# Editors and administrators name the commune; a chair's page is the chair's own commune.
CodeQuery = Annotated[str, Query(max_length=16)]


def local_moment(typed: str) -> datetime:
    """A moment typed into a datetime-local control: a wall-clock time in the province."""
    try:
        moment = datetime.fromisoformat(typed)
    except ValueError:
        raise InvalidInput("Enter a date and a time.") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=HUB_TIME_ZONE)
    if not EARLIEST_INSTANT <= moment <= LATEST_INSTANT:
        raise InvalidInput("Enter a date and a time.")
    return moment


def local_day(typed: str) -> date:
    if not typed:
        return datetime.now(HUB_TIME_ZONE).date()
    try:
        return date.fromisoformat(typed)
    except ValueError:
        raise InvalidInput("Enter a day.") from None


def page_url(page: str, actor: Principal, code: str, **query: str) -> str:
    """A console page of the commune; the code is left out for the chair's own commune."""
    if code != actor.area.code:
        query = {"code": code, **query}
    return f"{CONSOLE}/{page}" + (f"?{urlencode(query)}" if query else "")


def choosing(request: Request, actor: Principal, code: str) -> Response | None:
    """Editors and administrators act over many communes: without a code their page asks
    which commune to show."""
    if code or actor.area.level is AreaLevel.commune:
        return None
    return render(request, "commune_choice.html", {"action": request.url.path})


def clock(moment: datetime) -> str:
    return moment.astimezone(HUB_TIME_ZONE).strftime("%H:%M")


# --- the queue ----------------------------------------------------------------------------


def queue_context(
    actor: Principal,
    code: str,
    items: list[QueueItem],
    draft: Sequence[str] | None = None,
    focus: str = "",
) -> dict[str, Any]:
    """The queue in sections; with a `draft`, the colliding priority items in the order the
    chair is setting, placed by the same rule as the saved order."""
    if draft is not None:
        items = in_play_order(items, {bulletin: place for place, bulletin in enumerate(draft)})
    movable = {item.bulletin_id for item in colliding(items)}
    return {
        "code": code,
        "sections": {name: [item for item in items if item.section == name] for name in SECTIONS},
        "movable": [item.bulletin_id for item in items if item.bulletin_id in movable],
        "may_decide": CHAIR.admits(actor.role),
        "draft": draft is not None,
        "focus": focus,
    }


def moved(order: Sequence[str], move: str) -> tuple[list[str], str]:
    """The order with one item a place up or down, and the button to keep the focus on: the
    one pressed, or its opposite once the item reaches an end."""
    direction, _, bulletin_id = move.partition(":")
    order = list(order)
    if bulletin_id not in order or direction not in {"up", "down"}:
        return order, ""
    place = order.index(bulletin_id)
    other = place - 1 if direction == "up" else place + 1
    if 0 <= other < len(order):
        order[place], order[other] = order[other], order[place]
        place = other
    if place == 0:
        return order, f"down:{bulletin_id}"
    if place == len(order) - 1:
        return order, f"up:{bulletin_id}"
    return order, move


@router.get("/commune")
async def commune_queue(
    request: Request,
    session: Session,
    actor: Reader,
    code: CodeQuery = "",
    order: Annotated[list[str] | None, Query(max_length=200)] = None,
    move: Annotated[str, Query(max_length=80)] = "",
) -> Response:
    """With `order` and `move`, the queue as a move of the chair's leaves it, not yet saved: a
    look, so a plain GET that neither changes nor audits anything."""
    if choice := choosing(request, actor, code):
        return choice
    commune = code or actor.area.code
    items = await CommuneService(session).radio_queue(actor, commune, utcnow())
    if not move:
        return render(request, "commune.html", queue_context(actor, commune, items))
    draft, focus = moved(order or [], move)
    return render(request, "commune.html", queue_context(actor, commune, items, draft, focus))


class OrderFields(FormModel):
    code: Code = ""
    bulletin_ids: Annotated[list[BulletinId], Field(default_factory=list, max_length=200)]


@router.post("/commune/order")
async def order_queue(
    request: Request,
    session: Session,
    actor: Chair,
    fields: Annotated[OrderFields, Form()],
) -> Response:
    """`Lưu thứ tự`: the order shown, saved as PUT .../queue/order saves it."""
    commune = fields.code or actor.area.code
    service = CommuneService(session)
    now = utcnow()
    items = await service.radio_queue(actor, commune, now)
    keep_on_refusal(
        request, "commune.html", queue_context(actor, commune, items, fields.bulletin_ids)
    )
    await service.order(actor, commune, fields.bulletin_ids, now)
    return RedirectResponse(page_url("commune", actor, commune), status_code=303)


# --- the programme ------------------------------------------------------------------------


def timeline(radio_day: RadioDay, titles: dict[str, str]) -> dict[str, Any]:
    """The day's windows, each with the entries inside it, placed on a 24-hour bar."""
    length = DAY.total_seconds()

    def entry(row: ProgrammeEntry) -> dict[str, Any]:
        return {
            "id": row.id,
            "slot": row.slot,
            "title": titles.get(row.bulletin_id, row.bulletin_id),
            "bulletin_id": row.bulletin_id,
        }

    windows = [
        {
            "opens": clock(span.start),
            "closes": clock(span.end),
            "left": round(max((span.start - radio_day.start).total_seconds(), 0) / length * 100, 2),
            "width": round(
                (min(span.end, radio_day.end) - max(span.start, radio_day.start)).total_seconds()
                / length
                * 100,
                2,
            ),
            "entries": [entry(row) for row in radio_day.entries if span.holds(row.slot)],
        }
        for span in radio_day.windows
    ]
    outside = [
        entry(row)
        for row in radio_day.entries
        if not any(span.holds(row.slot) for span in radio_day.windows)
    ]
    return {"windows": windows, "outside": outside}


async def programme_context(
    service: CommuneService,
    actor: Principal,
    code: str,
    day: date,
    bulletin_id: str = "",
    slot: str = "",
    refused: str = "",
) -> dict[str, Any]:
    items = await service.radio_queue(actor, code, utcnow())
    radio_day = await service.radio_day(actor, code, day)
    if not slot and radio_day.windows:
        # The day's first window still to come, else its first: a time the chair can keep.
        now = utcnow()
        opening = next((w.start for w in radio_day.windows if w.start >= now), None)
        opening = opening or radio_day.windows[0].start
        slot = opening.astimezone(HUB_TIME_ZONE).strftime(LOCAL_INPUT)
    return {
        "code": code,
        "day": day,
        "day_shown": day.strftime("%d/%m/%Y"),
        "previous_day": page_url("programme", actor, code, day=(day - DAY).isoformat()),
        "next_day": page_url("programme", actor, code, day=(day + DAY).isoformat()),
        "offered": [item for item in items if item.priority is Priority.normal],
        "may_decide": CHAIR.admits(actor.role),
        "chosen_bulletin": bulletin_id,
        "chosen_slot": slot,
        "refused": refused,
        **timeline(radio_day, {item.bulletin_id: item.title for item in items}),
    }


@router.get("/programme")
async def programme_page(
    request: Request,
    session: Session,
    actor: Reader,
    day: Annotated[str, Query(max_length=32)] = "",
    code: CodeQuery = "",
    bulletin: Annotated[str, Query(max_length=64)] = "",
) -> Response:
    if choice := choosing(request, actor, code):
        return choice
    commune = code or actor.area.code
    context = await programme_context(
        CommuneService(session), actor, commune, local_day(day), bulletin
    )
    return render(request, "programme.html", context)


class ProgrammeFields(FormModel):
    code: Code = ""
    day: Annotated[str, Field(max_length=32)] = ""
    bulletin_id: BulletinId = ""
    slot: Annotated[str, Field(max_length=32)] = ""


@router.post("/programme")
async def add_to_programme(
    request: Request,
    session: Session,
    actor: Chair,
    fields: Annotated[ProgrammeFields, Form()],
) -> Response:
    """`Thêm vào chương trình`: as POST .../programme, with one bulletin at one time."""
    commune = fields.code or actor.area.code
    service = CommuneService(session)
    context = await programme_context(
        service, actor, commune, local_day(fields.day), fields.bulletin_id, fields.slot, "add"
    )
    keep_on_refusal(request, "programme.html", context)
    if not fields.bulletin_id:
        raise InvalidInput("Choose a bulletin.")
    slot = local_moment(fields.slot)
    await service.schedule(actor, commune, [(fields.bulletin_id, slot)], utcnow())
    day = slot.astimezone(HUB_TIME_ZONE).date().isoformat()
    return RedirectResponse(page_url("programme", actor, commune, day=day), status_code=303)


class RemovalFields(FormModel):
    code: Code = ""
    day: Annotated[str, Field(max_length=32)] = ""


@router.post("/programme/{entry_id}/remove")
async def remove_from_programme(
    request: Request,
    session: Session,
    actor: Chair,
    entry_id: Annotated[int, Path(ge=1, le=ROW_ID_MAX)],
    fields: Annotated[RemovalFields, Form()],
) -> Response:
    """As DELETE .../programme/{entry_id}."""
    commune = fields.code or actor.area.code
    service = CommuneService(session)
    day = local_day(fields.day)
    context = await programme_context(service, actor, commune, day, refused="remove")
    keep_on_refusal(request, "programme.html", context)
    await service.unschedule(actor, commune, entry_id)
    return RedirectResponse(
        page_url("programme", actor, commune, day=day.isoformat()), status_code=303
    )


# --- what plays when ----------------------------------------------------------------------


@router.get("/preview")
async def preview_page(
    request: Request,
    session: Session,
    actor: Previewer,
    endpoint: Annotated[str, Query(max_length=64)] = "",
    at: Annotated[str, Query(max_length=32)] = "",
    code: CodeQuery = "",
) -> Response:
    """What an endpoint of the commune is given at a moment: the device's own playlist, as
    the playlist preview builds it."""
    if choice := choosing(request, actor, code):
        return choice
    commune = code or actor.area.code
    # Plain values: a refusal rolls the session back, and the page is drawn after that.
    endpoints = [
        {"code": row.code, "name": row.name, "kind": row.kind.value}
        for row in await CommuneService(session).endpoints(actor, commune)
    ]
    chosen = endpoint or (endpoints[0]["code"] if endpoints else "")
    typed = at or datetime.now(HUB_TIME_ZONE).strftime(LOCAL_INPUT)
    context: dict[str, Any] = {
        "code": commune,
        "endpoints": endpoints,
        "chosen": chosen,
        "at": typed,
        "playlist": None,
    }
    keep_on_refusal(request, "preview.html", context)
    if chosen:
        rendered = await PlaylistService(session).preview(actor, chosen, local_moment(typed))
        context["playlist"] = PlaylistRead.model_validate_json(rendered.body)
    return render(request, "preview.html", context)
