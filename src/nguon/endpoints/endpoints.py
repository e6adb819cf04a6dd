from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request, status

from nguon.areas.schemas import UNKNOWN_AREA
from nguon.dispatch.plays import PlayBatch, PlayService
from nguon.endpoints.schemas import (
    CODE_PATTERN,
    EndpointCreate,
    EndpointCreated,
    EndpointRead,
    EndpointUpdate,
    HeartbeatAnswer,
    HeartbeatRead,
    HeartbeatReport,
    HeartbeatStatus,
    MaintenanceCreate,
    MaintenanceLog,
    MaintenanceRead,
    PlaysRecorded,
    focal_person,
)
from nguon.endpoints.service import EndpointService, EndpointState, EndpointView
from nguon.endpoints.windows import EndpointKind, daily_hours
from nguon.identity.access import ADMIN, Access, Identity
from nguon.identity.principal import Principal
from nguon.identity.roles import Role
from nguon.kit.schemas import INT64_MAX, Page
from nguon.unit_of_work import Session

router = APIRouter(prefix="/api/v1/endpoints", tags=["endpoints"])
device_router = APIRouter(prefix="/api/v1/device", tags=["device"])

READERS = Access(Role.admin, Role.editor, Role.viewer)
DEVICE = Access(Role.endpoint)
Code = Annotated[str, Path(pattern=CODE_PATTERN, description="Endpoint code")]
Admin = Annotated[Principal, Depends(ADMIN)]


def endpoint_service(request: Request, session: Session, identity: Identity) -> EndpointService:
    return EndpointService(session, identity, request.app.state.settings)


Endpoints = Annotated[EndpointService, Depends(endpoint_service)]


def read_model(view: EndpointView) -> EndpointRead:
    endpoint, heartbeat = view.endpoint, view.heartbeat
    return EndpointRead(
        code=endpoint.code,
        name=endpoint.name,
        kind=endpoint.kind,
        profile=endpoint.profile,
        area=endpoint.area_code,
        latitude=endpoint.latitude,
        longitude=endpoint.longitude,
        languages=endpoint.languages,
        windows=endpoint.windows,
        daily_hours=daily_hours(endpoint.windows),
        push_url=endpoint.push_url,
        enabled=endpoint.enabled,
        focal_person=focal_person(endpoint),
        switched_off=endpoint.switched_off,
        playlist_version=endpoint.playlist_version,
        last_heartbeat=None
        if heartbeat is None
        else HeartbeatRead(
            received_at=heartbeat.received_at,
            status=HeartbeatStatus(heartbeat.status),
            volume=heartbeat.volume,
            current_item=heartbeat.current_bulletin_id,
            playlist_etag=heartbeat.playlist_etag,
            message=heartbeat.message,
        ),
        online=view.online,
        stale=view.stale,
        created_at=endpoint.created_at,
        updated_at=endpoint.updated_at,
    )


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    summary="Register an endpoint; its API key is in the answer, once",
    description="Without `windows`, the regulation's defaults for the kind and profile apply: "
    "radio 05:00–06:30 and 17:00–18:30; e-board 05:00–07:00 and 17:00–22:00; border gate "
    "07:00–11:00 and 14:00–18:00, every day, local time (Asia/Ho_Chi_Minh).",
    responses={**UNKNOWN_AREA, 409: {"description": "An endpoint with this code exists"}},
)
async def create_endpoint(
    body: EndpointCreate, service: Endpoints, actor: Admin, request: Request
) -> EndpointCreated:
    endpoint, key = await service.create(actor, body)
    request.state.audit_target = f"endpoint:{endpoint.code}"
    read = read_model(EndpointView(endpoint, None, online=False, stale=False))
    return EndpointCreated(**read.model_dump(), api_key=key.key)


