from datetime import timedelta
from typing import Literal

from fastapi import APIRouter, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import Field
from sqlalchemy import text

from nguon.audit.models import AuditCheckStatus
from nguon.audit.repository import AuditCheckRepository
from nguon.backups.models import RunStatus
from nguon.backups.repository import BackupRunRepository
from nguon.kit.db import utcnow
from nguon.kit.migrate import current_revision, head_revision
from nguon.kit.outbox import Outbox
from nguon.kit.problems import problem
from nguon.kit.schemas import ResponseModel
from nguon.kit.storage import StorageError
from nguon.media import codec
from nguon.uplink.repository import UplinkRepository

router = APIRouter(tags=["operations"])


class Check(ResponseModel):
    name: str
    ok: bool = Field(description="The part works")
    detail: str
    required: bool = Field(
        default=True,
        description="The hub cannot serve without this part: when it fails, /readyz answers "
        "503. A part that is not required and fails leaves the hub degraded (200).",
    )


class Readiness(ResponseModel):
    status: Literal["ready", "degraded"] = Field(
        description="`degraded`: a part the API serves without (the bus, or media "
        "renditions) is failing; the checks say which"
    )
    checks: list[Check]


@router.get("/healthz", summary="The process is alive")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get(
    "/readyz",
    summary="The hub can serve: database reachable and migrated, storage writable",
    response_model=Readiness,
    responses={503: {"description": "Not ready; the problem lists the failing checks"}},
)
async def readyz(request: Request) -> Readiness | Response:
    checks = [
        await _database_check(request),
        await _storage_check(request),
        _media_check(request),
        await _uplink_check(request),
        await _bus_check(request),
        _mqtt_check(request),
        await _backup_check(request),
        await _audit_check(request),
    ]
    if all(check.ok for check in checks):
        return Readiness(status="ready", checks=checks)
    if all(check.ok for check in checks if check.required):
        return Readiness(status="degraded", checks=checks)
    failing = "; ".join(
        f"{check.name}: {check.detail}" for check in checks if check.required and not check.ok
    )
    return problem(
        503,
        f"Not ready: {failing}",
        slug="not-ready",
        checks=[check.model_dump() for check in checks],
    )


async def _database_check(request: Request) -> Check:
    engine = request.app.state.engine
    try:
        async with engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
            revision = await connection.run_sync(current_revision)
    except Exception as exc:  # any failure to reach the database makes the hub unready
        return Check(name="database", ok=False, detail=f"unreachable: {exc.__class__.__name__}")
    head = head_revision()
    if revision != head:
        return Check(
            name="database",
            ok=False,
            detail=f"schema at {revision or 'nothing'}, code expects {head}: "
            "run `nguon db upgrade`",
        )
    return Check(name="database", ok=True, detail=f"{engine.dialect.name}, schema at {head}")


async def _storage_check(request: Request) -> Check:
    try:
        detail = await request.app.state.storage.check()
    except StorageError as exc:
        return Check(name="storage", ok=False, detail=str(exc))
    return Check(name="storage", ok=True, detail=detail)


def _media_check(request: Request) -> Check:
    """Whether the FFmpeg build inside PyAV can make the broadcast rendition. A build that
    cannot fails the check loudly but leaves the hub ready: devices keep polling and playing
    what is already stored, and text, images and video still come in; only new audio waits.
    Taking the hub out of service would silence every commune for the sake of new uploads."""
    build = request.app.state.media_build
    if build.missing:
        return Check(
            name="media",
            ok=False,
            detail=f"FFmpeg {build.ffmpeg_version} in PyAV lacks {', '.join(build.missing)}: "
            "audio uploads fail, no broadcast rendition can be made",
            required=False,
        )
    return Check(
        name="media",
        ok=True,
        detail=f"FFmpeg {build.ffmpeg_version} in PyAV: encoder "
        f"{', '.join(codec.RENDITION_ENCODERS)} and filters {', '.join(codec.RENDITION_FILTERS)} "
        "present",
        required=False,
    )


async def _uplink_check(request: Request) -> Check:
    """The uplink never makes the hub unready: a central system that is away must not take
    the province's broadcasting out of service. The detail says whether it is on and behind."""
    settings = request.app.state.settings
    if not settings.uplink_enabled:
        return Check(
            name="uplink", ok=True, detail="off: NGUON_CENTRAL_URL is not set", required=False
        )
    try:
        async with request.app.state.sessionmaker() as session:
            waiting, oldest, last_sent = await UplinkRepository(session).backlog()
    except Exception as exc:  # the database check says what is wrong with the database
        return Check(
            name="uplink",
            ok=True,
            detail=f"on, backlog unknown: {type(exc).__name__}",
            required=False,
        )
    detail = f"on: {settings.central_url}; {waiting} waiting"
    if oldest is not None:
        detail += f" (oldest since {oldest.isoformat()})"
    if last_sent is not None:
        detail += f"; last taken at {last_sent.isoformat()}"
    return Check(name="uplink", ok=True, detail=detail, required=False)


