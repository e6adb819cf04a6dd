"""Signing in to the console: the API's accounts, lockout and audit, with a cookie session."""

from datetime import UTC, datetime, timedelta

import pytest
from fastapi import FastAPI
from httpx import AsyncClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from nguon.audit.models import AuditRecord
from nguon.console.web import local_time
from nguon.identity.models import User
from nguon.identity.roles import Role
from tests.conftest import AN_GIANG, PASSWORD, MakeUser
from tests.console.conftest import CODEC, csrf, session_token, sign_in


async def test_the_hub_opens_on_the_console_and_asks_for_sign_in(client: AsyncClient) -> None:
    root = await client.get("/")
    assert root.status_code == 307
    assert root.headers["location"] == "/console/"
    home = await client.get("/console/")
    assert home.status_code == 303
    assert home.headers["location"] == "/console/sign-in?next=/console/"
    page = await client.get("/console/sign-in")
    assert 'lang="vi"' in page.text
    assert "Đăng nhập" in page.text
    assert '<label for="username">Tên đăng nhập</label>' in page.text


async def test_a_person_signs_in_sees_their_role_and_signs_out(
    client: AsyncClient, make_user: MakeUser
) -> None:
    await make_user("chair.an", Role.commune_chair, AN_GIANG)
    answer = await sign_in(client, "chair.an")
    assert answer.status_code == 303
    assert answer.headers["location"] == "/console/"
    cookie = answer.headers["set-cookie"]
    assert "nguon_session=" in cookie
    assert "HttpOnly" in cookie
    assert "SameSite=lax" in cookie
    assert "Secure" not in cookie  # plain HTTP here; behind TLS the cookie is Secure
    home = await client.get("/console/")
    assert home.status_code == 200
    assert "chair.an" in home.text
    assert "Chủ tịch UBND xã" in home.text
    assert "Đăng xuất" in home.text
    token = client.cookies["nguon_csrf"]
    out = await client.post("/console/sign-out", data={"csrf_token": token})
    assert out.status_code == 303
    assert (await client.get("/console/")).status_code == 303


async def test_the_session_cookie_is_secure_behind_tls(app: FastAPI, make_user: MakeUser) -> None:
    await make_user("editor.tls", Role.editor, AN_GIANG)
    from httpx import ASGITransport

    async with AsyncClient(transport=ASGITransport(app=app), base_url="https://hub.test") as tls:
        answer = await sign_in(tls, "editor.tls")
    assert answer.status_code == 303
    assert "Secure" in answer.headers["set-cookie"]