@router.get("", summary="Endpoints in your area")
async def list_endpoints(
    service: Endpoints,
    actor: Annotated[Principal, Depends(READERS)],
    kind: EndpointKind | None = None,
    state: Annotated[
        EndpointState | None,
        Query(
            description="`offline`: no heartbeat within NGUON_ENDPOINT_OFFLINE_SECONDS, or "
            "none ever; `stale`: enabled, and the last heartbeat reports an older playlist "
            "than the current one"
        ),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
    offset: Annotated[int, Query(ge=0, le=INT64_MAX)] = 0,
) -> Page[EndpointRead]:
    found = await service.search(actor, kind, state, limit, offset)
    return Page(items=[read_model(view) for view in found])


@router.get("/{code}", summary="One endpoint")
async def get_endpoint(
    code: Code, service: Endpoints, actor: Annotated[Principal, Depends(READERS)]
) -> EndpointRead:
    return read_model(await service.view(await service.get(actor, code)))


@router.patch(
    "/{code}",
    summary="Change an endpoint: name, position, languages, windows, push URL, on/off, focal "
    "person",
)
async def update_endpoint(
    code: Code, body: EndpointUpdate, service: Endpoints, actor: Admin
) -> EndpointRead:
    return read_model(await service.view(await service.update(actor, code, body)))


@router.post(
    "/{code}/key",
    summary="Issue a new API key for an endpoint (a replaced device); the old key stops working",
)
async def renew_endpoint_key(code: Code, service: Endpoints, actor: Admin) -> EndpointCreated:
    endpoint, key = await service.new_key(actor, code)
    read = read_model(await service.view(endpoint))
    return EndpointCreated(**read.model_dump(), api_key=key.key)


@router.get(
    "/{code}/maintenance",
    summary="An endpoint's maintenance, inspection and repair records, latest first",
)
async def list_maintenance(
    code: Code,
    service: Endpoints,
    actor: Annotated[Principal, Depends(READERS)],
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> MaintenanceLog:
    found = await service.maintenance(actor, code, limit)
    return MaintenanceLog(items=[MaintenanceRead.model_validate(record) for record in found])


@router.post(
    "/{code}/maintenance",
    status_code=status.HTTP_201_CREATED,
    summary="Record maintenance, inspection or repair done on an endpoint",
)
async def record_maintenance(
    code: Code, body: MaintenanceCreate, service: Endpoints, actor: Admin
) -> MaintenanceRead:
    return MaintenanceRead.model_validate(await service.record_maintenance(actor, code, body))


@device_router.get("/me", summary="The calling endpoint's own registration")
async def device_me(
    service: Endpoints, device: Annotated[Principal, Depends(DEVICE)]
) -> EndpointRead:
    return read_model(await service.view(await service.of_device(device)))


@device_router.post(
    "/heartbeat",
    summary="The device's status and the playlist it holds",
    description="Send it every minute or so. `playlist_etag` is the ETag of the playlist the "
    "device holds; when it is the current one, every delivery on it counts as acknowledged. "
    "`stale: true` in the answer means: fetch the playlist again.",
)
async def device_heartbeat(
    body: HeartbeatReport,
    service: Endpoints,
    device: Annotated[Principal, Depends(DEVICE)],
    request: Request,
) -> HeartbeatAnswer:
    receipt = await service.heartbeat(device, body)
    request.state.audit_target = f"endpoint:{receipt.endpoint.code}"
    return HeartbeatAnswer(
        received_at=receipt.heartbeat.received_at,
        stale=receipt.stale,
        playlist_version=receipt.endpoint.playlist_version,
    )


@device_router.post(
    "/plays",
    summary="What the device played (as-run records), in batches",
    description="Each record carries the device's own `id`: a record sent again (after an "
    "outage, or twice in one batch) is counted in `duplicates` and stored once. A batch with a "
    "record of a bulletin never delivered to this endpoint, or dated ahead of the hub's clock, "
    "is refused whole (422, naming the `ids`).",
)
async def device_plays(
    body: PlayBatch,
    session: Session,
    service: Endpoints,
    device: Annotated[Principal, Depends(DEVICE)],
    request: Request,
) -> PlaysRecorded:
    endpoint = await service.of_device(device)
    request.state.audit_target = f"endpoint:{endpoint.code}"
    tally = await PlayService(session).record(endpoint.id, body.plays)
    return PlaysRecorded(accepted=tally.accepted, duplicates=tally.duplicates)
