"""RFC 9457 problem+json for every 4xx and 5xx the API returns."""

from collections.abc import Callable, Mapping, Sequence
from http import HTTPStatus
from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.dependencies.models import Dependant
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from nguon.kit.db import (
    DatabaseUnreachable,
    conflicting_write,
    database_away_or_busy,
    unstorable_value,
)
from nguon.kit.errors import PROBLEM_BASE, Conflict, InvalidInput, NguonError, Unauthenticated
from nguon.kit.schemas import pattern_words

PROBLEM_MEDIA_TYPE = "application/problem+json"
log = structlog.get_logger()
# What a client saturating the hub's database connections is told to wait before trying again.
BUSY_RETRY_SECONDS = 1
# ... and one that finds the database away (restarting, unreachable) or its locks taken.
UNAVAILABLE_RETRY_SECONDS = 5


class ProblemResponse(JSONResponse):
    media_type = PROBLEM_MEDIA_TYPE


def problem(
    status: int,
    detail: str,
    *,
    slug: str | None = None,
    title: str | None = None,
    instance: str | None = None,
    headers: dict[str, str] | None = None,
    **extensions: Any,
) -> ProblemResponse:
    phrase = HTTPStatus(status).phrase
    body: dict[str, Any] = {
        "type": PROBLEM_BASE + slug if slug else "about:blank",
        "title": title or phrase,
        "status": status,
        "detail": detail,
    }
    if instance:
        body["instance"] = instance
    body.update(extensions)
    return ProblemResponse(body, status_code=status, headers=headers)


def _answer(request: Request, status: int, detail: str, **fields: Any) -> ProblemResponse:
    """A problem about this request: its path as the instance, its request id alongside."""
    return problem(
        status,
        detail,
        instance=request.url.path,
        request_id=getattr(request.state, "request_id", None),
        **fields,
    )


def _field_name(location: tuple[Any, ...]) -> str:
    return ".".join(str(part) for part in location)


async def _nguon_error(request: Request, exc: Exception) -> ProblemResponse:
    assert isinstance(exc, NguonError)
    headers = {"WWW-Authenticate": "Bearer"} if isinstance(exc, Unauthenticated) else None
    return _answer(
        request,
        exc.status,
        exc.detail,
        slug=exc.slug,
        title=exc.title,
        headers=headers,
        **exc.extensions,
    )


def _in_words(error: Mapping[str, Any], bounds: Mapping[str, Any]) -> str:
    """What the field must be, in words, for pydantic's common error types; its own text else.

    `bounds` are the `ge`/`le` the parameter declares, so that a range is said whole."""
    kind: str = error["type"]
    ctx: dict[str, Any] = error.get("ctx") or {}
    if kind == "missing":
        return "is required"
    if kind == "extra_forbidden":
        return "is not a field of this request"
    if kind == "string_pattern_mismatch":
        words = pattern_words(str(ctx.get("pattern", "")))
        return f"must be {words}" if words else error["msg"]
    if kind == "string_too_long":
        return f"must be at most {ctx['max_length']} characters"
    if kind == "string_too_short":
        least = ctx["min_length"]
        return "must not be empty" if least == 1 else f"must be at least {least} characters"
    if kind in {"too_long", "too_short"}:
        bound = "at most" if kind == "too_long" else "at least"
        limit = ctx.get("max_length") if kind == "too_long" else ctx.get("min_length")
        return f"must have {bound} {limit} items"
    if kind in {"enum", "literal_error"}:
        return f"must be one of {ctx['expected']}"
    if kind in {"int_parsing", "int_from_float", "int_type"}:
        return "must be an integer"
    if kind in {"greater_than_equal", "less_than_equal", "greater_than", "less_than"}:
        return _range_in_words(error, bounds)
    if kind in {"bool_parsing", "bool_type"}:
        return "must be true or false"
    if kind in {"datetime_parsing", "datetime_type", "datetime_from_date_parsing"}:
        return "must be a date and time such as 2025-07-01T07:30:00+07:00"
    if kind == "timezone_aware":
        return "must say its time zone, such as +07:00 or Z"
    if kind in {"string_type", "list_type", "dict_type", "model_type", "model_attributes_type"}:
        expected = {"string_type": "text", "list_type": "a list"}.get(kind, "an object")
        return f"must be {expected}"
    return str(error["msg"])


def _range_in_words(error: Mapping[str, Any], bounds: Mapping[str, Any]) -> str:
    """An integer's range from both its bounds when they are known, else the one broken."""
    ctx: dict[str, Any] = error.get("ctx") or {}
    low = ctx.get("ge", ctx.get("gt"))
    high = ctx.get("le", ctx.get("lt"))
    low = bounds.get("ge", low)
    high = bounds.get("le", high)
    if low is not None and high is not None:
        return f"must be an integer from {low} to {high}"
    if "gt" in ctx:
        return f"must be more than {ctx['gt']}"
    if "lt" in ctx:
        return f"must be less than {ctx['lt']}"
    return f"must be at least {low}" if low is not None else f"must be at most {high}"


def fields_in_words(
    errors: Sequence[Mapping[str, Any]],
    bounds: Callable[[tuple[Any, ...]], Mapping[str, Any]] = lambda _location: {},
) -> list[dict[str, str]]:
    """Pydantic's errors as the problem's `errors`: each field's name and its rule in words."""
    return [
        {
            "field": _field_name(err["loc"]),
            "message": _in_words(err, bounds(err["loc"])),
            "type": err["type"],
        }
        for err in errors
    ]


