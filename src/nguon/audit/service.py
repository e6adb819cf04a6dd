"""The audit trail: append records in a keyed hash chain, list them, and verify the chain.

Each record's hash is an HMAC-SHA256, under a key derived from the hub's secret, of its content
and the hash before it: whoever can write to the database but does not hold the secret can
neither edit a record nor write a chain that verifies. Checkpoints, keyed too, say how far the
chain reached, so that deleting its newest records is seen as well.
"""

import hashlib
import hmac
import json
from collections import deque
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from nguon.areas.levels import AreaLevel
from nguon.audit.models import AuditCheckpoint, AuditRecord
from nguon.identity.principal import Principal
from nguon.kit.db import lock_for_writing, utcnow
from nguon.kit.errors import Conflict, Forbidden

GENESIS_HASH = "0" * 64
# Appends write a checkpoint every this many records; `nguon audit verify` writes one too.
CHECKPOINT_EVERY = 100
_KEY_INFO = "nguon.audit.key"  # where a session finds the audit key (sessionmaker info)
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
    unkeyed: bool = False  # a plain SHA-256 of the record: before the key, or without it


@dataclass(frozen=True, slots=True)
class AuditFilter:
    actor: str | None = None
    action: str | None = None
    outcome: Outcome | None = None
    since: datetime | None = None
    until: datetime | None = None


def audit_key(secret: str) -> bytes:
    """The chain's own key, derived from the hub's secret (which also signs tokens and hashes
    API keys): a key used for one purpose only."""
    derive = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"nguon audit chain")
    return derive.derive(secret.encode())


def audit_session_info(secret: str) -> dict[str, Any]:
    """What a sessionmaker passes to each session so that its audit records are keyed."""
    return {_KEY_INFO: audit_key(secret)}


def session_audit_key(session: AsyncSession) -> bytes:
    key = session.info.get(_KEY_INFO)
    if not isinstance(key, bytes):
        raise RuntimeError("This session's sessionmaker was made without the audit key.")
    return key


def _canonical(record: AuditRecord) -> bytes:
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
    return canonical.encode()


def record_hash(record: AuditRecord, key: bytes) -> str:
    return hmac.new(key, _canonical(record), hashlib.sha256).hexdigest()


def plain_hash(record: AuditRecord) -> str:
    """The unkeyed SHA-256 the chain used before it was keyed: accepted only by `rekey`."""
    return hashlib.sha256(_canonical(record)).hexdigest()


def checkpoint_mac(checkpoint: AuditCheckpoint, key: bytes) -> str:
    message = (
        f"checkpoint:{checkpoint.record_id}:{checkpoint.record_hash}:{checkpoint.at.isoformat()}"
    )
    return hmac.new(key, message.encode(), hashlib.sha256).hexdigest()


