"""RFC 9457 problem+json for every 4xx and 5xx the API returns."""

from http import HTTPStatus
from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException

from nguon.kit.db import DatabaseUnreachable, database_away_or_busy
from nguon.kit.errors import PROBLEM_BASE, NguonError, Unauthenticated

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
    errors = [
        {"field": _field_name(err["loc"]), "message": err["msg"], "type": err["type"]}
        for err in exc.errors()
    ]
    summary = "; ".join(f"{err['field']}: {err['message']}" for err in errors)
    return _answer(
        request,
        422,
        f"{len(errors)} invalid field(s): {summary}",
        slug="invalid-input",
        title="Invalid input",
        errors=errors,
    )


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
    if not database_away_or_busy(exc):
        return await _unexpected_error(request, exc)
    log.warning("database_unavailable", path=request.url.path, error=str(exc))
    return _answer(
        request,
        503,
        "The hub's database is unavailable or busy; try again in a moment.",
        slug="database-unavailable",
        title="Database unavailable",
        headers={"Retry-After": str(UNAVAILABLE_RETRY_SECONDS)},
    )


async def _unexpected_error(request: Request, exc: Exception) -> ProblemResponse:
    log.exception("unhandled_error", path=request.url.path, error=repr(exc))
    return _answer(
        request,
        500,
        "The hub failed to handle this request; it has been logged under this request id.",
        slug="internal",
    )


def install_problem_handlers(app: FastAPI) -> None:
    app.add_exception_handler(NguonError, _nguon_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(PoolTimeout, _pool_exhausted)
    app.add_exception_handler(DBAPIError, _database_error)
    app.add_exception_handler(DatabaseUnreachable, _database_error)
    app.add_exception_handler(Exception, _unexpected_error)
