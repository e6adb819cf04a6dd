"""Rows that tell another system something, sent by a worker that claims the due ones.

Incident notices and report reminders go to the department's webhook (`nguon.incidents.
notifier`), bulletins and daily reports up to the central system (`nguon.uplink.sender`): each
kind keeps its own table with the same columns, and one `NoticeSender` sends them all.
"""

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, Generic, TypeVar

import httpx
import structlog
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from nguon.kit.background import PassLoop
from nguon.kit.db import utcnow
from nguon.kit.outbound import Attempt, post_signed

log = structlog.get_logger()

Row = TypeVar("Row")


class NoticeStatus(StrEnum):
    pending = "pending"  # to be sent, or sent and to be retried
    sent = "sent"  # the other system answered 2xx
    failed = "failed"  # refused for good (a 4xx that means "never")


class NoticeRows(Generic[Row]):
    """The queries of the sender over one notice table."""

    def __init__(self, session: AsyncSession, model: type[Row]) -> None:
        self.session = session
        # A mapped class with the columns id, status, next_attempt_at (and attempts, payload,
        # last_error, sent_at that `settle` sets).
        self.model: Any = model

    async def claim_due(self, now: datetime, limit: int, lease_until: datetime) -> Sequence[Row]:
        """Take up to `limit` due notices, oldest first, held until `lease_until` (other
        senders skip them; they fall due again if this one dies)."""
        model = self.model
        result = await self.session.scalars(
            select(model)
            .where(model.status == NoticeStatus.pending, model.next_attempt_at <= now)
            .order_by(model.next_attempt_at, model.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        claimed: Sequence[Any] = result.all()
        if claimed:
            await self.reschedule([notice.id for notice in claimed], lease_until)
        return claimed

    async def reschedule(self, notice_ids: Sequence[int], due: datetime) -> None:
        if notice_ids:
            await self.session.execute(
                update(self.model).where(self.model.id.in_(notice_ids)).values(next_attempt_at=due)
            )

    async def settle(self, notice_id: int, **values: Any) -> None:
        await self.session.execute(
            update(self.model).where(self.model.id == notice_id).values(**values)
        )


@dataclass(frozen=True, slots=True)
class Outgoing:
    """One notice as it goes on the wire."""

    url: str
    body: bytes
    headers: dict[str, str]
    name: str  # how the logs and the other system know it: the same on every retry


@dataclass(frozen=True, slots=True)
class Retries:
    timeout_seconds: float
    first_seconds: float  # the first wait, doubling with each attempt
    max_seconds: float


class NoticeSender(ABC, Generic[Row]):
    """Posts the due rows of a notice table to another system, signed, one at a time and in
    order, and settles each by the answer: a 2xx takes it, a refusal that means "never" fails
    it, anything else (a silence too) retries it after a wait that doubles up to a cap. While
    the other system is away, the rest of the pass waits with the first that failed rather
    than each wait out its own timeout."""

    # How many rows one pass claims.
    BATCH = 20
    # How often an idle sender looks for rows no wake-up announced (retries, rows written by
    # other processes).
    POLL_SECONDS = 1.0

    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        secret: str,
        retries: Retries,
        loop: PassLoop,
        statuses: type[StrEnum],
        log_event: str,
    ) -> None:
        self.sessionmaker = sessionmaker
        self.secret = secret
        self.retries = retries
        self.loop = loop
        # The table's own status enum, whose members are named as NoticeStatus's.
        self.statuses = statuses
        self.log_event = log_event
        self.lease = timedelta(seconds=retries.timeout_seconds * (self.BATCH + 1))
        self.client = httpx.AsyncClient(follow_redirects=False)

    @abstractmethod
    def rows(self, session: AsyncSession) -> NoticeRows[Row]: ...

    @abstractmethod
    def outgoing(self, row: Row) -> Outgoing: ...

    def gives_up(self, attempt: Attempt) -> bool:
        """Whether a refusal is final; some kinds retry refusals an operator puts right."""
        return attempt.refused

    async def keep_attempt(self, session: AsyncSession, row: Row, attempt: Attempt) -> None:
        """Keep a record of the attempt beside the row, for kinds that show their attempts."""

    async def run(self) -> None:
        """Send for as long as the task lives."""
        try:
            await self.loop.run(self.full_pass)
        finally:
            await self.client.aclose()

    async def full_pass(self) -> bool:
        """One pass; whether more may be due at once."""
        sent, claimed = await self._pass()
        return claimed == self.BATCH and sent == claimed

    async def send_due(self) -> int:
        """One pass over the due rows; returns how many were posted."""
        sent, _claimed = await self._pass()
        return sent

    async def _pass(self) -> tuple[int, int]:
        now = utcnow()
        async with self.sessionmaker() as session:
            claimed: Sequence[Any] = await self.rows(session).claim_due(
                now, self.BATCH, now + self.lease
            )
            await session.commit()
        for number, row in enumerate(claimed):
            outgoing = self.outgoing(row)
            attempt = await post_signed(
                self.client,
                outgoing.url,
                outgoing.body,
                self.secret,
                outgoing.headers,
                self.retries.timeout_seconds,
            )
            retry_at = await self._record(row, outgoing, attempt)
            if retry_at is not None:
                async with self.sessionmaker() as session:
                    rest = [later.id for later in claimed[number + 1 :]]
                    await self.rows(session).reschedule(rest, retry_at)
                    await session.commit()
                return number + 1, len(claimed)
        return len(claimed), len(claimed)

    async def _record(self, row: Any, outgoing: Outgoing, attempt: Attempt) -> datetime | None:
        """Settle the row by what came of the attempt; returns when it is retried, if it is."""
        attempts = row.attempts + 1
        if attempt.accepted:
            status, due = self.statuses("sent"), attempt.at
        elif self.gives_up(attempt):
            status, due = self.statuses("failed"), attempt.at
        else:
            status = self.statuses("pending")
            due = attempt.retry_at(attempts, self.retries.first_seconds, self.retries.max_seconds)
        async with self.sessionmaker() as session:
            await self.keep_attempt(session, row, attempt)
            await self.rows(session).settle(
                row.id,
                status=status,
                attempts=attempts,
                next_attempt_at=due,
                last_error=attempt.error,
                sent_at=attempt.at if attempt.accepted else None,
            )
            await session.commit()
        log.info(
            self.log_event,
            notice=outgoing.name,
            status=status.value,
            attempts=attempts,
            error=attempt.error,
        )
        return due if status == NoticeStatus.pending else None
