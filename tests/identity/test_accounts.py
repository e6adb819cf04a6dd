"""Accounts and keys over the API: admins only, inside their own area."""

import hashlib

import pytest
from httpx import AsyncClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from nguon.areas.sources import AreaRecord
from nguon.identity.models import ApiKey, User
from nguon.identity.roles import Role
from nguon.kit.errors import InvalidInput
from tests.conftest import (
    AN_GIANG,
    LAI_CHAU,
    MakeUser,
    communes_of,
    count_users,
    districts_of,
    identity_for,
    operator,
)


async def test_admin_creates_an_account_in_its_province(
    client: AsyncClient, make_user: MakeUser, areas: list[AreaRecord]
) -> None:
    admin = await make_user("sotttt.admin", Role.admin, AN_GIANG)
    commune = communes_of(areas, AN_GIANG)[0]
    response = await client.post(
        "/api/v1/users",
        json={
            "username": "chutich.xa",
            "password": "mat-khau-dai-du",
            "role": "commune_chair",
            "area": commune,
            "full_name": "Nguyễn Văn A",
        },
        headers=admin,
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["role"] == "commune_chair"
    assert body["area"]["code"] == commune
    assert body["area"]["level"] == "commune"
    assert "password" not in body
    assert "password_hash" not in body
    login = await client.post(
        "/api/v1/auth/token", data={"username": "chutich.xa", "password": "mat-khau-dai-du"}
    )
    assert login.status_code == 200


@pytest.mark.usefixtures("production_password_hashing")
async def test_password_is_stored_with_argon2(
    make_user: MakeUser, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    await make_user("hashcheck", Role.viewer, AN_GIANG)
    async with sessionmaker() as session:
        stored = await session.scalar(
            select(User.password_hash).where(User.username == "hashcheck")
        )
    assert stored is not None
    # Argon2id with RFC 9106's second recommended option: 64 MiB, three passes, four lanes.
    assert stored.startswith("$argon2id$v=19$m=65536,t=3,p=4$")


async def test_admin_cannot_create_accounts_outside_its_area(
    client: AsyncClient,
    make_user: MakeUser,
    areas: list[AreaRecord],
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    district_a, district_b = districts_of(areas, LAI_CHAU)[:2]
    admin = await make_user("huyen.admin", Role.admin, district_a)
    before = await count_users(sessionmaker)
    for area in (district_b, communes_of(areas, district_b)[0], LAI_CHAU, AN_GIANG):
        response = await client.post(
            "/api/v1/users",
            json={
                "username": "intruder",
                "password": "long-enough-pw",
                "role": "publisher",
                "area": area,
            },
            headers=admin,
        )
        assert response.status_code == 403, area
        assert f"in {area}" in response.json()["detail"]
    assert await count_users(sessionmaker) == before
    allowed = await client.post(
        "/api/v1/users",
        json={
            "username": "xa.publisher",
            "password": "long-enough-pw",
            "role": "publisher",
            "area": communes_of(areas, district_a)[0],
        },
        headers=admin,
    )
    assert allowed.status_code == 201


async def test_admin_lists_only_accounts_in_its_subtree(
    client: AsyncClient, make_user: MakeUser, areas: list[AreaRecord]
) -> None:
    district_a, district_b = districts_of(areas, LAI_CHAU)[:2]
    district_admin = await make_user("admin.a", Role.admin, district_a)
    await make_user("pub.a", Role.publisher, communes_of(areas, district_a)[0])
    await make_user("pub.b", Role.publisher, district_b)
    province_admin = await make_user("admin.lc", Role.admin, LAI_CHAU)
    seen_by_district = await client.get("/api/v1/users", headers=district_admin)
    seen_by_province = await client.get("/api/v1/users", headers=province_admin)
    assert sorted(u["username"] for u in seen_by_district.json()["items"]) == ["admin.a", "pub.a"]
    assert sorted(u["username"] for u in seen_by_province.json()["items"]) == [
        "admin.a",
        "admin.lc",
        "pub.a",
        "pub.b",
    ]


async def test_duplicate_username_is_a_conflict(client: AsyncClient, make_user: MakeUser) -> None:
    admin = await make_user("admin5", Role.admin, AN_GIANG)
    body = {"username": "Admin5", "password": "long-enough-pw", "role": "viewer", "area": AN_GIANG}
    response = await client.post("/api/v1/users", json=body, headers=admin)
    assert response.status_code == 409
    assert "admin5" in response.json()["detail"]


ACCOUNT_ROLES = "admin, editor, appraiser, publisher, commune_chair or viewer"


@pytest.mark.parametrize(
    ("role", "holder"),
    [("central", "API keys"), ("integration", "API keys"), ("endpoint", "endpoint keys")],
)
async def test_people_cannot_hold_machine_roles(
    client: AsyncClient, make_user: MakeUser, role: str, holder: str
) -> None:
    admin = await make_user("admin6", Role.admin, AN_GIANG)
    body = {"username": "robot", "password": "long-enough-pw", "role": role, "area": AN_GIANG}
    response = await client.post("/api/v1/users", json=body, headers=admin)
    assert response.status_code == 422
    detail = response.json()["detail"]
    assert detail.startswith(
        f"Role {role} is not for user accounts: user accounts take {ACCOUNT_ROLES}; "
        f"{role} is for {holder}"
    )
    viewer = await client.post("/api/v1/users", json={**body, "role": "viewer"}, headers=admin)
    assert viewer.status_code == 201, viewer.text
    changed = await client.patch("/api/v1/users/robot", json={"role": role}, headers=admin)
    assert changed.status_code == 422
    assert changed.json()["detail"] == detail


async def test_api_key_is_shown_once_and_stored_as_keyed_hash(
    client: AsyncClient, make_user: MakeUser, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    admin = await make_user("admin7", Role.admin, AN_GIANG)
    created = await client.post(
        "/api/v1/keys",
        json={"name": "central-hub", "role": "central", "area": AN_GIANG},
        headers=admin,
    )
    assert created.status_code == 201, created.text
    key = created.json()["key"]
    prefix = created.json()["prefix"]
    assert key.startswith(f"ngn_{prefix}_")
    listed = await client.get("/api/v1/keys", headers=admin)
    assert [k["prefix"] for k in listed.json()["items"]] == [prefix]
    assert "key" not in listed.json()["items"][0]
    async with sessionmaker() as session:
        stored = (await session.scalars(select(ApiKey))).one()
    assert key not in (stored.key_hash, stored.prefix, stored.name)
    assert stored.key_hash != hashlib.sha256(key.encode()).hexdigest()  # keyed, not plain


async def test_api_key_authenticates_until_revoked(
    client: AsyncClient, make_user: MakeUser
) -> None:
    admin = await make_user("admin8", Role.admin, AN_GIANG)
    created = await client.post(
        "/api/v1/keys",
        json={"name": "district-cms", "role": "integration", "area": AN_GIANG},
        headers=admin,
    )
    machine = {"X-Api-Key": created.json()["key"]}
    assert (await client.get("/api/v1/areas", headers=machine)).status_code == 200
    assert (await client.get("/api/v1/users", headers=machine)).status_code == 403
    revoked = await client.delete(f"/api/v1/keys/{created.json()['id']}", headers=admin)
    assert revoked.status_code == 200
    assert revoked.json()["revoked_at"] is not None
    refused = await client.get("/api/v1/areas", headers=machine)
    assert refused.status_code == 401
    assert refused.json()["detail"] == "The API key has been revoked."
    wrong = await client.get("/api/v1/areas", headers={"X-Api-Key": created.json()["key"] + "x"})
    assert wrong.status_code == 401


async def test_keys_take_only_machine_roles(client: AsyncClient, make_user: MakeUser) -> None:
    admin = await make_user("admin9", Role.admin, AN_GIANG)
    response = await client.post(
        "/api/v1/keys", json={"name": "x", "role": "admin", "area": AN_GIANG}, headers=admin
    )
    assert response.status_code == 422
    assert response.json()["detail"] == (
        "Role admin is not for API keys: API keys take central or integration; "
        "admin is for user accounts."
    )
    endpoint = await client.post(
        "/api/v1/keys", json={"name": "x", "role": "endpoint", "area": AN_GIANG}, headers=admin
    )
    assert endpoint.status_code == 422
    assert endpoint.json()["detail"].startswith(
        "Role endpoint is not for API keys: API keys take central or integration; "
        "endpoint is for endpoint keys, made when an endpoint is registered"
    )


async def test_a_key_is_named_even_where_no_schema_checks_the_name(
    sessionmaker: async_sessionmaker[AsyncSession], areas: list[AreaRecord]
) -> None:
    async with sessionmaker() as session:
        identity = identity_for(session)
        with pytest.raises(InvalidInput, match="Name the key after the system"):
            await identity.create_key(await operator(session), "   ", Role.central, AN_GIANG)
