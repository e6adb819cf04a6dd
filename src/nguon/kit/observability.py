"""JSON logs with a request id, Prometheus metrics by route template, and the body-size guard."""

import itertools
import logging
import re
import secrets
import sys
import time
from collections.abc import Mapping
from typing import Literal
from urllib.parse import parse_qsl

import structlog
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from nguon.kit.errors import PayloadTooLarge
from nguon.kit.problems import invalid_fields, problem
from nguon.kit.schemas import NUL, NUL_MESSAGE

REQUEST_ID_HEADER = "x-request-id"
_CLIENT_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")
log = structlog.get_logger()


LogFormat = bool | Literal["auto"]
# The name of the root handler that renders the libraries' logging, so that configuring again
# replaces it rather than adding a second one.
_LIBRARY_LOG_HANDLER = "nguon"


def configure_logging(level: str, as_json: LogFormat) -> None:
    """Log lines on stdout: JSON for a collector, readable lines for a person at a terminal;
    `auto` chooses by whether stdout is one. The libraries' own logging (uvicorn, aiokafka)
    comes out the same way, rather than as bare text on stderr."""
    stream = sys.stdout
    json_lines = not stream.isatty() if as_json == "auto" else as_json
    stamped: list[structlog.typing.Processor] = [
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    rendered: list[structlog.typing.Processor] = (
        [structlog.processors.format_exc_info, structlog.processors.JSONRenderer()]
        if json_lines
        # The console renderer lays out tracebacks itself.
        else [structlog.dev.ConsoleRenderer(colors=stream.isatty())]
    )
    structlog.configure(
        processors=[structlog.contextvars.merge_contextvars, *stamped, *rendered],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level.upper())),
        logger_factory=structlog.PrintLoggerFactory(stream),
        cache_logger_on_first_use=False,
    )
    # Libraries log what they think worth a warning (the root logger's default level), so
    # that their chatter does not drown the hub's own lines.
    handler = logging.StreamHandler(stream)
    handler.set_name(_LIBRARY_LOG_HANDLER)
    handler.setLevel(level.upper())
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=[structlog.stdlib.add_logger_name, *stamped],
            processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, *rendered],
        )
    )
    root = logging.getLogger()
    root.handlers = [h for h in root.handlers if h.get_name() != _LIBRARY_LOG_HANDLER]
    root.addHandler(handler)


class Metrics:
    """The hub's Prometheus collectors, in a registry of their own so that apps do not collide."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "nguon_http_requests_total",
            "HTTP requests by method, route template and status.",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "nguon_http_request_duration_seconds",
            "HTTP request latency by method and route template.",
            ["method", "route"],
            registry=self.registry,
        )
        self.event_streams = Gauge(
            "nguon_sse_streams",
            "Server-sent event streams devices hold open on this process.",
            registry=self.registry,
        )


# New ids are this process's random half and a count: unique like a random UUID, and a
# fraction of its cost on the unchanged-poll path, which serves thousands a second.
_PROCESS_ID = secrets.token_hex(8)
_issued = itertools.count()


def request_id(offered: str) -> str:
    """The client's `X-Request-Id` when it is safe to log and echo, else a new one."""
    if offered and _CLIENT_REQUEST_ID.match(offered):
        return offered
    return f"{_PROCESS_ID}{next(_issued) & 0xFFFF_FFFF_FFFF_FFFF:016x}"


class RouteFigures:
    """One route's request count and latency, labelled as `RequestContextMiddleware` labels
    them, for answers given before it runs (an unchanged poll)."""

    def __init__(self, metrics: Metrics, method: str, route: str, status: int) -> None:
        self._counted = metrics.requests.labels(method, route, str(status))
        self._timed = metrics.latency.labels(method, route)

    def observe(self, started: float) -> None:
        self._counted.inc()
        self._timed.observe(time.perf_counter() - started)


def route_template(scope: Scope) -> str:
    route = scope.get("route")
    path = getattr(route, "path", None)
    return path if isinstance(path, str) else "unmatched"


