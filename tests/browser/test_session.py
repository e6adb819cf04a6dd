"""The session in a real browser: one that has expired leads back to the sign-in page, for a
page load and for an htmx request alike, and back to the page once signed in again; signing out
leads to the sign-in page and ends the session."""

from datetime import UTC, datetime, timedelta
from urllib.parse import quote

import jwt
import pytest
from playwright.async_api import BrowserContext, Page

from nguon.console.session import SESSION_COOKIE
from nguon.identity.credentials import TokenCodec
from tests.browser.hub import sign_in, submit_sign_in
from tests.conftest import TEST_SECRET

# What the browser adds is the same on either database (tests/console runs the pages on both).
pytestmark = pytest.mark.embedded_only

ISSUER = "nguon"


async def session_cookies(context: BrowserContext, hub: str) -> list[str]:
    return [c["value"] for c in await context.cookies(hub) if c["name"] == SESSION_COOKIE]


async def expire_session(context: BrowserContext, hub: str) -> None:
    """Put in place of the session cookie the same person's token, signed with the hub's secret,
    that expired an hour ago."""
    [cookie] = [c for c in await context.cookies(hub) if c["name"] == SESSION_COOKIE]
    claims = jwt.decode(cookie["value"], TEST_SECRET, algorithms=["HS256"], issuer=ISSUER)
    lifetime = int(claims["exp"]) - int(claims["iat"])
    issued = datetime.now(UTC) - timedelta(seconds=lifetime + 3600)
    token = TokenCodec(TEST_SECRET, ISSUER, lifetime).issue(
        int(claims["sub"]), int(claims["ver"]), now=issued
    )
    domain, path = cookie["domain"], cookie["path"]
    await context.add_cookies(
        [{"name": SESSION_COOKIE, "value": token, "domain": domain, "path": path}]
    )
    assert await session_cookies(context, hub) == [token]


def sign_in_page_for(hub: str, path: str) -> str:
    return f"{hub}/console/sign-in?next={quote(path, safe='/')}"


@pytest.fixture
async def expired(hub: str, context: BrowserContext) -> Page:
    """The home page of the editor, whose session has expired since it was shown."""
    page = await context.new_page()
    await sign_in(page, hub, "editor")
    await expire_session(context, hub)
    return page


async def test_an_expired_session_leads_to_sign_in_and_back(hub: str, expired: Page) -> None:
    page = expired
    await page.goto(f"{hub}/console/")
    assert page.url == sign_in_page_for(hub, "/console/")
    await submit_sign_in(page, "editor")
    await page.wait_for_url(f"{hub}/console/")
    assert await page.get_by_role("button", name="Đăng xuất").is_visible()


async def test_a_session_that_expires_under_an_htmx_request_leads_to_sign_in(
    hub: str, expired: Page
) -> None:
    page = expired
    async with page.expect_response(
        lambda r: r.request.headers.get("hx-request") == "true"
    ) as sent:
        await page.evaluate("htmx.ajax('GET', '/console/', {target: '#main'})")
    answer = await sent.value
    assert (answer.status, answer.headers.get("hx-redirect")) == (
        204,
        "/console/sign-in?next=/console/",
    )
    await page.wait_for_url(sign_in_page_for(hub, "/console/"))


async def test_signing_out_leads_to_sign_in_and_ends_the_session(
    hub: str, context: BrowserContext
) -> None:
    page = await context.new_page()
    await sign_in(page, hub, "publisher")
    await page.get_by_role("button", name="Đăng xuất").click()
    await page.wait_for_url(f"{hub}/console/sign-in")
    assert await session_cookies(context, hub) == []
    await page.goto(f"{hub}/console/")
    assert page.url == sign_in_page_for(hub, "/console/")
