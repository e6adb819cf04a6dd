from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Path

from nguon.bulletins.schemas import ID_PATTERN
from nguon.bulletins.service import BulletinService
from nguon.dispatch.models import DeliveryStatus
from nguon.dispatch.service import Dispatcher
from nguon.endpoints.windows import EndpointKind
from nguon.identity.access import Access
from nguon.identity.principal import Principal
from nguon.identity.roles import Role
from nguon.kit.schemas import ResponseModel
from nguon.unit_of_work import Session

router = APIRouter(prefix="/api/v1/bulletins", tags=["dispatch"])

OVERSEERS = Access(Role.editor, Role.admin)


class DeliveryRead(ResponseModel):
    endpoint: str
    endpoint_name: str
    endpoint_kind: EndpointKind
    area: str
    revision: int
    status: DeliveryStatus
    detail: str | None
    updated_at: datetime


class DeliveryPage(ResponseModel):
    items: list[DeliveryRead]
    counts: dict[str, int]


@router.get("/{bulletin_id}/deliveries", summary="Where a bulletin goes: one delivery per endpoint")
async def list_deliveries(
    bulletin_id: Annotated[str, Path(pattern=ID_PATTERN)],
    session: Session,
    actor: Annotated[Principal, Depends(OVERSEERS)],
) -> DeliveryPage:
    bulletin = await BulletinService(session).get(actor, bulletin_id)
    rows, counts = await Dispatcher(session).deliveries(bulletin.id)
    return DeliveryPage(
        items=[
            DeliveryRead(
                endpoint=endpoint.code,
                endpoint_name=endpoint.name,
                endpoint_kind=endpoint.kind,
                area=endpoint.area_code,
                revision=delivery.revision,
                status=delivery.status,
                detail=delivery.detail,
                updated_at=delivery.updated_at,
            )
            for delivery, endpoint in rows
        ],
        counts=dict(counts),
    )