class RequestContextMiddleware:
    """Gives each request an id (taken from `X-Request-Id` when sane), logs it, counts it, and
    says in `Server-Timing` how long the hub worked on it."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = _headers(scope)
        offered = headers.get(REQUEST_ID_HEADER, "")
        given_id = request_id(offered)
        scope.setdefault("state", {})["request_id"] = given_id
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(request_id=given_id)
        status = 500
        started = time.perf_counter()

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message.setdefault("headers", [])
                # How long the hub worked before answering, for browsers' developer tools and
                # for bench/console.py; the time on the wire is not in it.
                working_ms = (time.perf_counter() - started) * 1000
                message["headers"] = [
                    *message["headers"],
                    (REQUEST_ID_HEADER.encode(), given_id.encode()),
                    (b"server-timing", f"app;dur={working_ms:.2f}".encode()),
                ]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            elapsed = time.perf_counter() - started
            route = route_template(scope)
            self.metrics.requests.labels(scope["method"], route, str(status)).inc()
            self.metrics.latency.labels(scope["method"], route).observe(elapsed)
            log.info(
                "request",
                method=scope["method"],
                path=scope["path"],
                route=route,
                status=status,
                duration_ms=round(elapsed * 1000, 2),
            )


class BodyLimitMiddleware:
    """Refuses request bodies over a limit before they are read into memory.

    Routes that take large uploads name their own limit in `limits_by_path_prefix`.
    """

    def __init__(
        self, app: ASGIApp, default_limit: int, limits_by_path_prefix: Mapping[str, int]
    ) -> None:
        self.app = app
        self.default_limit = default_limit
        self.limits_by_path_prefix = dict(limits_by_path_prefix)

    def _limit_for(self, path: str) -> int:
        for prefix, limit in self.limits_by_path_prefix.items():
            if path.startswith(prefix):
                return limit
        return self.default_limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self._limit_for(scope["path"])
        request_id = scope.get("state", {}).get("request_id")
        declared = _headers(scope).get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            too_large = f"The request body has {declared} bytes; this route takes at most {limit}."
            await _payload_too_large(too_large, scope, send, request_id)
            return
        received = 0
        refused = False

        async def counting_receive() -> Message:
            # A body without a length is counted as it arrives; past the limit the client gets
            # 413 at once and the app sees a disconnect, so nothing is read into memory.
            nonlocal received, refused
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    if not refused:
                        refused = True
                        detail = (
                            f"The request body is over {limit} bytes, the most this route takes."
                        )
                        await _payload_too_large(detail, scope, send, request_id)
                    return {"type": "http.disconnect"}
            return message

        async def send_unless_refused(message: Message) -> None:
            if not refused:
                await send(message)

        try:
            await self.app(scope, counting_receive, send_unless_refused)
        except Exception:
            if not refused:
                raise


class NulCharacterGuard:
    """Refuses a NUL character in the path, the query or a header with 422, before routing.

    PostgreSQL text cannot hold it (the driver fails the query), SQLite would store it: refused
    here, it is refused the same way on both, for every route. Bodies are checked by their models
    (`nguon.kit.schemas`).
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        fields = _fields_with_nul(scope)
        if not fields:
            await self.app(scope, receive, send)
            return
        errors = [{"field": field, "message": NUL_MESSAGE, "type": "nul"} for field in fields]
        response = invalid_fields(
            scope["path"].replace(NUL, "\\x00"), scope.get("state", {}).get("request_id"), errors
        )
        await response(scope, receive, send)


def _fields_with_nul(scope: Scope) -> list[str]:
    fields = ["path"] if NUL in scope["path"] else []
    query = scope.get("query_string", b"").decode("latin-1")
    # Decoded as Starlette decodes it for the endpoint, so `%00` is found too.
    for name, value in parse_qsl(query, keep_blank_values=True):
        if NUL in name or NUL in value:
            fields.append(f"query.{name.replace(NUL, '')}")
    nul = NUL.encode()
    for name, value in scope["headers"]:
        if nul in name or nul in value:
            header = name.replace(nul, b"").decode("latin-1").lower()
            fields.append(f"header.{header}")
    return list(dict.fromkeys(fields))


async def _payload_too_large(detail: str, scope: Scope, send: Send, request_id: str | None) -> None:
    response = problem(
        413, detail, slug=PayloadTooLarge.slug, instance=scope["path"], request_id=request_id
    )
    await response(scope, _no_body, send)


async def _no_body() -> Message:
    return {"type": "http.disconnect"}


def _headers(scope: Scope) -> dict[str, str]:
    return {key.decode("latin-1"): value.decode("latin-1") for key, value in scope["headers"]}
