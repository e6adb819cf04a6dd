from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import ColumnElement, and_, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from nguon.bulletins.enums import ON_AIR
from nguon.bulletins.models import Bulletin, BulletinRevision
from nguon.dispatch.models import Delivery, DeliveryStatus
from nguon.endpoints.models import Endpoint
from nguon.endpoints.windows import EndpointKind


class DeliveryRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def reachable_endpoints(
        self, area_paths: Sequence[str], endpoint_codes: Sequence[str], kinds: set[EndpointKind]
    ) -> Sequence[Endpoint]:
        """Enabled endpoints of the given kinds in any of the areas, or named directly."""
        reach: list[ColumnElement[bool]] = [
            Endpoint.area_path.startswith(path, autoescape=True) for path in area_paths
        ]
        if endpoint_codes:
            reach.append(Endpoint.code.in_(endpoint_codes))
        if not reach:
            return []
        result = await self.session.scalars(
            select(Endpoint).where(Endpoint.enabled, Endpoint.kind.in_(kinds), or_(*reach))
        )
        return result.all()

    async def of_bulletin(self, bulletin_id: str) -> Sequence[Delivery]:
        result = await self.session.scalars(
            select(Delivery).where(Delivery.bulletin_id == bulletin_id)
        )
        return result.all()

    async def with_endpoints(self, bulletin_id: str) -> Sequence[tuple[Delivery, Endpoint]]:
        result = await self.session.execute(
            select(Delivery, Endpoint)
            .join(Endpoint, Endpoint.id == Delivery.endpoint_id)
            .where(Delivery.bulletin_id == bulletin_id)
            .order_by(Endpoint.code)
        )
        return [(delivery, endpoint) for delivery, endpoint in result.all()]

    async def on_air_in(
        self, area_id: int, kind: EndpointKind
    ) -> Sequence[tuple[Bulletin, datetime]]:
        """Bulletins on air with a live delivery to an endpoint of this kind in this area, each
        with the time its on-air revision was approved."""
        delivered = (
            select(Delivery.bulletin_id)
            .join(Endpoint, Endpoint.id == Delivery.endpoint_id)
            .where(
                Endpoint.area_id == area_id,
                Endpoint.kind == kind,
                Delivery.status.not_in([DeliveryStatus.revoked, DeliveryStatus.expired]),
            )
        )
        result = await self.session.execute(
            select(Bulletin, BulletinRevision.approved_at)
            .join(
                BulletinRevision,
                and_(
                    BulletinRevision.bulletin_id == Bulletin.id,
                    BulletinRevision.number == Bulletin.on_air_revision,
                ),
            )
            .where(Bulletin.id.in_(delivered), Bulletin.status.in_(ON_AIR))
        )
        return [(bulletin, approved_at) for bulletin, approved_at in result.all()]

    def add_all(self, deliveries: Sequence[Delivery]) -> None:
        self.session.add_all(deliveries)

    async def close_all(self, bulletin_id: str, status: DeliveryStatus) -> None:
        """Withdraw every delivery of a bulletin that has not ended otherwise."""
        await self.session.execute(
            update(Delivery)
            .where(
                Delivery.bulletin_id == bulletin_id,
                Delivery.status.not_in([DeliveryStatus.revoked, DeliveryStatus.expired]),
            )
            .values(status=status)
        )