def invalid_fields_detail(errors: Sequence[Mapping[str, str]]) -> str:
    summary = "; ".join(f"{err['field']}: {err['message']}" for err in errors)
    return f"{len(errors)} invalid field(s): {summary}"


def invalid_fields(
    instance: str, request_id: str | None, errors: list[dict[str, str]]
) -> ProblemResponse:
    """The 422 for a request whose fields break their rules, each in `errors`."""
    return problem(
        422,
        invalid_fields_detail(errors),
        slug=InvalidInput.slug,
        title=InvalidInput.title,
        instance=instance,
        request_id=request_id,
        errors=errors,
    )


def _declared_bounds(request: Request, location: tuple[Any, ...]) -> dict[str, Any]:
    """The `ge`/`le` a query, path or header parameter declares, to say its whole range."""
    route = request.scope.get("route")
    dependant = getattr(route, "dependant", None)
    if dependant is None or len(location) != 2:
        return {}
    for param in _parameters(dependant, str(location[0])):
        if param.alias == location[1]:
            return {
                name: getattr(rule, name)
                for rule in param.field_info.metadata
                for name in ("ge", "le")
                if getattr(rule, name, None) is not None
            }
    return {}


def _parameters(dependant: Dependant, source: str) -> list[Any]:
    """The route's parameters taken from `source` (query, path, header), its dependencies' too."""
    own: list[Any] = list(getattr(dependant, f"{source}_params", []))
    for dependency in dependant.dependencies:
        own.extend(_parameters(dependency, source))
    return own


async def _validation_error(request: Request, exc: Exception) -> ProblemResponse:
    assert isinstance(exc, RequestValidationError)
    malformed = next((e for e in exc.errors() if e["type"] == "json_invalid"), None)
    if malformed is not None:
        reason = malformed.get("ctx", {}).get("error", "decode error")
        position = malformed["loc"][-1] if len(malformed["loc"]) > 1 else "?"
        return _answer(
            request,
            400,
            f"The request body is not valid JSON: {reason} (character {position}).",
            slug="malformed-body",
            title="Malformed request body",
        )
    errors = fields_in_words(exc.errors(), lambda location: _declared_bounds(request, location))
    return invalid_fields(request.url.path, getattr(request.state, "request_id", None), errors)


async def _http_error(request: Request, exc: Exception) -> ProblemResponse:
    assert isinstance(exc, StarletteHTTPException)
    detail = exc.detail if isinstance(exc.detail, str) else HTTPStatus(exc.status_code).description
    if exc.status_code == 404 and detail == "Not Found":
        detail = f"No resource at {request.url.path}"
    elif exc.status_code == 405:
        detail = f"{request.method} is not allowed on {request.url.path}"
    return _answer(
        request,
        exc.status_code,
        detail,
        headers=dict(exc.headers) if exc.headers else None,
    )


async def _pool_exhausted(request: Request, exc: Exception) -> ProblemResponse:
    log.warning("database_pool_exhausted", path=request.url.path, error=str(exc))
    return _answer(
        request,
        503,
        "Every database connection of this hub process is in use; try again in a moment.",
        slug="busy",
        title="Hub busy",
        headers={"Retry-After": str(BUSY_RETRY_SECONDS)},
    )


async def _database_error(request: Request, exc: Exception) -> ProblemResponse:
    if conflicting_write(exc):
        return _answer(
            request,
            409,
            "Another request changed the same records at the same moment (it took a name or "
            "code this one asked for, or removed something this one refers to); read the "
            "current state and send the request again if it still applies.",
            slug=Conflict.slug,
            title=Conflict.title,
        )
    if unstorable_value(exc):
        log.warning("unstorable_value", path=request.url.path, error=str(exc))
        return _answer(
            request,
            422,
            "A value in the request cannot be stored as it is (too long for its field, or "
            f"outside its range): {getattr(exc, 'orig', exc)}.",
            slug=InvalidInput.slug,
            title=InvalidInput.title,
        )
    if not database_away_or_busy(exc):
        raise exc  # an error of the hub's own: UnexpectedErrorMiddleware answers it
    log.warning("database_unavailable", path=request.url.path, error=str(exc))
    return _answer(
        request,
        503,
        "The hub's database is unavailable or busy; try again in a moment.",
        slug="database-unavailable",
        title="Database unavailable",
        headers={"Retry-After": str(UNAVAILABLE_RETRY_SECONDS)},
    )


class UnexpectedErrorMiddleware:
    """Answers an error nothing else handled with a 500 problem and keeps the connection.

    Starlette's own outermost handler answers too but then re-raises, and the server closes the
    keep-alive connection, so the client's next request on it fails. Sits outside the request id
    and audit middlewares, which have seen the error (and recorded the 500) on its way out.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def noting_start(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, noting_start)
        except Exception as exc:
            if started:  # part of an answer is out: only closing the connection can end it
                raise
            log.exception("unhandled_error", path=scope["path"], error=repr(exc))
            request_id = scope.get("state", {}).get("request_id")
            response = problem(
                500,
                "The hub failed to handle this request; it has been logged under this request id.",
                slug="internal",
                instance=scope["path"],
                request_id=request_id,
                headers={"X-Request-Id": request_id} if request_id else None,
            )
            await response(scope, receive, send)


def install_problem_handlers(app: FastAPI) -> None:
    app.add_exception_handler(NguonError, _nguon_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(PoolTimeout, _pool_exhausted)
    app.add_exception_handler(DBAPIError, _database_error)
    app.add_exception_handler(DatabaseUnreachable, _database_error)
