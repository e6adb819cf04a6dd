"""The audit trail: append records in a hash chain, list them, and verify the chain."""

import hashlib
import json
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from nguon.audit.models import AuditRecord
from nguon.kit.db import lock_for_writing, utcnow

GENESIS_HASH = "0" * 64
# The lock that serialises appends, so that the chain never forks (see lock_for_writing).
_APPEND_LOCK_KEY = 0x6E67756F6E  # "nguon"


class Outcome(StrEnum):
    success = "success"
    denied = "denied"  # 401, 403
    rejected = "rejected"  # any other 4xx
    error = "error"  # 5xx

    @classmethod
    def of_status(cls, status: int) -> "Outcome":
        if status < 400:
            return cls.success
        if status in (401, 403):
            return cls.denied
        return cls.rejected if status < 500 else cls.error


@dataclass(frozen=True, slots=True)
class AuditEntry:
    actor: str
    action: str
    outcome: Outcome
    target: str | None = None
    status: int | None = None
    request_id: str | None = None
    client: str | None = None
    actor_area_path: str | None = None


@dataclass(frozen=True, slots=True)
class AuditBreak:
    record_id: int
    reason: str


@dataclass(frozen=True, slots=True)
class AuditFilter:
    actor: str | None = None
    action: str | None = None
    outcome: Outcome | None = None
    since: datetime | None = None
    until: datetime | None = None


def record_hash(record: AuditRecord) -> str:
    fields = {
        "at": record.at.isoformat(),
        "actor": record.actor,
        "actor_area_path": record.actor_area_path,
        "action": record.action,
        "target": record.target,
        "outcome": record.outcome,
        "status": record.status,
        "request_id": record.request_id,
        "client": record.client,
        "prev_hash": record.prev_hash,
    }
    canonical = json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


class AuditService:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def append_and_commit(self, entry: AuditEntry) -> AuditRecord:
        """Add the record to the session's transaction and commit both together.

        The only lock taken is the database's, as the transaction's last: its holder has its
        connection and its other writes already, and waits for nothing but the commit. (An
        in-process lock taken first deadlocked: its holder waited for a pool connection, or
        SQLite's write lock, held by a request that waited for the lock.)"""
        await lock_for_writing(self.session, _APPEND_LOCK_KEY)
        last = await self.session.scalar(
            select(AuditRecord.hash).order_by(AuditRecord.id.desc()).limit(1)
        )
        record = AuditRecord(
            at=utcnow(),
            actor=entry.actor,
            actor_area_path=entry.actor_area_path,
            action=entry.action,
            target=entry.target,
            outcome=entry.outcome.value,
            status=entry.status,
            request_id=entry.request_id,
            client=entry.client,
            prev_hash=last or GENESIS_HASH,
        )
        record.hash = record_hash(record)
        self.session.add(record)
        await self.session.commit()
        return record

    async def search(
        self,
        area_path: str,
        sees_unscoped: bool,
        query: AuditFilter,
        limit: int,
        before_id: int | None,
    ) -> Sequence[AuditRecord]:
        """Newest first. Records of actors outside `area_path` are left out; records with no
        actor area (failed sign-ins of unknown users) only when `sees_unscoped`."""
        in_scope = AuditRecord.actor_area_path.startswith(area_path, autoescape=True)
        statement = select(AuditRecord).where(
            in_scope | AuditRecord.actor_area_path.is_(None) if sees_unscoped else in_scope
        )
        if query.actor:
            statement = statement.where(AuditRecord.actor == query.actor)
        if query.action:
            statement = statement.where(AuditRecord.action.contains(query.action, autoescape=True))
        if query.outcome:
            statement = statement.where(AuditRecord.outcome == query.outcome.value)
        if query.since:
            statement = statement.where(AuditRecord.at >= query.since)
        if query.until:
            statement = statement.where(AuditRecord.at < query.until)
        if before_id is not None:
            statement = statement.where(AuditRecord.id < before_id)
        result = await self.session.scalars(statement.order_by(AuditRecord.id.desc()).limit(limit))
        return result.all()

    async def _in_order(self, batch: int = 1000) -> AsyncIterator[AuditRecord]:
        after = 0
        while True:
            rows = (
                await self.session.scalars(
                    select(AuditRecord)
                    .where(AuditRecord.id > after)
                    .order_by(AuditRecord.id)
                    .limit(batch)
                )
            ).all()
            if not rows:
                return
            for row in rows:
                yield row
            after = rows[-1].id

    async def verify(self) -> tuple[int, list[AuditBreak]]:
        """Walk the chain; return how many records were checked and where it breaks."""
        breaks: list[AuditBreak] = []
        expected_prev = GENESIS_HASH
        checked = 0
        async for record in self._in_order():
            checked += 1
            if record.prev_hash != expected_prev:
                breaks.append(
                    AuditBreak(
                        record.id,
                        "does not follow the record before it: a record was deleted or edited "
                        "just before this one",
                    )
                )
            if record_hash(record) != record.hash:
                breaks.append(AuditBreak(record.id, "its content does not match its hash: edited"))
            expected_prev = record.hash
        return checked, breaks
