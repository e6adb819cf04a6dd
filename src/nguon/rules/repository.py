from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from nguon.areas.levels import AreaLevel
from nguon.areas.models import Area
from nguon.endpoints.windows import EndpointProfile
from nguon.rules.models import BroadcastRule


class RuleRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def of_province(self, province_code: str) -> Sequence[BroadcastRule]:
        result = await self.session.scalars(
            select(BroadcastRule).where(BroadcastRule.province_code == province_code)
        )
        return result.all()

    async def get(self, province_code: str, profile: EndpointProfile) -> BroadcastRule | None:
        result = await self.session.scalars(
            select(BroadcastRule).where(
                BroadcastRule.province_code == province_code, BroadcastRule.profile == profile
            )
        )
        return result.one_or_none()

    async def add(self, rule: BroadcastRule) -> None:
        self.session.add(rule)
        await self.session.flush()

    async def by_province_path(self) -> Sequence[tuple[str, BroadcastRule]]:
        """Every rule with the path of each province unit holding its code, so that an
        endpoint's province is a prefix of its own path (retired units included)."""
        result = await self.session.execute(
            select(Area.path, BroadcastRule).join(
                Area,
                (Area.code == BroadcastRule.province_code) & (Area.level == AreaLevel.province),
            )
        )
        return [(path, rule) for path, rule in result.all()]
