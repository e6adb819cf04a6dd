"""Console sign-in as a browser does it: the CSRF cookie of the sign-in page, then the form."""

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

import pytest
from httpx import AsyncClient, Response
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from nguon.identity.credentials import TokenCodec
from nguon.identity.models import User
from nguon.identity.roles import Role
from tests.conftest import PASSWORD, TEST_SECRET, MakeUser

# The token codec of the test hub, with its default lifetime of 15 minutes.
CODEC = TokenCodec(TEST_SECRET, "nguon", 900)


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


async def session_token(
    sessionmaker: async_sessionmaker[AsyncSession], username: str, age: timedelta
) -> str:
    """A session token for `username` as the hub would have issued it `age` ago."""
    async with sessionmaker() as session:
        user = await session.scalar(select(User).where(User.username == username))
    assert user is not None
    return CODEC.issue(user.id, user.token_version, datetime.now(UTC) - age)
