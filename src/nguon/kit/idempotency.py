"""`Idempotency-Key`: a retried POST gets the first answer and creates nothing new.

A retry sent while the first request is still being handled is answered 409 (as the IETF
Idempotency-Key draft and payment APIs do): the client sends it again and gets the first
answer. On PostgreSQL a transaction-scoped advisory lock on the key finds the first in flight;
on SQLite, where writers take turns, the unique key refuses the later of two that raced.
"""

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any

from fastapi import Header
from sqlalchemy import JSON, Integer, String, UniqueConstraint, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from nguon.kit.db import Base, UTCDateTime, insert_new, utcnow
from nguon.kit.errors import Conflict, InvalidInput

HEADER = "Idempotency-Key"
IdempotencyKey = Annotated[
    str | None,
    Header(
        alias=HEADER,
        min_length=1,
        max_length=200,
        description="A retried request with the same key gets the first answer",
    ),
]


class IdempotentRequest(Base):
    """The first answer to a request sent with an `Idempotency-Key`, replayed to its retries."""

    __tablename__ = "idempotent_requests"
    __table_args__ = (UniqueConstraint("principal", "key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    principal: Mapped[str] = mapped_column(String(200))
    key: Mapped[str] = mapped_column(String(200))
    route: Mapped[str] = mapped_column(String(200))
    fingerprint: Mapped[str] = mapped_column(String(64))
    status: Mapped[int] = mapped_column(Integer)
    response: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)


def fingerprint(payload: Any) -> str:
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


class KeyInFlight(Conflict):
    slug = "idempotency-key-in-flight"
    title = "Request with this key in progress"

    def __init__(self, key: str) -> None:
        super().__init__(
            f"A request with the {HEADER} {key!r} is being handled right now; send this one "
            "again in a moment to get its answer."
        )


def _lock_key(principal: str, key: str) -> int:
    """The advisory lock of one caller's key: a signed 64-bit number taken from its hash."""
    digest = hashlib.sha256(f"idempotency\0{principal}\0{key}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


@dataclass(frozen=True, slots=True)
class Replay:
    status: int
    response: dict[str, Any]


class IdempotencyStore:
    """Keys are per caller: two callers may use the same key for different requests."""

    def __init__(self, session: AsyncSession, principal: str, key: str | None, route: str) -> None:
        self.session = session
        self.principal = principal
        self.key = key
        self.route = route
        self._held = False

    async def _hold(self, key: str) -> None:
        """Hold the key until the transaction ends, or refuse while another request does."""
        if self._held or self.session.get_bind().dialect.name != "postgresql":
            return
        held = await self.session.scalar(
            select(func.pg_try_advisory_xact_lock(_lock_key(self.principal, key)))
        )
        if not held:
            raise KeyInFlight(key)
        self._held = True

    async def _stored(self) -> IdempotentRequest | None:
        if self.key is None:
            return None
        await self._hold(self.key)
        return await self.session.scalar(
            select(IdempotentRequest).where(
                IdempotentRequest.principal == self.principal, IdempotentRequest.key == self.key
            )
        )

    async def seen(self) -> bool:
        """Whether this key came before (worth fingerprinting an expensive request for)."""
        return await self._stored() is not None

    async def replay(self, request_fingerprint: str) -> Replay | None:
        stored = await self._stored()
        if stored is None:
            return None
        if (stored.route, stored.fingerprint) != (self.route, request_fingerprint):
            raise InvalidInput(
                f"The {HEADER} {self.key!r} was used for a different request; use a new key "
                "for a new request."
            )
        return Replay(stored.status, stored.response)

    async def remember(
        self, request_fingerprint: str, status: int, response: dict[str, Any]
    ) -> None:
        if self.key is None:
            return
        await self._hold(self.key)
        stored = await self.session.scalar(
            insert_new(self.session, IdempotentRequest, "principal", "key")
            .values(
                principal=self.principal,
                key=self.key,
                route=self.route,
                fingerprint=request_fingerprint,
                status=status,
                response=response,
                created_at=utcnow(),
            )
            .returning(IdempotentRequest.id)
        )
        if stored is None:  # another request with the key was stored since this one looked
            raise KeyInFlight(self.key)
