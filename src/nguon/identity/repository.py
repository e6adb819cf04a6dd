from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import joinedload

from nguon.areas.models import Area
from nguon.identity.models import ApiKey, User


class UserRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get_with_area(self, user_id: int) -> User | None:
        result = await self.session.scalars(
            select(User).options(joinedload(User.area)).where(User.id == user_id)
        )
        return result.first()

    async def get_by_username(self, username: str) -> User | None:
        result = await self.session.scalars(
            select(User)
            .options(joinedload(User.area))
            .where(func.lower(User.username) == username.lower())
        )
        return result.first()

    async def list_in_subtree(self, area_path: str, limit: int, offset: int) -> Sequence[User]:
        result = await self.session.scalars(
            select(User)
            .join(User.area)
            .options(joinedload(User.area))
            .where(Area.path.startswith(area_path, autoescape=True))
            .order_by(User.username)
            .limit(limit)
            .offset(offset)
        )
        return result.all()

    async def list_in_area(self, area_id: int) -> Sequence[User]:
        result = await self.session.scalars(
            select(User).where(User.area_id == area_id).order_by(User.role, User.username)
        )
        return result.all()

    async def add(self, user: User) -> User:
        self.session.add(user)
        await self.session.flush()
        return user


class ApiKeyRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get_with_area(self, key_id: int) -> ApiKey | None:
        result = await self.session.scalars(
            select(ApiKey).options(joinedload(ApiKey.area)).where(ApiKey.id == key_id)
        )
        return result.first()

    async def get_by_prefix(self, prefix: str) -> ApiKey | None:
        result = await self.session.scalars(
            select(ApiKey).options(joinedload(ApiKey.area)).where(ApiKey.prefix == prefix)
        )
        return result.first()

    async def of_endpoint(self, endpoint_id: int) -> Sequence[ApiKey]:
        result = await self.session.scalars(select(ApiKey).where(ApiKey.endpoint_id == endpoint_id))
        return result.all()

    async def list_in_subtree(self, area_path: str, limit: int, offset: int) -> Sequence[ApiKey]:
        result = await self.session.scalars(
            select(ApiKey)
            .join(ApiKey.area)
            .options(joinedload(ApiKey.area))
            .where(Area.path.startswith(area_path, autoescape=True))
            .order_by(ApiKey.id)
            .limit(limit)
            .offset(offset)
        )
        return result.all()

    async def add(self, key: ApiKey) -> ApiKey:
        self.session.add(key)
        await self.session.flush()
        return key

    async def revoked_since(self, since: datetime) -> Sequence[int]:
        result = await self.session.scalars(select(ApiKey.id).where(ApiKey.revoked_at >= since))
        return result.all()
