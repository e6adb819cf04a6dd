"""The dispatcher: which endpoints a bulletin on air reaches, one delivery each."""

from collections import Counter
from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from nguon.areas.repository import AreaRepository
from nguon.bulletins.enums import BulletinKind
from nguon.bulletins.models import Bulletin
from nguon.dispatch.models import Delivery, DeliveryStatus
from nguon.dispatch.repository import DeliveryRepository
from nguon.endpoints.models import Endpoint
from nguon.endpoints.windows import EndpointKind

# Radio plays audio and reads text aloud; displays show text, pictures and video (Điều 7).
PLAYED_BY: dict[BulletinKind, set[EndpointKind]] = {
    BulletinKind.text: {EndpointKind.radio, EndpointKind.display},
    BulletinKind.audio: {EndpointKind.radio},
    BulletinKind.image: {EndpointKind.display},
    BulletinKind.infographic: {EndpointKind.display},
    BulletinKind.video: {EndpointKind.display},
}
ENDED = frozenset({DeliveryStatus.revoked, DeliveryStatus.expired})


def speaks(endpoint: Endpoint, language: str) -> bool:
    """Whether the endpoint plays the language (by primary subtag: `vi` serves `vi-VN`)."""
    wanted = language.split("-", 1)[0].lower()
    return any(own.split("-", 1)[0].lower() == wanted for own in endpoint.languages)


class Dispatcher:
    def __init__(self, session: AsyncSession) -> None:
        self.repository = DeliveryRepository(session)
        self.areas = AreaRepository(session)
        self.session = session

    async def dispatch(self, bulletin: Bulletin) -> int:
        """Record a delivery of the bulletin's on-air revision to every endpoint it reaches,
        idempotently; endpoints no longer reached have theirs revoked. Returns how many."""
        area_paths: list[str] = []
        endpoint_codes: list[str] = []
        for code in bulletin.targets:
            area = await self.areas.find_by_code(code, None)
            if area is not None:
                area_paths.append(area.path)
            else:
                endpoint_codes.append(code)
        reachable = await self.repository.reachable_endpoints(
            area_paths, endpoint_codes, PLAYED_BY[bulletin.kind]
        )
        wanted = {endpoint.id for endpoint in reachable if speaks(endpoint, bulletin.language)}
        existing = {d.endpoint_id: d for d in await self.repository.of_bulletin(bulletin.id)}
        revision = bulletin.on_air_revision or bulletin.revision
        self.repository.add_all(
            [
                Delivery(
                    bulletin_id=bulletin.id,
                    endpoint_id=endpoint_id,
                    revision=revision,
                    status=DeliveryStatus.pending,
                )
                for endpoint_id in wanted - set(existing)
            ]
        )
        for endpoint_id, delivery in existing.items():
            if endpoint_id in wanted:
                # A new revision must be fetched again, even where the old one was played.
                if delivery.revision != revision or delivery.status in ENDED:
                    delivery.revision = revision
                    delivery.status = DeliveryStatus.pending
                    delivery.detail = None
            elif delivery.status not in ENDED:
                delivery.status = DeliveryStatus.revoked
                delivery.detail = "no longer targeted by the bulletin"
        await self.session.flush()
        return len(wanted)

    async def withdraw(self, bulletin_id: str, status: DeliveryStatus) -> None:
        await self.repository.close_all(bulletin_id, status)

    async def deliveries(
        self, bulletin_id: str
    ) -> tuple[Sequence[tuple[Delivery, Endpoint]], Counter[str]]:
        rows = await self.repository.with_endpoints(bulletin_id)
        return rows, Counter(delivery.status.value for delivery, _endpoint in rows)
