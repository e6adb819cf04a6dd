"""A commune's page: the unit, where it sits, and who acts for it."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from nguon.areas.levels import AreaLevel
from nguon.areas.models import Area
from nguon.areas.service import AreaService
from nguon.bulletins.enums import BulletinKind, BulletinStatus, Priority
from nguon.dispatch.order import in_play_order
from nguon.dispatch.repository import DeliveryRepository
from nguon.endpoints.windows import EndpointKind
from nguon.identity.models import User
from nguon.identity.principal import Principal
from nguon.identity.repository import UserRepository
from nguon.kit.errors import NotFound


@dataclass(frozen=True, slots=True)
class QueueItem:
    bulletin_id: str
    title: str
    kind: BulletinKind
    language: str
    priority: Priority
    level: AreaLevel
    origin_area: str
    status: BulletinStatus
    slot: datetime | None
    published_at: datetime

    @property
    def section(self) -> str:
        """Điều 8: emergencies play at once, priority items in order, normal ones are offered."""
        return {
            Priority.emergency: "emergency",
            Priority.priority: "priority",
            Priority.normal: "available",
        }[self.priority]


@dataclass(frozen=True, slots=True)
class CommuneProfile:
    area: Area
    ancestors: Sequence[Area]
    staff: Sequence[User]


class CommuneService:
    def __init__(self, session: AsyncSession) -> None:
        self.areas = AreaService(session)
        self.users = UserRepository(session)
        self.deliveries = DeliveryRepository(session)

    async def profile(self, actor: Principal, code: str) -> CommuneProfile:
        area, ancestors = await self._commune(actor, code)
        staff = await self.users.list_in_area(area.id)
        return CommuneProfile(area, ancestors, staff)

    async def radio_queue(self, actor: Principal, code: str) -> list[QueueItem]:
        """What the commune's radio has on air, in the regulation's order of play."""
        area, _ancestors = await self._commune(actor, code)
        on_air = await self.deliveries.on_air_in(area.id, EndpointKind.radio)
        return in_play_order(
            QueueItem(
                bulletin_id=bulletin.id,
                title=bulletin.title,
                kind=bulletin.kind,
                language=bulletin.language,
                priority=bulletin.priority,
                level=bulletin.level,
                origin_area=bulletin.origin_area_code,
                status=bulletin.status,
                slot=None,
                published_at=approved_at,
            )
            for bulletin, approved_at in on_air
        )

    async def _commune(self, actor: Principal, code: str) -> tuple[Area, Sequence[Area]]:
        area, ancestors, _children = await self.areas.describe(code, None)
        if area.level != AreaLevel.commune:
            raise NotFound(f"{code} ({area.name}) is a {area.level}, not a commune.")
        actor.require_within(area, "the commune")
        return area, ancestors
