"""The ASGI application."""

import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import structlog
from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from fastapi_offline import FastAPIOffline
from starlette.responses import RedirectResponse

from nguon import __version__
from nguon.areas.endpoints import router as areas_router
from nguon.audit.endpoints import router as audit_router
from nguon.audit.requests import FailedRequestAuditMiddleware
from nguon.audit.service import audit_session_info
from nguon.bulletins.clock import running_clock
from nguon.bulletins.endpoints import router as bulletins_router
from nguon.central.endpoints import bulletin_cap_router
from nguon.central.endpoints import router as central_router
from nguon.commands.endpoints import device_router as device_commands_router
from nguon.commands.endpoints import router as commands_router
from nguon.commands.mqtt import MqttChannel
from nguon.communes.endpoints import router as communes_router
from nguon.console.endpoints import CONSOLE, install_refusal_pages
from nguon.console.session import SessionRenewal
from nguon.console.site import PAGE_ROUTERS
from nguon.dispatch.cache import PlaylistCache, UnchangedPlaylistShortcut
from nguon.dispatch.endpoints import (
    DEVICE_PLAYLIST_PATH,
    device_playlist_router,
    preview_router,
)
from nguon.dispatch.endpoints import router as dispatch_router
from nguon.emergencies.endpoints import router as emergencies_router
from nguon.endpoints.endpoints import device_router
from nguon.endpoints.endpoints import router as endpoints_router
from nguon.endpoints.repository import PLAYLIST_CHANGES, EndpointRepository
from nguon.exports.endpoints import router as exports_router
from nguon.health.endpoints import router as health_router
from nguon.identity.credentials import ApiKeyHasher, TokenCodec
from nguon.identity.endpoints import router as identity_router
from nguon.identity.key_cache import API_KEY_CHANGES, ApiKeyCache
from nguon.identity.repository import ApiKeyRepository
from nguon.incidents.endpoints import router as incidents_router
from nguon.kit.changes import ChangeFeed, watching_changes
from nguon.kit.db import create_engine, create_sessionmaker
from nguon.kit.heap import settle_heap
from nguon.kit.observability import (
    BodyLimitMiddleware,
    Metrics,
    NulCharacterGuard,
    RequestContextMiddleware,
    configure_logging,
)
from nguon.kit.openapi import declare_problem_answers
from nguon.kit.problems import UnexpectedErrorMiddleware, install_problem_handlers
from nguon.kit.settings import Settings, get_settings
from nguon.kit.storage import create_storage
from nguon.media import codec
from nguon.media.endpoints import router as media_router
from nguon.media.sweep import running_media_sweep
from nguon.push.endpoints import router as push_router
from nguon.push.sse import EventStreams
from nguon.push.sse import router as device_events_router
from nguon.reports.endpoints import router as reports_router
from nguon.rules.endpoints import router as rules_router
from nguon.speech.service import Speech
from nguon.stats.endpoints import router as stats_router
from nguon.uplink.endpoints import router as uplink_router
from nguon.worker import create_bus, running_worker, started

log = structlog.get_logger()

ROUTERS = (
    health_router,
    identity_router,
    areas_router,
    communes_router,
    media_router,
    bulletins_router,
    endpoints_router,
    device_router,
    dispatch_router,
    preview_router,
    device_playlist_router,
    emergencies_router,
    device_events_router,
    push_router,
    central_router,
    bulletin_cap_router,
    audit_router,
    stats_router,
    uplink_router,
    rules_router,
    exports_router,
    reports_router,
    incidents_router,
    commands_router,
    device_commands_router,
)
# Multipart framing around the largest file the upload route takes.
UPLOAD_OVERHEAD_BYTES = 64 * 1024
DOCS_ASSETS_PATH = "/docs/assets"  # Swagger UI's and ReDoc's scripts, styles and icon

