"""Accounts, machine keys, and turning credentials into a principal."""

import asyncio
import hmac
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from nguon.areas.models import Area
from nguon.areas.service import AreaService
from nguon.identity.credentials import (
    ApiKeyHasher,
    NewApiKey,
    TokenCodec,
    hash_password,
    password_needs_rehash,
    verify_password,
)
from nguon.identity.key_cache import API_KEY_CHANGES, ApiKeyCache
from nguon.identity.models import ApiKey, User
from nguon.identity.principal import AreaScope, Principal
from nguon.identity.repository import ApiKeyRepository, UserRepository
from nguon.identity.roles import Holder, Role, wrong_holder
from nguon.incidents.watch import IncidentWatch
from nguon.kit.changes import changed
from nguon.kit.db import utcnow
from nguon.kit.errors import Conflict, InvalidInput, NotFound, Unauthenticated

USERNAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9._-]{2,63}$")
MIN_PASSWORD_LENGTH = 10
LOCKOUT_THRESHOLD = 5
LOCKOUT_PERIOD = timedelta(minutes=15)


class LoginRefused(Unauthenticated):
    """A failed login; its failure count is kept even though the request fails."""

    commit_changes = True


@dataclass(frozen=True, slots=True)
class UserChanges:
    full_name: str | None = None
    password: str | None = None
    role: Role | None = None
    area: str | None = None
    active: bool | None = None


