from datetime import UTC, datetime, timedelta

import jwt
from httpx import AsyncClient

from nguon.identity.roles import Role
from tests.conftest import AN_GIANG, PASSWORD, TEST_SECRET, MakeUser

PROBLEM = "application/problem+json"


async def test_signed_in_user_reaches_a_protected_route(
    client: AsyncClient, make_user: MakeUser
) -> None:
    headers = await make_user("tinh.admin", Role.admin, AN_GIANG)
    response = await client.get("/api/v1/users", headers=headers)
    assert response.status_code == 200
    assert [user["username"] for user in response.json()["items"]] == ["tinh.admin"]


async def test_token_response_follows_oauth2(client: AsyncClient, make_user: MakeUser) -> None:
    await make_user("editor1", Role.editor, AN_GIANG)
    response = await client.post(
        "/api/v1/auth/token", data={"username": "EDITOR1", "password": PASSWORD}
    )
    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == 900
    claims = jwt.decode(body["access_token"], TEST_SECRET, algorithms=["HS256"], issuer="nguon")
    assert claims["exp"] - claims["iat"] == 900


async def test_wrong_password_is_a_problem_and_does_not_say_which_part(
    client: AsyncClient, make_user: MakeUser
) -> None:
    await make_user("editor2", Role.editor, AN_GIANG)
    wrong = await client.post(
        "/api/v1/auth/token", data={"username": "editor2", "password": "not-the-password"}
    )
    unknown = await client.post(
        "/api/v1/auth/token", data={"username": "nobody", "password": "not-the-password"}
    )
    for response in (wrong, unknown):
        assert response.status_code == 401
        assert response.headers["content-type"] == PROBLEM
        assert response.json()["detail"] == "Unknown username or wrong password."


async def test_five_failures_lock_the_account(client: AsyncClient, make_user: MakeUser) -> None:
    await make_user("editor3", Role.editor, AN_GIANG)
    for _ in range(5):
        await client.post("/api/v1/auth/token", data={"username": "editor3", "password": "x" * 12})
    response = await client.post(
        "/api/v1/auth/token", data={"username": "editor3", "password": PASSWORD}
    )
    assert response.status_code == 401
    assert "locked until" in response.json()["detail"]


async def test_expired_token_is_refused(client: AsyncClient, make_user: MakeUser) -> None:
    headers = await make_user("admin2", Role.admin, AN_GIANG)
    token = headers["Authorization"].removeprefix("Bearer ")
    claims = jwt.decode(token, TEST_SECRET, algorithms=["HS256"], issuer="nguon")
    past = datetime.now(UTC) - timedelta(hours=1)
    claims.update(iat=past, exp=past + timedelta(minutes=15))
    expired = jwt.encode(claims, TEST_SECRET, algorithm="HS256")
    response = await client.get("/api/v1/users", headers={"Authorization": f"Bearer {expired}"})
    assert response.status_code == 401
    assert response.headers["content-type"] == PROBLEM
    assert response.headers["www-authenticate"] == "Bearer"
    assert "expired" in response.json()["detail"]


async def test_tampered_token_is_refused(client: AsyncClient, make_user: MakeUser) -> None:
    headers = await make_user("viewer1", Role.viewer, AN_GIANG)
    token = headers["Authorization"].removeprefix("Bearer ")
    claims = jwt.decode(token, TEST_SECRET, algorithms=["HS256"], issuer="nguon")
    forged_with_other_key = jwt.encode(
        claims, "another-secret-of-enough-length!", algorithm="HS256"
    )
    header, payload, signature = token.split(".")
    flipped = signature[:-2] + ("AA" if signature[-2:] != "AA" else "BB")
    for bad in (forged_with_other_key, f"{header}.{payload}.{flipped}", "not-a-jwt"):
        response = await client.get("/api/v1/areas", headers={"Authorization": f"Bearer {bad}"})
        assert response.status_code == 401, bad
        assert response.headers["content-type"] == PROBLEM
        assert response.json()["detail"] == "The access token is not valid."


async def test_unsigned_token_is_refused(client: AsyncClient, make_user: MakeUser) -> None:
    headers = await make_user("viewer2", Role.viewer, AN_GIANG)
    claims = jwt.decode(
        headers["Authorization"].removeprefix("Bearer "),
        TEST_SECRET,
        algorithms=["HS256"],
        issuer="nguon",
    )
    unsigned = jwt.encode(claims, key=None, algorithm="none")  # type: ignore[arg-type]
    response = await client.get("/api/v1/areas", headers={"Authorization": f"Bearer {unsigned}"})
    assert response.status_code == 401


async def test_disabling_an_account_ends_its_tokens(
    client: AsyncClient, make_user: MakeUser
) -> None:
    admin = await make_user("admin3", Role.admin, AN_GIANG)
    editor = await make_user("editor4", Role.editor, AN_GIANG)
    assert (await client.get("/api/v1/areas", headers=editor)).status_code == 200
    response = await client.patch("/api/v1/users/editor4", json={"active": False}, headers=admin)
    assert response.status_code == 200
    assert response.json()["active"] is False
    assert (await client.get("/api/v1/areas", headers=editor)).status_code == 401
    relogin = await client.post(
        "/api/v1/auth/token", data={"username": "editor4", "password": PASSWORD}
    )
    assert relogin.status_code == 401


async def test_password_change_ends_old_tokens_and_new_password_works(
    client: AsyncClient, make_user: MakeUser
) -> None:
    admin = await make_user("admin4", Role.admin, AN_GIANG)
    editor = await make_user("editor5", Role.editor, AN_GIANG)
    new_password = "a-brand-new-secret-42"
    response = await client.patch(
        "/api/v1/users/editor5", json={"password": new_password}, headers=admin
    )
    assert response.status_code == 200
    assert (await client.get("/api/v1/areas", headers=editor)).status_code == 401
    relogin = await client.post(
        "/api/v1/auth/token", data={"username": "editor5", "password": new_password}
    )
    assert relogin.status_code == 200
