"""The audit chain is keyed and anchored: nobody without the hub's secret can rewrite it, and
cutting off its newest records is reported too."""

from httpx import AsyncClient
from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from nguon.areas.sources import AreaRecord
from nguon.audit.models import AuditCheckpoint, AuditRecord
from nguon.audit.service import (
    CHECKPOINT_EVERY,
    GENESIS_HASH,
    AuditEntry,
    AuditService,
    Outcome,
    plain_hash,
)
from nguon.identity.roles import Role
from tests.audit.test_audit import create_viewers, records
from tests.commands import nguon
from tests.conftest import AN_GIANG, MakeUser, communes_of


async def rewrite_without_the_key(sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    """What someone with write access to the database but not the secret can do: edit a
    record and recompute every hash after it as the chain used to be hashed."""
    async with sessionmaker() as session:
        trail = (await session.scalars(select(AuditRecord).order_by(AuditRecord.id))).all()
        trail[0].actor = "user:someone-else"
        previous = GENESIS_HASH
        for record in trail:
            record.prev_hash = previous
            record.hash = previous = plain_hash(record)
        await session.execute(delete(AuditCheckpoint))
        await session.commit()


async def test_a_fresh_chain_verifies_and_is_checkpointed(
    client: AsyncClient, make_user: MakeUser, database_url: str
) -> None:
    admin = await make_user("fresh.admin", Role.admin, AN_GIANG)
    await create_viewers(client, admin, ("kkk", "lll"))
    answer = await client.get("/api/v1/audit/verify", headers=admin)
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"intact": True, "checked": 3, "breaks": []}
    intact = nguon(database_url, "audit", "verify")
    assert intact.returncode == 0, intact.stderr
    assert "audit chain intact: 3 records, checkpoint at #3" in intact.stdout


async def test_deleting_the_newest_records_is_detected(
    client: AsyncClient,
    make_user: MakeUser,
    sessionmaker: async_sessionmaker[AsyncSession],
    database_url: str,
) -> None:
    admin = await make_user("tail.admin", Role.admin, AN_GIANG)
    await create_viewers(client, admin, ("mmm", "nnn", "ooo"))
    assert nguon(database_url, "audit", "verify").returncode == 0  # checkpoint at #4
    await create_viewers(client, admin, ("ppp",))
    newest = (await records(sessionmaker))[-1].id
    async with sessionmaker() as session:
        await session.execute(delete(AuditRecord).where(AuditRecord.id >= newest - 2))
        await session.commit()
    broken = nguon(database_url, "audit", "verify")
    assert broken.returncode == 1
    assert (
        f"the chain ends at #{newest - 3} but checkpoint #1 says #{newest - 1} existed: "
        "the newest records were deleted"
    ) in broken.stderr
    answer = await client.get("/api/v1/audit/verify", headers=admin)
    assert answer.json()["intact"] is False