async def test_a_wrong_password_is_told_in_vietnamese_keeps_the_username_and_counts(
    client: AsyncClient,
    make_user: MakeUser,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    await make_user("pub.an", Role.publisher, AN_GIANG)
    answer = await sign_in(client, "pub.an", "not-the-password")
    assert answer.status_code == 401
    assert "Sai tên đăng nhập hoặc mật khẩu." in answer.text
    assert 'value="pub.an"' in answer.text
    for _ in range(4):
        await sign_in(client, "pub.an", "not-the-password")
    # Locked out, as on the API: the right password no longer opens it.
    locked = await sign_in(client, "pub.an")
    assert locked.status_code == 401
    assert "Đăng nhập sai quá nhiều lần: tài khoản bị tạm khóa đến" in locked.text
    api = await client.post("/api/v1/auth/token", data={"username": "pub.an", "password": PASSWORD})
    assert api.status_code == 401
    async with sessionmaker() as session:
        actions = list(
            await session.scalars(
                select(AuditRecord.status).where(AuditRecord.action == "POST /console/sign-in")
            )
        )
    assert actions == [401] * 6


async def test_a_form_without_the_csrf_token_is_refused_and_changes_nothing(
    client: AsyncClient,
    make_user: MakeUser,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    await make_user("pub.csrf", Role.publisher, AN_GIANG)
    await csrf(client)
    answer = await client.post(
        "/console/sign-in", data={"username": "pub.csrf", "password": "wrong-password-1"}
    )
    assert answer.status_code == 403
    assert "Biểu mẫu đã cũ hoặc đến từ trang khác" in answer.text
    forged = await client.post(
        "/console/sign-in",
        data={"username": "pub.csrf", "password": PASSWORD, "csrf_token": "forged"},
    )
    assert forged.status_code == 403
    assert "nguon_session" not in forged.headers.get("set-cookie", "")
    async with sessionmaker() as session:
        user = await session.scalar(select(User).where(User.username == "pub.csrf"))
    assert user is not None
    assert user.failed_logins == 0


async def test_an_expired_session_goes_back_to_sign_in(
    client: AsyncClient, make_user: MakeUser, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    await make_user("editor.old", Role.editor, AN_GIANG)
    expired = await session_token(sessionmaker, "editor.old", timedelta(hours=1))
    client.cookies.set("nguon_session", expired)
    page = await client.get("/console/?tab=1")
    assert page.status_code == 303
    assert page.headers["location"] == "/console/sign-in?next=/console/%3Ftab%3D1"
    htmx = await client.get("/console/", headers={"HX-Request": "true"})
    assert htmx.headers["HX-Redirect"] == "/console/sign-in?next=/console/"


async def test_sign_in_never_sends_a_person_to_another_site(
    client: AsyncClient, make_user: MakeUser
) -> None:
    await make_user("pub.next", Role.publisher, AN_GIANG)
    token = await csrf(client)
    for target in ("https://evil.example/", "//evil.example/console/", "/api/v1/users"):
        answer = await client.post(
            "/console/sign-in",
            data={
                "username": "pub.next",
                "password": PASSWORD,
                "csrf_token": token,
                "next": target,
            },
        )
        assert answer.headers["location"] == "/console/"


async def test_the_english_switch_shows_the_same_page_in_english(client: AsyncClient) -> None:
    token = await csrf(client)
    switched = await client.post(
        "/console/language",
        data={"language": "en", "csrf_token": token, "next": "/console/sign-in"},
    )
    assert switched.status_code == 303
    page = await client.get("/console/sign-in")
    assert 'lang="en"' in page.text
    assert "<h1>Sign in</h1>" in page.text
    assert "Tiếng Việt" in page.text


@pytest.mark.parametrize(
    ("moment", "shown"),
    [
        (datetime(2026, 12, 2, 17, 30, tzinfo=UTC), "03/12/2026 00:30"),
        (datetime(2026, 1, 5, 1, 2), "05/01/2026 08:02"),
        (None, ""),
    ],
)
def test_times_are_shown_on_the_provinces_clock(moment: datetime | None, shown: str) -> None:
    assert local_time(moment) == shown


async def test_a_form_the_browser_should_have_stopped_is_refused_in_a_page(
    client: AsyncClient, make_user: MakeUser, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    """The sign-in form holds usernames to 64 characters; past that the person still gets a
    page in Vietnamese naming the field and its rule, not the API's JSON, and nothing changes."""
    token = await csrf(client)
    refused = await client.post(
        "/console/sign-in",
        data={"username": "x" * 65, "password": PASSWORD, "csrf_token": token},
    )
    assert refused.status_code == 422
    assert refused.headers["content-type"].startswith("text/html")
    assert "1 trường không hợp lệ: username: tối đa 64 ký tự" in refused.text
    assert "nguon_session" not in client.cookies


async def test_a_session_in_use_is_renewed_and_sign_out_still_ends_it(
    client: AsyncClient, make_user: MakeUser, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    """A chair at work on tonight's programme keeps the session past the token's lifetime:
    once half of it has gone, any page hands out a fresh cookie; signing out ends it anyway."""
    await make_user("chair.busy", Role.commune_chair, AN_GIANG)
    young = await session_token(sessionmaker, "chair.busy", timedelta(minutes=5))
    client.cookies.set("nguon_session", young)
    assert "nguon_session" not in (await client.get("/console/")).headers.get("set-cookie", "")

    aging = await session_token(sessionmaker, "chair.busy", timedelta(minutes=10))
    client.cookies.set("nguon_session", aging)
    page = await client.get("/console/")
    assert page.status_code == 200
    renewed = page.cookies["nguon_session"]
    assert renewed != aging
    assert "HttpOnly" in page.headers["set-cookie"]
    claims = CODEC.read(renewed)
    assert datetime.now(UTC) - claims.issued_at < timedelta(minutes=1)

    client.cookies.clear()
    token = await csrf(client)
    client.cookies.set("nguon_session", aging)
    signed_out = await client.post("/console/sign-out", data={"csrf_token": token})
    assert signed_out.status_code == 303
    (set_cookie,) = signed_out.headers.get_list("set-cookie")
    assert set_cookie.startswith('nguon_session=""')
