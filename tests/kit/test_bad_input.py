"""Bad input gets a clear problem+json answer and changes nothing."""

from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from nguon.identity.roles import Role
from tests.conftest import AN_GIANG, MakeUser, count_users

PROBLEM = "application/problem+json"
VALID = {"username": "new.person", "password": "long-enough-pw", "role": "viewer", "area": AN_GIANG}


async def test_malformed_json(
    client: AsyncClient, make_user: MakeUser, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    admin = await make_user("admin.bad1", Role.admin, AN_GIANG)
    before = await count_users(sessionmaker)
    response = await client.post(
        "/api/v1/users",
        content=b'{"username": "x", "password": ',
        headers={**admin, "Content-Type": "application/json"},
    )
    assert response.status_code == 400
    assert response.headers["content-type"] == PROBLEM
    problem = response.json()
    assert problem["title"] == "Malformed request body"
    assert problem["detail"].startswith("The request body is not valid JSON")
    assert problem["detail"].endswith("(character 30).")
    assert problem["status"] == 400
    assert await count_users(sessionmaker) == before


async def test_unknown_fields_are_named(
    client: AsyncClient, make_user: MakeUser, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    admin = await make_user("admin.bad2", Role.admin, AN_GIANG)
    before = await count_users(sessionmaker)
    response = await client.post(
        "/api/v1/users", json={**VALID, "is_superuser": True}, headers=admin
    )
    assert response.status_code == 422
    problem = response.json()
    assert problem["errors"] == [
        {
            "field": "body.is_superuser",
            "message": "Extra inputs are not permitted",
            "type": "extra_forbidden",
        }
    ]
    assert "body.is_superuser" in problem["detail"]
    assert await count_users(sessionmaker) == before


async def test_wrong_types_list_each_field(
    client: AsyncClient, make_user: MakeUser, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    admin = await make_user("admin.bad3", Role.admin, AN_GIANG)
    before = await count_users(sessionmaker)
    response = await client.post(
        "/api/v1/users",
        json={"username": 42, "password": ["x"], "role": "emperor", "area": AN_GIANG},
        headers=admin,
    )
    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM
    fields = {error["field"] for error in response.json()["errors"]}
    assert fields == {"body.username", "body.password", "body.role"}
    assert response.json()["detail"].startswith("3 invalid field(s)")
    assert await count_users(sessionmaker) == before


async def test_ten_megabyte_body_is_refused_before_reading(
    client: AsyncClient, make_user: MakeUser, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    admin = await make_user("admin.bad4", Role.admin, AN_GIANG)
    before = await count_users(sessionmaker)
    huge = b'{"username": "' + b"a" * (10 * 1024 * 1024) + b'"}'
    response = await client.post(
        "/api/v1/users", content=huge, headers={**admin, "Content-Type": "application/json"}
    )
    assert response.status_code == 413
    assert response.headers["content-type"] == PROBLEM
    assert "1048576" in response.json()["detail"]
    assert await count_users(sessionmaker) == before


async def test_oversize_body_without_length_is_cut_off(
    client: AsyncClient, make_user: MakeUser, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    admin = await make_user("admin.bad5", Role.admin, AN_GIANG)
    before = await count_users(sessionmaker)

    async def chunks():  # type: ignore[no-untyped-def]
        for _ in range(20):
            yield b"x" * (512 * 1024)

    response = await client.post(
        "/api/v1/users", content=chunks(), headers={**admin, "Content-Type": "application/json"}
    )
    assert response.status_code == 413
    assert response.headers["content-type"] == PROBLEM
    assert await count_users(sessionmaker) == before


async def test_unknown_route_and_wrong_method_are_problems(client: AsyncClient) -> None:
    missing = await client.get("/api/v1/nothing-here")
    assert missing.status_code == 404
    assert missing.headers["content-type"] == PROBLEM
    assert missing.json()["detail"] == "No resource at /api/v1/nothing-here"
    wrong_method = await client.put("/healthz")
    assert wrong_method.status_code == 405
    assert wrong_method.headers["content-type"] == PROBLEM


async def test_bad_query_parameter(client: AsyncClient, make_user: MakeUser) -> None:
    admin = await make_user("admin.bad6", Role.admin, AN_GIANG)
    response = await client.get("/api/v1/users?limit=100000", headers=admin)
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "query.limit"
