"""`Idempotency-Key`: a retried POST gets the first answer and creates nothing new."""

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any

from fastapi import Header
from sqlalchemy import JSON, Integer, String, UniqueConstraint, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from nguon.kit.db import Base, UTCDateTime, utcnow
from nguon.kit.errors import InvalidInput

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

    async def _stored(self) -> IdempotentRequest | None:
        if self.key is None:
            return None
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
        self.session.add(
            IdempotentRequest(
                principal=self.principal,
                key=self.key,
                route=self.route,
                fingerprint=request_fingerprint,
                status=status,
                response=response,
            )
        )
        await self.session.flush()
