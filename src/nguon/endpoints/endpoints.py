from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request, status

from nguon.endpoints.models import Endpoint
from nguon.endpoints.schemas import (
    CODE_PATTERN,
    EndpointCreate,
    EndpointCreated,
    EndpointRead,
    EndpointUpdate,
)
from nguon.endpoints.service import EndpointService
from nguon.endpoints.windows import EndpointKind, daily_hours
from nguon.identity.access import ADMIN, Access, Identity
from nguon.identity.principal import Principal
from nguon.identity.roles import Role
from nguon.kit.schemas import Page
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


def read_model(endpoint: Endpoint) -> EndpointRead:
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
)
async def create_endpoint(
    body: EndpointCreate, service: Endpoints, actor: Admin, request: Request
) -> EndpointCreated:
    endpoint, key = await service.create(actor, body)
    request.state.audit_target = f"endpoint:{endpoint.code}"
    return EndpointCreated(**read_model(endpoint).model_dump(), api_key=key.key)


@router.get("", summary="Endpoints in your area")
async def list_endpoints(
    service: Endpoints,
    actor: Annotated[Principal, Depends(READERS)],
    kind: EndpointKind | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> Page[EndpointRead]:
    found = await service.search(actor, kind, limit, offset)
    return Page(items=[read_model(endpoint) for endpoint in found])


@router.get("/{code}", summary="One endpoint")
async def get_endpoint(
    code: Code, service: Endpoints, actor: Annotated[Principal, Depends(READERS)]
) -> EndpointRead:
    return read_model(await service.get(actor, code))


@router.patch(
    "/{code}", summary="Change an endpoint: name, position, languages, windows, push URL, on/off"
)
async def update_endpoint(
    code: Code, body: EndpointUpdate, service: Endpoints, actor: Admin
) -> EndpointRead:
    return read_model(await service.update(actor, code, body))


@router.post(
    "/{code}/key",
    summary="Issue a new API key for an endpoint (a replaced device); the old key stops working",
)
async def renew_endpoint_key(code: Code, service: Endpoints, actor: Admin) -> EndpointCreated:
    endpoint, key = await service.new_key(actor, code)
    return EndpointCreated(**read_model(endpoint).model_dump(), api_key=key.key)


@device_router.get("/me", summary="The calling endpoint's own registration")
async def device_me(
    service: Endpoints, device: Annotated[Principal, Depends(DEVICE)]
) -> EndpointRead:
    return read_model(await service.of_device(device))
