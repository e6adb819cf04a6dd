"""Audit appends beside other writers: each waits its turn in the database, none is lost, and
the chain never forks."""

import asyncio

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from nguon.audit.models import AuditRecord
from nguon.audit.service import AuditEntry, AuditService, Outcome
from nguon.kit.idempotency import IdempotentRequest


def entry(actor: str) -> AuditEntry:
    return AuditEntry(actor=actor, action="POST /test", outcome=Outcome.rejected, status=422)


async def stored_actors(sessionmaker: async_sessionmaker[AsyncSession]) -> list[str]:
    async with sessionmaker() as session:
        _checked, breaks = await AuditService(session).verify()
        assert breaks == []
        return list(await session.scalars(select(AuditRecord.actor).order_by(AuditRecord.id)))


async def test_a_record_appended_beside_a_writer_waits_for_it_and_both_are_kept(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    """A request that has written appends its record while another (a refused request, with
    nothing else to write) appends its own: neither may hold a lock the other needs while it
    waits for one the other holds."""
    async with sessionmaker() as writer, sessionmaker() as refused:
        writer.add(
            IdempotentRequest(
                principal="user:a", key="k", route="POST /test", fingerprint="f", status=201,
                response={},
            )
        )  # fmt: skip
        await writer.flush()
        refused_append = asyncio.create_task(
            AuditService(refused).append_and_commit(entry("refused"))
        )
        for _ in range(5):  # let the refused request's append begin first
            await asyncio.sleep(0)
        await AuditService(writer).append_and_commit(entry("writer"))
        await refused_append
    assert sorted(await stored_actors(sessionmaker)) == ["refused", "writer"]