async def test_appends_leave_checkpoints_so_a_cut_tail_shows_without_a_verify(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    entry = AuditEntry(actor="system:test", action="tick", outcome=Outcome.success)
    for _ in range(CHECKPOINT_EVERY + 2):
        async with sessionmaker() as session:
            await AuditService(session).append_and_commit(entry)
    async with sessionmaker() as session:
        marks = (await session.scalars(select(AuditCheckpoint.record_id))).all()
        assert marks == [CHECKPOINT_EVERY]
        await session.execute(delete(AuditRecord).where(AuditRecord.id >= CHECKPOINT_EVERY - 1))
        await session.commit()
    async with sessionmaker() as session:
        checked, breaks = await AuditService(session).verify()
    assert checked == CHECKPOINT_EVERY - 2
    assert [b.record_id for b in breaks] == [CHECKPOINT_EVERY]
    assert "the newest records were deleted" in breaks[0].reason


async def test_a_chain_recomputed_without_the_key_is_detected(
    client: AsyncClient,
    make_user: MakeUser,
    sessionmaker: async_sessionmaker[AsyncSession],
    database_url: str,
) -> None:
    admin = await make_user("rewrite.admin", Role.admin, AN_GIANG)
    await create_viewers(client, admin, ("qqq", "rrr"))
    await rewrite_without_the_key(sessionmaker)
    broken = nguon(database_url, "audit", "verify")
    assert broken.returncode == 1
    assert "record 1: its hash is a plain SHA-256, not the hub's keyed hash" in broken.stderr
    assert "audit chain BROKEN: 3 problem(s) in 3 records" in broken.stderr


async def test_a_forged_checkpoint_is_detected(
    client: AsyncClient,
    make_user: MakeUser,
    sessionmaker: async_sessionmaker[AsyncSession],
    database_url: str,
) -> None:
    admin = await make_user("forge.admin", Role.admin, AN_GIANG)
    await create_viewers(client, admin, ("sss",))
    assert nguon(database_url, "audit", "verify").returncode == 0
    async with sessionmaker() as session:
        await session.execute(update(AuditCheckpoint).values(record_id=1))  # hide the tail
        await session.commit()
    broken = nguon(database_url, "audit", "verify")
    assert broken.returncode == 1
    assert "checkpoint #1 was not written under the hub's key" in broken.stderr


async def test_rekey_keys_a_chain_from_before_the_key_once(
    client: AsyncClient,
    make_user: MakeUser,
    sessionmaker: async_sessionmaker[AsyncSession],
    database_url: str,
) -> None:
    admin = await make_user("upgrade.admin", Role.admin, AN_GIANG)
    await create_viewers(client, admin, ("ttt",))
    # A chain written by a hub before it keyed the chain: plain SHA-256 throughout.
    async with sessionmaker() as session:
        trail = (await session.scalars(select(AuditRecord).order_by(AuditRecord.id))).all()
        previous = GENESIS_HASH
        for record in trail:
            record.prev_hash = previous
            record.hash = previous = plain_hash(record)
        await session.commit()
    # The upgraded hub appends keyed records after them.
    await create_viewers(client, admin, ("uuu",))
    assert nguon(database_url, "audit", "verify").returncode == 1
    keyed = nguon(database_url, "audit", "rekey")
    assert keyed.returncode == 0, keyed.stderr
    assert "2 record(s) written before the key rewritten" in keyed.stdout
    intact = nguon(database_url, "audit", "verify")
    assert intact.returncode == 0, intact.stderr
    assert "audit chain intact: 4 records" in intact.stdout  # the rekey itself is recorded
    again = nguon(database_url, "audit", "rekey")
    assert "already keyed" in again.stdout


async def test_rekey_refuses_plain_records_after_keyed_ones(
    client: AsyncClient,
    make_user: MakeUser,
    sessionmaker: async_sessionmaker[AsyncSession],
    database_url: str,
) -> None:
    admin = await make_user("late.admin", Role.admin, AN_GIANG)
    await create_viewers(client, admin, ("vvv",))
    async with sessionmaker() as session:
        newest = (await session.scalars(select(AuditRecord).order_by(AuditRecord.id))).all()[-1]
        newest.hash = plain_hash(newest)
        await session.commit()
    refused = nguon(database_url, "audit", "rekey")
    assert refused.returncode == 1
    assert f"Record {newest.id} has a plain SHA-256 hash after records the hub keyed" in (
        refused.stderr
    )


async def test_only_admins_of_the_whole_province_verify_over_the_api(
    client: AsyncClient, make_user: MakeUser, areas: list[AreaRecord]
) -> None:
    commune = communes_of(areas, AN_GIANG)[0]
    commune_admin = await make_user("commune.admin", Role.admin, commune)
    answer = await client.get("/api/v1/audit/verify", headers=commune_admin)
    assert answer.status_code == 403
    assert "province level or above" in answer.json()["detail"]