DESCRIPTION = """\
The provincial source-information hub (HTTT nguồn tỉnh): bulletins from central, provincial,
district and commune publishers, approved, and dispatched by priority to commune IP radio and
public electronic displays.

Errors are RFC 9457 `application/problem+json`.
"""


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    configure_logging(settings.log_level, settings.log_json)
    engine = create_engine(
        settings.resolved_database_url,
        echo=settings.database_echo,
        pool_size=settings.database_pool_size,
        pool_timeout=settings.database_pool_timeout_seconds,
        timeouts=settings.database_timeouts(),
    )
    changes = ChangeFeed()
    sessionmaker = create_sessionmaker(
        engine, info={**changes.session_info(), **audit_session_info(settings.signing_secret())}
    )
    playlists = PlaylistCache()
    key_cache = ApiKeyCache()
    changes.subscribe(PLAYLIST_CHANGES, playlists.drop)
    changes.subscribe(API_KEY_CHANGES, key_cache.drop)
    change_sources = {
        PLAYLIST_CHANGES: lambda session, since: EndpointRepository(session).playlist_changed_since(
            since
        ),
        API_KEY_CHANGES: lambda session, since: ApiKeyRepository(session).revoked_since(since),
    }
    storage = create_storage(settings)
    bus = create_bus(settings)
    event_streams = EventStreams(settings.sse_keepalive_seconds)
    # The channel is this process's when the worker runs in it: /readyz then says how it is.
    mqtt = (
        MqttChannel.configured(settings, sessionmaker) if settings.runs_worker_in_process else None
    )

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        await storage.ensure_ready()
        async with (
            running_clock(sessionmaker, settings.clock_seconds),
            running_media_sweep(sessionmaker, storage, settings),
            watching_changes(sessionmaker, changes, change_sources, settings.change_sync_seconds),
            started(bus),
            # Every API process hears every endpoint event: its own SSE clients are among them.
            bus.subscription([settings.kafka_topic_endpoint_events], None, event_streams.handle),
            running_worker(settings, engine, sessionmaker, bus, changes, mqtt)
            if settings.runs_worker_in_process
            else contextlib.nullcontext(),
        ):
            settle_heap()
            yield
        await engine.dispose()

    # The API docs (Swagger UI, ReDoc) load their scripts and styles from the hub itself, so
    # they work on a provincial network cut off from the internet.
    app = FastAPIOffline(
        title="nguon",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
        static_url=DOCS_ASSETS_PATH,
    )
    secret = settings.signing_secret()
    app.state.settings = settings
    app.state.engine = engine
    app.state.sessionmaker = sessionmaker
    app.state.changes = changes
    app.state.playlists = playlists
    app.state.key_cache = key_cache
    app.state.change_sources = change_sources
    app.state.metrics = Metrics()
    app.state.metrics.event_streams.set_function(lambda: event_streams.connected)
    app.state.storage = storage
    app.state.speech = Speech.configured(settings, storage)
    app.state.bus = bus
    app.state.mqtt = mqtt
    app.state.event_streams = event_streams
    # Said once at start-up, loudly; the `media` readiness check keeps saying it.
    app.state.media_build = media_build = codec.build()
    if media_build.missing:
        log.error(
            "media_cannot_make_renditions",
            ffmpeg=media_build.ffmpeg_version,
            missing=list(media_build.missing),
            effect="audio uploads fail: their broadcast rendition cannot be made",
        )
    app.state.token_codec = TokenCodec(
        secret, settings.jwt_issuer, settings.access_token_ttl_seconds
    )
    app.state.api_key_hasher = ApiKeyHasher(secret)

    install_problem_handlers(app)
    for router in ROUTERS:
        app.include_router(router)
    declare_problem_answers(app)
    # The console's pages are for people, not in the API document.
    for pages in PAGE_ROUTERS:
        app.include_router(pages)
    install_refusal_pages(app)
    app.mount(f"{CONSOLE}/static", StaticFiles(packages=[("nguon.console", "static")]))

    @app.get("/", include_in_schema=False)
    async def to_console() -> RedirectResponse:
        return RedirectResponse(f"{CONSOLE}/", status_code=307)

    # The last added runs first: a request id exists before anything is logged, and a body
    # refused for its size is still audited.
    app.add_middleware(SessionRenewal)
    app.add_middleware(NulCharacterGuard)
    app.add_middleware(
        BodyLimitMiddleware,
        default_limit=settings.max_body_bytes,
        # The console's upload stores files as the API's does, for people signed in to it.
        limits_by_path_prefix={
            path: settings.media_max_bytes + UPLOAD_OVERHEAD_BYTES
            for path in ("/api/v1/media", f"{CONSOLE}/media")
        },
    )
    app.add_middleware(FailedRequestAuditMiddleware, sessionmaker=sessionmaker)
    app.add_middleware(RequestContextMiddleware, metrics=app.state.metrics)
    app.add_middleware(
        UnchangedPlaylistShortcut,
        path=DEVICE_PLAYLIST_PATH,
        keys=key_cache,
        hasher=app.state.api_key_hasher,
        playlists=playlists,
        metrics=app.state.metrics,
    )
    app.add_middleware(UnexpectedErrorMiddleware)
    return app