def check_password(username: str, password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput(f"The password must have at least {MIN_PASSWORD_LENGTH} characters.")
    if username.lower() in password.lower():
        raise InvalidInput("The password must not contain the username.")


class IdentityService:
    def __init__(
        self,
        session: AsyncSession,
        tokens: TokenCodec,
        keys: ApiKeyHasher,
        key_cache: ApiKeyCache | None = None,
    ) -> None:
        self.session = session
        self.key_cache = key_cache
        self.users = UserRepository(session)
        self.api_keys = ApiKeyRepository(session)
        self.areas = AreaService(session)
        self.tokens = tokens
        self.key_hasher = keys

    # --- signing in -------------------------------------------------------------------------

    async def login(self, username: str, password: str) -> tuple[str, Principal]:
        now = utcnow()
        user = await self.users.get_by_username(username)
        if user is not None and user.locked_until is not None and user.locked_until > now:
            await asyncio.to_thread(verify_password, None, password)
            raise LoginRefused(
                "Too many failed sign-ins: the account is locked until "
                f"{user.locked_until.isoformat(timespec='seconds')}."
            )
        # Argon2 takes a CPU for a good part of a second: in a thread, the other requests go on.
        known_hash = user.password_hash if user else None
        if not await asyncio.to_thread(verify_password, known_hash, password) or user is None:
            if user is not None and self._count_failure(user, now):
                # A lock is what a password-guessing run looks like (Đắk Nông 002 Điều 14.8).
                await IncidentWatch(self.session).account_locked(user, now + LOCKOUT_PERIOD)
            raise LoginRefused("Unknown username or wrong password.")
        if not user.active:
            raise LoginRefused("This account is disabled.")
        user.failed_logins = 0
        user.locked_until = None
        if password_needs_rehash(user.password_hash):
            user.password_hash = await asyncio.to_thread(hash_password, password)
        principal = Principal("user", user.id, user.username, user.role, AreaScope.of(user.area))
        return self.tokens.issue(user.id, user.token_version), principal

    @staticmethod
    def _count_failure(user: User, now: datetime) -> bool:
        """Count a failed sign-in; returns whether it locked the account."""
        user.failed_logins += 1
        if user.failed_logins < LOCKOUT_THRESHOLD:
            return False
        user.locked_until = now + LOCKOUT_PERIOD
        user.failed_logins = 0
        return True

    async def principal_from_token(self, token: str) -> Principal:
        claims = self.tokens.read(token)
        user = await self.users.get_with_area(claims.user_id)
        if user is None or not user.active or user.token_version != claims.token_version:
            raise Unauthenticated("The access token is no longer valid; sign in again.")
        return Principal("user", user.id, user.username, user.role, AreaScope.of(user.area))

    def renewed_token(self, token: str) -> str | None:
        """A new token for the holder of a valid `token` once half its life has gone, so that
        a person at work keeps their session; None while it is younger."""
        claims = self.tokens.read(token)
        if utcnow() - claims.issued_at < timedelta(seconds=self.tokens.ttl_seconds / 2):
            return None
        return self.tokens.issue(claims.user_id, claims.token_version)

    async def principal_from_api_key(self, key: str) -> Principal:
        digest = self.key_hasher.digest(key)
        if self.key_cache is not None and (known := self.key_cache.get(digest)) is not None:
            return known
        epoch = self.key_cache.epoch if self.key_cache is not None else 0
        prefix = self.key_hasher.prefix_of(key)
        stored = await self.api_keys.get_by_prefix(prefix) if prefix else None
        if stored is None or not hmac.compare_digest(digest, stored.key_hash):
            raise Unauthenticated("The API key is not valid.")
        if stored.revoked_at is not None:
            raise Unauthenticated("The API key has been revoked.")
        principal = Principal(
            "key",
            stored.id,
            stored.name,
            stored.role,
            AreaScope.of(stored.area),
            endpoint_id=stored.endpoint_id,
        )
        if self.key_cache is not None:
            self.key_cache.put(digest, principal, epoch)
        return principal

    # --- accounts ---------------------------------------------------------------------------

    async def create_user(
        self,
        actor: Principal,
        username: str,
        password: str,
        role: Role,
        area_code: str,
        full_name: str | None = None,
    ) -> User:
        username = username.lower()
        if not USERNAME_PATTERN.match(username):
            raise InvalidInput(
                "The username takes 3 to 64 lower-case letters, digits, '.', '_' or '-', "
                "starting with a letter or digit."
            )
        if refusal := wrong_holder(role, Holder.user):
            raise InvalidInput(refusal)
        check_password(username, password)
        area = await self.areas.get_by_code(area_code)
        actor.require_within(area, "accounts")
        if await self.users.get_by_username(username) is not None:
            raise Conflict(f"The username {username!r} is taken.")
        user = User(
            username=username,
            full_name=full_name,
            password_hash=await asyncio.to_thread(hash_password, password),
            role=role,
            area_id=area.id,
            active=True,
            token_version=1,
            failed_logins=0,
        )
        await self.users.add(user)
        user.area = area
        return user

    async def list_users(self, actor: Principal, limit: int, offset: int) -> Sequence[User]:
        return await self.users.list_in_subtree(actor.area.path, limit, offset)

    async def get_user(self, actor: Principal, username: str) -> User:
        user = await self.users.get_by_username(username)
        if user is None:
            raise NotFound(f"No account is named {username!r}.")
        actor.require_within(user.area, "accounts")
        return user

    async def update_user(self, actor: Principal, username: str, changes: UserChanges) -> User:
        user = await self.get_user(actor, username)
        if user.id == actor.id and actor.kind == "user" and changes.active is False:
            raise InvalidInput("You cannot disable your own account.")
        revoke_tokens = False
        if changes.full_name is not None:
            user.full_name = changes.full_name
        if changes.password is not None:
            check_password(user.username, changes.password)
            user.password_hash = await asyncio.to_thread(hash_password, changes.password)
            user.failed_logins = 0
            user.locked_until = None
            revoke_tokens = True
        if changes.role is not None and changes.role != user.role:
            if refusal := wrong_holder(changes.role, Holder.user):
                raise InvalidInput(refusal)
            user.role = changes.role
            revoke_tokens = True
        if changes.area is not None and changes.area != user.area.code:
            area = await self.areas.get_by_code(changes.area)
            actor.require_within(area, "accounts")
            user.area_id = area.id
            user.area = area
            revoke_tokens = True
        if changes.active is not None and changes.active != user.active:
            user.active = changes.active
            revoke_tokens = True
        if revoke_tokens:
            user.token_version += 1
        return user

    # --- machine keys -----------------------------------------------------------------------

    async def create_key(
        self, actor: Principal, name: str, role: Role, area_code: str
    ) -> tuple[ApiKey, NewApiKey]:
        if not name.strip():
            raise InvalidInput("Name the key after the system that will use it.")
        if refusal := wrong_holder(role, Holder.api_key):
            raise InvalidInput(refusal)
        area = await self.areas.get_by_code(area_code)
        actor.require_within(area, "API keys")
        return await self._issue(actor, name, role, area)

    async def issue_endpoint_key(
        self, actor: Principal, endpoint_id: int, name: str, area: Area
    ) -> tuple[ApiKey, NewApiKey]:
        """The key an endpoint authenticates with; any earlier key of it stops working."""
        for earlier in await self.api_keys.of_endpoint(endpoint_id):
            if earlier.revoked_at is None:
                earlier.revoked_at = utcnow()
                changed(self.session, API_KEY_CHANGES, [earlier.id])
        return await self._issue(actor, name, Role.endpoint, area, endpoint_id)

    async def _issue(
        self, actor: Principal, name: str, role: Role, area: Area, endpoint_id: int | None = None
    ) -> tuple[ApiKey, NewApiKey]:
        new_key = self.key_hasher.new_key()
        stored = ApiKey(
            name=name,
            prefix=new_key.prefix,
            key_hash=self.key_hasher.digest(new_key.key),
            role=role,
            area_id=area.id,
            endpoint_id=endpoint_id,
            created_by=actor.label,
        )
        await self.api_keys.add(stored)
        stored.area = area
        return stored, new_key

    async def list_keys(self, actor: Principal, limit: int, offset: int) -> Sequence[ApiKey]:
        return await self.api_keys.list_in_subtree(actor.area.path, limit, offset)

    async def revoke_key(self, actor: Principal, key_id: int) -> ApiKey:
        stored = await self.api_keys.get_with_area(key_id)
        if stored is None:
            raise NotFound(f"No API key has the id {key_id}.")
        actor.require_within(stored.area, "API keys")
        if stored.revoked_at is None:
            stored.revoked_at = utcnow()
            changed(self.session, API_KEY_CHANGES, [stored.id])
        return stored
