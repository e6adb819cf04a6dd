"""The department's pages: the endpoints board, accounts and keys, the audit log, statistics.

Each page takes the API route's own guard and calls the same service the route calls; the
endpoints board and statistics are read by editors and viewers too, as their routes allow.
"""

from datetime import date, datetime, time, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Path, Query, Request
from pydantic import Field
from starlette.responses import RedirectResponse, Response

from nguon.audit.endpoints import AuditRecordRead
from nguon.audit.repository import AuditCheckRepository
from nguon.audit.service import AuditFilter, AuditService, Outcome
from nguon.console.endpoints import CONSOLE, keep_on_refusal
from nguon.console.session import ConsoleAccess
from nguon.console.web import (
    HUB_TIME_ZONE,
    numbers_in,
    render,
    request_language,
    translate_detail,
)
from nguon.endpoints.endpoints import READERS, Endpoints
from nguon.identity.access import ADMIN, Identity
from nguon.identity.principal import Principal
from nguon.identity.roles import KEY_ROLES, USER_ROLES, Role
from nguon.identity.schemas import KeyRead, UserRead
from nguon.kit.db import utcnow
from nguon.kit.errors import InvalidInput
from nguon.kit.schemas import ROW_ID_MAX, FormModel
from nguon.stats.endpoints import STATS_READERS
from nguon.stats.service import StatsService
from nguon.unit_of_work import Session

router = APIRouter(prefix=CONSOLE, include_in_schema=False)

Reader = Annotated[Principal, Depends(ConsoleAccess(READERS))]
Admin = Annotated[Principal, Depends(ConsoleAccess(ADMIN))]
StatsReader = Annotated[Principal, Depends(ConsoleAccess(STATS_READERS))]

# The board and the accounts are one page each, as large as the API's; the audit log pages on.
BOARD_SIZE = 1000
ACCOUNTS_SHOWN = 500
AUDIT_PAGE = 50


def local_day(typed: str) -> date | None:
    """A date typed in a form (YYYY-MM-DD, as date inputs send it); None when left empty."""
    if not typed:
        return None
    try:
        return date.fromisoformat(typed)
    except ValueError:
        raise InvalidInput("Enter the dates as YYYY-MM-DD, e.g. 2026-05-01.") from None


def day_start(day: date) -> datetime:
    """Midnight of a day on the hub's clock: the people's day, not UTC's."""
    return datetime.combine(day, time(), HUB_TIME_ZONE)


def day_end(day: date) -> datetime:
    """The end of a day named as the last one of a period: it is included."""
    return day_start(day + timedelta(days=1))


# --- the endpoints board ------------------------------------------------------------------


async def _board(service: Endpoints, person: Principal) -> dict[str, Any]:
    views = await service.search(person, None, None, BOARD_SIZE, 0)
    return {"views": views, "checked_at": utcnow()}


@router.get("/endpoints")
async def endpoints_page(request: Request, service: Endpoints, person: Reader) -> Response:
    return render(request, "endpoints_board.html", await _board(service, person))


@router.get("/endpoints/board")
async def endpoints_board(request: Request, service: Endpoints, person: Reader) -> Response:
    return render(request, "endpoints_board_table.html", await _board(service, person))


# --- accounts and keys --------------------------------------------------------------------


class NewUserFields(FormModel):
    username: Annotated[str, Field(max_length=64)] = ""
    full_name: Annotated[str, Field(max_length=200)] = ""
    role: Annotated[str, Field(max_length=32)] = ""
    area: Annotated[str, Field(max_length=16)] = ""
    password: Annotated[str, Field(max_length=256)] = ""


class NewKeyFields(FormModel):
    name: Annotated[str, Field(max_length=100)] = ""
    role: Annotated[str, Field(max_length=32)] = ""
    area: Annotated[str, Field(max_length=16)] = ""


def role_of(typed: str, roles: frozenset[Role]) -> Role:
    """The role chosen in a form; the service says which roles each holder takes."""
    if typed not in Role.__members__:
        raise InvalidInput(f"Choose a role: {', '.join(sorted(roles))}.")
    return Role(typed)


