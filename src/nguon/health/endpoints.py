from fastapi import APIRouter, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text

from nguon.kit.migrate import current_revision, head_revision
from nguon.kit.problems import problem
from nguon.kit.schemas import ResponseModel
from nguon.kit.storage import StorageError
from nguon.uplink.repository import UplinkRepository

router = APIRouter(tags=["operations"])


class Check(ResponseModel):
    name: str
    ok: bool
    detail: str


class Readiness(ResponseModel):
    status: str
    checks: list[Check]


@router.get("/healthz", summary="The process is alive")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get(
    "/readyz",
    summary="The hub can serve: database reachable and migrated",
    response_model=Readiness,
    responses={503: {"description": "Not ready; the problem lists the failing checks"}},
)
async def readyz(request: Request) -> Readiness | Response:
    checks = [
        await _database_check(request),
        await _storage_check(request),
        _media_tools(request),
        await _uplink_check(request),
    ]
    if all(check.ok for check in checks):
        return Readiness(status="ready", checks=checks)
    failing = "; ".join(f"{check.name}: {check.detail}" for check in checks if not check.ok)
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


def _media_tools(request: Request) -> Check:
    # Without ffmpeg the hub still serves; the detail tells the operator what is missing.
    return Check(name="media_tools", ok=True, detail=request.app.state.media_tools.status())


async def _uplink_check(request: Request) -> Check:
    """The uplink never makes the hub unready: a central system that is away must not take
    the province's broadcasting out of service. The detail says whether it is on and behind."""
    settings = request.app.state.settings
    if not settings.uplink_enabled:
        return Check(name="uplink", ok=True, detail="off: NGUON_CENTRAL_URL is not set")
    try:
        async with request.app.state.sessionmaker() as session:
            waiting, oldest, last_sent = await UplinkRepository(session).backlog()
    except Exception as exc:  # the database check says what is wrong with the database
        return Check(name="uplink", ok=True, detail=f"on, backlog unknown: {type(exc).__name__}")
    detail = f"on: {settings.central_url}; {waiting} waiting"
    if oldest is not None:
        detail += f" (oldest since {oldest.isoformat()})"
    if last_sent is not None:
        detail += f"; last taken at {last_sent.isoformat()}"
    return Check(name="uplink", ok=True, detail=detail)


@router.get("/metrics", summary="Prometheus metrics", response_class=Response)
async def metrics(request: Request) -> Response:
    return Response(
        generate_latest(request.app.state.metrics.registry), media_type=CONTENT_TYPE_LATEST
    )