class AuditService:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self.key = session_audit_key(session)

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
        record.hash = record_hash(record, self.key)
        self.session.add(record)
        await self._checkpoint_if_due(record)
        await self.session.commit()
        return record

    async def search_for(
        self, reader: Principal, query: AuditFilter, limit: int, before_id: int | None
    ) -> Sequence[AuditRecord]:
        """What `reader` may see of the trail, newest first."""
        # Console actions and attempts by unknown callers have no area; admins at province
        # level and above see them.
        sees_unscoped = reader.area.level in (AreaLevel.central, AreaLevel.province)
        return await self.search(reader.area.path, sees_unscoped, query, limit, before_id)

    async def verify_for(self, reader: Principal) -> tuple[int, list[AuditBreak]]:
        """`verify`, for administrators at province level or above: the chain is the hub's."""
        if reader.area.level not in (AreaLevel.central, AreaLevel.province):
            raise Forbidden(
                f"{reader.label} administers {reader.area.code} ({reader.area.name}); the audit "
                "chain is the whole hub's, checked by administrators at province level or above."
            )
        return await self.verify()

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

    async def _checkpoint_if_due(self, record: AuditRecord) -> None:
        await self.session.flush()  # gives the record its id
        if record.id % CHECKPOINT_EVERY == 0:
            self._add_checkpoint(record.id, record.hash)

    def _add_checkpoint(self, record_id: int, record_hash: str) -> None:
        checkpoint = AuditCheckpoint(at=utcnow(), record_id=record_id, record_hash=record_hash)
        checkpoint.mac = checkpoint_mac(checkpoint, self.key)
        self.session.add(checkpoint)

    async def awaits_rekey(self, breaks: Sequence[AuditBreak]) -> bool:
        """Whether the only breaks are a chain begun before the hub keyed it: plain-hash
        records that are the chain's first ones, one after another (what `rekey` takes), not
        a sign of tampering."""
        first = await self.session.scalar(select(func.min(AuditRecord.id)))
        ids = sorted(b.record_id for b in breaks)
        return (
            first is not None
            and all(b.unkeyed for b in breaks)
            and ids == list(range(first, first + len(ids)))
        )

    async def checkpoint(self) -> tuple[int, str] | None:
        """Mark the newest record as reached; the caller commits. Its id and hash, None on an
        empty chain."""
        newest = (
            await self.session.execute(
                select(AuditRecord.id, AuditRecord.hash).order_by(AuditRecord.id.desc()).limit(1)
            )
        ).first()
        if newest is None:
            return None
        self._add_checkpoint(newest.id, newest.hash)
        await self.session.flush()
        return int(newest.id), str(newest.hash)

    async def _checkpoints(self) -> Sequence[AuditCheckpoint]:
        result = await self.session.scalars(
            select(AuditCheckpoint).order_by(AuditCheckpoint.record_id, AuditCheckpoint.id)
        )
        return result.all()

    async def verify(self) -> tuple[int, list[AuditBreak]]:
        """Walk the chain; return how many records were checked and where it breaks: records
        edited, deleted or hashed without the key, and checkpoints the chain no longer meets."""
        breaks: list[AuditBreak] = []
        named: dict[int, list[AuditCheckpoint]] = {}
        for checkpoint in await self._checkpoints():
            if not hmac.compare_digest(checkpoint.mac, checkpoint_mac(checkpoint, self.key)):
                breaks.append(
                    AuditBreak(
                        checkpoint.record_id,
                        f"checkpoint #{checkpoint.id} was not written under the hub's key: "
                        "forged or edited",
                    )
                )
            else:
                named.setdefault(checkpoint.record_id, []).append(checkpoint)
        awaited = deque(sorted(named))
        expected_prev = GENESIS_HASH
        checked = 0
        last_id = 0
        async for record in self._in_order():
            checked += 1
            # Checkpoints come in record order: those before this record name deleted ones.
            while awaited and awaited[0] < record.id:
                missing_id = awaited.popleft()
                breaks.append(
                    AuditBreak(
                        missing_id,
                        f"checkpoint #{named.pop(missing_id)[0].id} names this record and it "
                        "is gone: deleted",
                    )
                )
            if awaited and awaited[0] == record.id:
                awaited.popleft()
            if record.prev_hash != expected_prev:
                breaks.append(
                    AuditBreak(
                        record.id,
                        "does not follow the record before it: a record was deleted or edited "
                        "just before this one",
                    )
                )
            if not hmac.compare_digest(record_hash(record, self.key), record.hash):
                breaks.append(self._hash_problem(record))
            for checkpoint in named.pop(record.id, []):
                if checkpoint.record_hash != record.hash:
                    breaks.append(
                        AuditBreak(
                            record.id,
                            f"checkpoint #{checkpoint.id} saw it with another hash: rewritten",
                        )
                    )
            expected_prev = record.hash
            last_id = record.id
        if named:
            newest = max(named)
            breaks.append(
                AuditBreak(
                    newest,
                    f"the chain ends at #{last_id} but checkpoint #{named[newest][0].id} says "
                    f"#{newest} existed: the newest records were deleted",
                )
            )
        return checked, breaks

    @staticmethod
    def _hash_problem(record: AuditRecord) -> AuditBreak:
        if plain_hash(record) == record.hash:
            return AuditBreak(
                record.id,
                "its hash is a plain SHA-256, not the hub's keyed hash: written before the "
                "chain was keyed (`nguon audit rekey`) or recomputed by someone without the key",
                unkeyed=True,
            )
        return AuditBreak(record.id, "its content does not match its hash: edited")

    async def rekey(self) -> int:
        """Rewrite a chain begun before the hub keyed it under the key, once, after an upgrade;
        the caller commits. Refused unless every record verifies, unkeyed ones as plain
        SHA-256, and no unkeyed record follows a keyed one (that is a chain recomputed without
        the key). Returns how many records were rewritten."""
        _checked, breaks = await self.verify()
        plain = [b for b in breaks if b.unkeyed]
        others = [b for b in breaks if not b.unkeyed]
        if others:
            first = others[0]
            raise Conflict(
                f"The audit chain is broken at record {first.record_id} ({first.reason}); "
                "nothing was rewritten.",
            )
        if not plain:
            return 0
        keyed_seen = False
        plain_ids = {b.record_id for b in plain}
        previous = GENESIS_HASH
        async for record in self._in_order():
            if record.id not in plain_ids:
                keyed_seen = True
            elif keyed_seen:
                raise Conflict(
                    f"Record {record.id} has a plain SHA-256 hash after records the hub keyed: "
                    "the chain was recomputed without the key; nothing was rewritten."
                )
            record.prev_hash = previous
            record.hash = record_hash(record, self.key)
            previous = record.hash
        await self.session.execute(delete(AuditCheckpoint))
        await self.session.flush()
        await self.checkpoint()
        return len(plain_ids)