async def _accounts(
    identity: Identity,
    person: Principal,
    new_user: dict[str, Any] | None = None,
    new_key: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The page's lists, as read models: they outlive a refused action's rollback."""
    users = await identity.list_users(person, ACCOUNTS_SHOWN, 0)
    keys = await identity.list_keys(person, ACCOUNTS_SHOWN, 0)
    return {
        "users": [UserRead.model_validate(user) for user in users],
        "keys": [KeyRead.model_validate(key) for key in keys],
        "user_roles": sorted(USER_ROLES),
        "key_roles": sorted(KEY_ROLES),
        "new_user": new_user
        or {"username": "", "full_name": "", "role": "", "area": person.area.code},
        "new_key": new_key or {"name": "", "role": "", "area": person.area.code},
    }


@router.get("/users")
async def users_page(request: Request, identity: Identity, person: Admin) -> Response:
    return render(request, "users.html", await _accounts(identity, person))


@router.post("/users")
async def create_user(
    request: Request,
    identity: Identity,
    person: Admin,
    fields: Annotated[NewUserFields, Form()],
) -> Response:
    typed = fields.model_dump(exclude={"password"})
    context = await _accounts(identity, person, new_user=typed)
    keep_on_refusal(request, "users.html", {**context, "refused": "new-user"})
    await identity.create_user(
        person,
        fields.username,
        fields.password,
        role_of(fields.role, USER_ROLES),
        fields.area,
        fields.full_name or None,
    )
    return RedirectResponse(f"{CONSOLE}/users#accounts", status_code=303)


@router.post("/keys")
async def create_key(
    request: Request,
    identity: Identity,
    person: Admin,
    fields: Annotated[NewKeyFields, Form()],
) -> Response:
    context = await _accounts(identity, person, new_key=fields.model_dump())
    keep_on_refusal(request, "users.html", {**context, "refused": "new-key"})
    stored, new_key = await identity.create_key(
        person, fields.name, role_of(fields.role, KEY_ROLES), fields.area
    )
    page = render(
        request,
        "key_created.html",
        {"key": KeyRead.model_validate(stored), "secret": new_key.key},
        status=201,
    )
    # The secret is on this page only: no cache or history keeps a copy of it.
    page.headers["Cache-Control"] = "no-store"
    return page


@router.post("/keys/{key_id}/revoke")
async def revoke_key(
    key_id: Annotated[int, Path(ge=1, le=ROW_ID_MAX)], identity: Identity, person: Admin
) -> Response:
    await identity.revoke_key(person, key_id)
    return RedirectResponse(f"{CONSOLE}/users#keys", status_code=303)


# --- the audit log ------------------------------------------------------------------------


def audit_filter(
    actor: str, action: str, outcome: str, since: str, until: str
) -> tuple[AuditFilter, dict[str, str]]:
    """The filter typed in the form, and the form's values to show again."""
    typed = {"actor": actor, "action": action, "outcome": outcome, "since": since, "until": until}
    if outcome and outcome not in Outcome.__members__:
        raise InvalidInput(f"Choose an outcome: {', '.join(Outcome)}.")
    first, last = local_day(since), local_day(until)
    query = AuditFilter(
        actor=actor or None,
        action=action or None,
        outcome=Outcome(outcome) if outcome else None,
        since=day_start(first) if first else None,
        until=day_end(last) if last else None,
    )
    return query, typed


@router.get("/audit")
async def audit_page(
    request: Request,
    session: Session,
    person: Admin,
    actor: Annotated[str, Query(max_length=200)] = "",
    action: Annotated[str, Query(max_length=200)] = "",
    outcome: Annotated[str, Query(max_length=16)] = "",
    since: Annotated[str, Query(max_length=10)] = "",
    until: Annotated[str, Query(max_length=10)] = "",
    before_id: Annotated[int | None, Query(ge=1, le=ROW_ID_MAX)] = None,
) -> Response:
    last_check = await AuditCheckRepository(session).latest()
    blank = {"records": [], "outcomes": list(Outcome), "older": None, "last_check": last_check}
    typed = {"actor": actor, "action": action, "outcome": outcome, "since": since, "until": until}
    keep_on_refusal(request, "audit.html", {**blank, "typed": typed})
    query, typed = audit_filter(actor, action, outcome, since, until)
    found = await AuditService(session).search_for(person, query, AUDIT_PAGE, before_id)
    records = [AuditRecordRead.model_validate(record) for record in found]
    older = None
    if len(records) == AUDIT_PAGE:
        older = {**{k: v for k, v in typed.items() if v}, "before_id": records[-1].id}
    return render(
        request, "audit.html", {**blank, "records": records, "typed": typed, "older": older}
    )


@router.get("/audit/verify")
async def verify_audit(request: Request, session: Session, person: Admin) -> Response:
    service = AuditService(session)
    found = await service.search_for(person, AuditFilter(), AUDIT_PAGE, None)
    records = [AuditRecordRead.model_validate(record) for record in found]
    blank = {"actor": "", "action": "", "outcome": "", "since": "", "until": ""}
    context = {
        "records": records,
        "outcomes": list(Outcome),
        "older": None,
        "typed": blank,
        "last_check": await AuditCheckRepository(session).latest(),
    }
    keep_on_refusal(request, "audit.html", {**context, "refused": "verify"})
    checked, breaks = await service.verify_for(person)
    language = request_language(request)
    verification = {
        "intact": not breaks,
        "checked": checked,
        "breaks": [(item.record_id, translate_detail(item.reason, language)) for item in breaks],
    }
    return render(request, "audit.html", {**context, "verification": verification})


# --- statistics ---------------------------------------------------------------------------


@router.get("/statistics")
async def statistics_page(
    request: Request,
    session: Session,
    person: StatsReader,
    start: Annotated[str, Query(max_length=10, alias="from")] = "",
    end: Annotated[str, Query(max_length=10, alias="to")] = "",
    area: Annotated[str, Query(max_length=16)] = "",
) -> Response:
    language = request_language(request)
    typed = {"from": start, "to": end, "area": area}
    keep_on_refusal(request, "statistics.html", {"typed": typed, **numbers_in(language)})
    first, last = local_day(start), local_day(end)
    service = StatsService(session, request.app.state.settings)
    report = await service.report_for(
        person,
        area or None,
        day_start(first) if first else None,
        day_end(last) if last else None,
        utcnow(),
    )
    return render(
        request, "statistics.html", {"typed": typed, "report": report, **numbers_in(language)}
    )
