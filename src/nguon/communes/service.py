"""A commune's page: the unit, where it sits, and who acts for it."""

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from nguon.areas.levels import AreaLevel
from nguon.areas.models import Area
from nguon.areas.service import AreaService
from nguon.identity.models import User
from nguon.identity.principal import Principal
from nguon.identity.repository import UserRepository
from nguon.kit.errors import NotFound


@dataclass(frozen=True, slots=True)
class CommuneProfile:
    area: Area
    ancestors: Sequence[Area]
    staff: Sequence[User]


class CommuneService:
    def __init__(self, session: AsyncSession) -> None:
        self.areas = AreaService(session)
        self.users = UserRepository(session)

    async def profile(self, actor: Principal, code: str) -> CommuneProfile:
        area, ancestors, _children = await self.areas.describe(code, None)
        if area.level != AreaLevel.commune:
            raise NotFound(f"{code} ({area.name}) is a {area.level}, not a commune.")
        actor.require_within(area, "the commune")
        staff = await self.users.list_in_area(area.id)
        return CommuneProfile(area, ancestors, staff)
