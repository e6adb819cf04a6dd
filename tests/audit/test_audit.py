"""Every state-changing request leaves an audit record; the chain shows tampering."""

from httpx import AsyncClient
from sqlalchemy import select, text, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from nguon.audit.models import AuditRecord
from nguon.audit.service import AuditService
from nguon.identity.roles import Role
from tests.commands import nguon
from tests.conftest import AN_GIANG, LAI_CHAU, MakeUser


async def create_viewers(
    client: AsyncClient, admin: dict[str, str], names: tuple[str, ...]
) -> None:
    for name in names:
        response = await client.post(
            "/api/v1/users",
            json={
                "username": name,
                "password": "long-enough-pw",
                "role": "viewer",
                "area": AN_GIANG,
            },
            headers=admin,
        )
        assert response.status_code == 201, response.text


async def records(sessionmaker: async_sessionmaker[AsyncSession]) -> list[AuditRecord]:
    async with sessionmaker() as session:
        return list((await session.scalars(select(AuditRecord).order_by(AuditRecord.id))).all())


async def test_a_change_is_recorded_with_who_what_when_where(
    client: AsyncClient, make_user: MakeUser, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    admin = await make_user("audit.admin", Role.admin, AN_GIANG)
    response = await client.post(
        "/api/v1/users",
        json={
            "username": "someone",
            "password": "long-enough-pw",
            "role": "viewer",
            "area": AN_GIANG,
        },
        headers={**admin, "X-Request-Id": "req-123"},
    )
    assert response.status_code == 201
    assert response.headers["x-request-id"] == "req-123"
    last = (await records(sessionmaker))[-1]
    assert last.actor == "user:audit.admin"
    assert last.action == "POST /api/v1/users"
    assert last.outcome == "success"
    assert last.status == 201
    assert last.request_id == "req-123"
    assert last.client == "198.51.100.7"
    assert last.at.tzinfo is not None


async def test_refused_and_failed_requests_are_recorded(
    client: AsyncClient, make_user: MakeUser, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    viewer = await make_user("audit.viewer", Role.viewer, AN_GIANG)
    await client.post(
        "/api/v1/users",
        json={"username": "x1y", "password": "long-enough-pw", "role": "viewer", "area": AN_GIANG},
        headers=viewer,
    )
    await client.post("/api/v1/auth/token", data={"username": "ghost", "password": "nope-nope"})
    await client.post("/api/v1/keys", content=b"{", headers={"Content-Type": "application/json"})
    trail = await records(sessionmaker)
    denied, failed_login, anonymous = trail[-3:]
    assert (denied.actor, denied.outcome, denied.status) == ("user:audit.viewer", "denied", 403)
    assert (failed_login.actor, failed_login.target, failed_login.outcome) == (
        "anonymous",
        "user:ghost",
        "denied",
    )
    assert (anonymous.action, anonymous.outcome) == ("POST /api/v1/keys", "rejected")


async def test_reads_are_not_recorded(
    client: AsyncClient, make_user: MakeUser, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    viewer = await make_user("audit.reader", Role.viewer, AN_GIANG)
    before = len(await records(sessionmaker))
    await client.get("/api/v1/areas", headers=viewer)
    await client.get(f"/api/v1/areas/{AN_GIANG}", headers=viewer)
    assert len(await records(sessionmaker)) == before


async def test_admin_reads_the_trail_of_its_own_area_with_filters(
    client: AsyncClient, make_user: MakeUser
) -> None:
    an_giang_admin = await make_user("ag.admin", Role.admin, AN_GIANG)
    lai_chau_admin = await make_user("lc.admin", Role.admin, LAI_CHAU)
    await client.patch(
        "/api/v1/users/ag.admin", json={"full_name": "Sở An Giang"}, headers=an_giang_admin
    )
    await client.patch(
        "/api/v1/users/lc.admin", json={"full_name": "Sở Lai Châu"}, headers=lai_chau_admin
    )
    seen = await client.get(
        "/api/v1/audit", params={"action": "PATCH", "outcome": "success"}, headers=an_giang_admin
    )
    assert seen.status_code == 200
    assert [r["actor"] for r in seen.json()["items"]] == ["user:ag.admin"]
    by_actor = await client.get(
        "/api/v1/audit", params={"actor": "user:lc.admin"}, headers=an_giang_admin
    )
    assert by_actor.json()["items"] == []
    page = await client.get("/api/v1/audit", params={"limit": 1}, headers=an_giang_admin)
    assert len(page.json()["items"]) == 1
    assert page.json()["next_before_id"] == page.json()["items"][0]["id"]


async def test_chain_is_intact_after_normal_use(
    client: AsyncClient, make_user: MakeUser, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    admin = await make_user("chain.admin", Role.admin, AN_GIANG)
    await create_viewers(client, admin, ("aaa", "bbb", "ccc"))
    async with sessionmaker() as session:
        checked, breaks = await AuditService(session).verify()
    assert checked >= 4
    assert breaks == []


async def test_verify_names_an_edited_record(
    client: AsyncClient,
    make_user: MakeUser,
    sessionmaker: async_sessionmaker[AsyncSession],
    database_url: str,
) -> None:
    admin = await make_user("tamper.admin", Role.admin, AN_GIANG)
    await create_viewers(client, admin, ("ddd", "eee"))
    intact = nguon(database_url, "audit", "verify")
    assert intact.returncode == 0, intact.stderr
    assert "intact" in intact.stdout
    victim = (await records(sessionmaker))[-2]
    async with sessionmaker() as session:
        await session.execute(
            update(AuditRecord).where(AuditRecord.id == victim.id).values(actor="user:someone-else")
        )
        await session.commit()
    broken = nguon(database_url, "audit", "verify")
    assert broken.returncode == 1
    assert f"record {victim.id}: its content does not match its hash" in broken.stderr


async def test_verify_names_the_gap_left_by_a_deleted_record(
    client: AsyncClient,
    make_user: MakeUser,
    sessionmaker: async_sessionmaker[AsyncSession],
    database_url: str,
) -> None:
    admin = await make_user("delete.admin", Role.admin, AN_GIANG)
    await create_viewers(client, admin, ("fff", "ggg", "hhh"))
    trail = await records(sessionmaker)
    deleted, follower = trail[-2], trail[-1]
    async with sessionmaker() as session:
        await session.execute(text("DELETE FROM audit_records WHERE id = :id"), {"id": deleted.id})
        await session.commit()
    broken = nguon(database_url, "audit", "verify")
    assert broken.returncode == 1
    assert f"record {follower.id}: does not follow the record before it" in broken.stderr


async def test_sign_ins_are_recorded_with_who_signed_in(
    client: AsyncClient, make_user: MakeUser, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    await make_user("signin.viewer", Role.viewer, AN_GIANG)
    last = (await records(sessionmaker))[-1]
    assert (last.actor, last.action, last.outcome) == (
        "user:signin.viewer",
        "POST /api/v1/auth/token",
        "success",
    )
