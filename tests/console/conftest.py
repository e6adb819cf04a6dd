"""Console sign-in as a browser does it: the CSRF cookie of the sign-in page, then the form."""

from collections.abc import Awaitable, Callable

import pytest
from httpx import AsyncClient, Response

from nguon.identity.roles import Role
from tests.conftest import PASSWORD, MakeUser


async def csrf(client: AsyncClient) -> str:
    page = await client.get("/console/sign-in")
    assert page.status_code == 200
    return str(client.cookies["nguon_csrf"])


async def sign_in(client: AsyncClient, username: str, password: str = PASSWORD) -> Response:
    token = await csrf(client)
    return await client.post(
        "/console/sign-in",
        data={"username": username, "password": password, "csrf_token": token, "next": "/console/"},
    )


SignInAs = Callable[[str, Role, str], Awaitable[str]]


@pytest.fixture
def sign_in_as(client: AsyncClient, make_user: MakeUser) -> SignInAs:
    """Make an account, sign `client` in to the console with it; returns the CSRF token that
    forms and htmx requests must send back (field `csrf_token` or header `X-CSRF-Token`)."""

    async def signed_in(username: str, role: Role, area: str) -> str:
        await make_user(username, role, area)
        answer = await sign_in(client, username)
        assert answer.status_code == 303, answer.text
        return str(client.cookies["nguon_csrf"])

    return signed_in