async def _bus_check(request: Request) -> Check:
    """The bus never makes the hub unready: the database is the truth, so polls, bulletins
    and alerts are served while the broker is away, and their events wait in the outbox. What
    waits on it is news: webhooks and event streams (devices still poll)."""
    state = await request.app.state.bus.state()
    try:
        async with request.app.state.sessionmaker() as session:
            waiting = f"outbox: {await Outbox(session).waiting()} events waiting"
    except Exception as exc:  # the database check says what is wrong with the database
        waiting = f"outbox unknown: {type(exc).__name__}"
    return Check(
        name="bus", ok=state.reachable, detail=f"{state.detail}; {waiting}", required=False
    )


def _mqtt_check(request: Request) -> Check:
    """The MQTT channel to radios never makes the hub unready: radios still poll their
    playlists. It is this process's when the worker runs in it; with `nguon worker` apart,
    this process has no connection to report and the worker's log says (`mqtt_connected`,
    `mqtt_away` with its reason)."""
    broker = request.app.state.settings.mqtt_broker
    if broker is None:
        return Check(name="mqtt", ok=True, detail="off: NGUON_MQTT_URL is not set", required=False)
    channel = request.app.state.mqtt
    if channel is None:
        return Check(
            name="mqtt",
            ok=True,
            detail=f"{broker}: connected to by `nguon worker`, not this process; the worker's "
            "log says whether it is connected",
            required=False,
        )
    state = channel.state()
    return Check(name="mqtt", ok=state.connected, detail=state.detail, required=False)


@router.get("/metrics", summary="Prometheus metrics", response_class=Response)
async def metrics(request: Request) -> Response:
    return Response(
        generate_latest(request.app.state.metrics.registry), media_type=CONTENT_TYPE_LATEST
    )


async def _backup_check(request: Request) -> Check:
    """The last backup's time and status (002 Điều 11.2). Never required: a failed backup is
    the operator's to act on, not a reason to stop broadcasting. Not ok when the last run
    failed or the last good one is overdue by a day."""
    settings = request.app.state.settings
    try:
        async with request.app.state.sessionmaker() as session:
            last, last_good = await BackupRunRepository(session).last_and_last_succeeded()
    except Exception as exc:  # the database check says what is wrong with the database
        return Check(
            name="backups", ok=True, detail=f"unknown: {type(exc).__name__}", required=False
        )
    if last is None:
        return Check(name="backups", ok=True, detail="none taken yet", required=False)
    detail = f"last {last.backup_id} {last.status} at {last.started_at.isoformat()}"
    if last.detail:
        detail += f": {last.detail}"
    overdue = timedelta(days=settings.backup_interval_days + 1)
    if last_good is None or utcnow() - last_good.started_at > overdue:
        detail += "; no good backup within the interval (NGUON_BACKUP_INTERVAL_DAYS)"
        return Check(name="backups", ok=False, detail=detail, required=False)
    if last_good is not last:
        detail += f"; last good {last_good.backup_id} at {last_good.started_at.isoformat()}"
    return Check(name="backups", ok=last.status != RunStatus.failed, detail=detail, required=False)


async def _audit_check(request: Request) -> Check:
    """The newest verification of the audit chain (002 Điều 14.8). Never required: a broken
    chain is an incident to investigate, not a reason to stop broadcasting. Not ok when the
    chain was found broken, the check failed, or none came within two intervals."""
    interval = timedelta(seconds=request.app.state.settings.audit_check_seconds)
    try:
        async with request.app.state.sessionmaker() as session:
            latest = await AuditCheckRepository(session).latest()
    except Exception as exc:  # the database check says what is wrong with the database
        return Check(name="audit", ok=True, detail=f"unknown: {type(exc).__name__}", required=False)
    if latest is None:
        return Check(name="audit", ok=True, detail="not checked yet", required=False)
    at = latest.started_at.isoformat()
    if latest.status is AuditCheckStatus.running:
        return Check(name="audit", ok=True, detail=f"checking since {at}", required=False)
    detail = f"{latest.status} at {at} ({latest.trigger})"
    if latest.records is not None:
        detail += f": {latest.records} record{'' if latest.records == 1 else 's'}"
    if latest.detail:
        detail += f"; {latest.detail}"
    if utcnow() - latest.started_at > 2 * interval:
        detail += "; no check since (NGUON_AUDIT_CHECK_SECONDS): is a worker running?"
        return Check(name="audit", ok=False, detail=detail, required=False)
    return Check(
        name="audit", ok=latest.status is AuditCheckStatus.intact, detail=detail, required=False
    )
