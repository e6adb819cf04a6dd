"""A real hub for the browser: `nguon serve` on a database seeded with one person per role, and
Debian's headless Chromium driven by Playwright (a test tool's own browser download does not
work on the hub's machines)."""

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from playwright.async_api import Browser, Page, ViewportSize, async_playwright
from pydantic import SecretStr
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from nguon.areas.sources import current_units
from nguon.audit.service import audit_session_info
from nguon.demo.service import DEMO_PASSWORD, load_demo
from nguon.identity.roles import Role
from nguon.kit.db import create_sessionmaker
from nguon.kit.settings import Settings
from tests.conftest import (
    AN_GIANG,
    TEST_SECRET,
    communes_of,
    empty_tables,
    free_port,
    identity_for,
    operator,
)
from tests.processes import ApiProcess, hub_environment
from tests.reports.conftest import schedule_rows

CHROMIUM = Path("/usr/bin/chromium")
# Nothing that reaches out of the machine or needs a GPU; no sandbox, as the tests run as root.
CHROMIUM_ARGUMENTS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
DESKTOP: ViewportSize = {"width": 1280, "height": 800}
PHONE: ViewportSize = {"width": 390, "height": 844}

# The demo's accounts (one per role, An Giang; the chair in its first commune) and a second
# chair, in the province's second commune.
OTHER_CHAIR = "chair2"
PEOPLE: dict[str, Role] = {
    "publisher": Role.publisher,
    "editor": Role.editor,
    "appraiser": Role.appraiser,
    "chair": Role.commune_chair,
    OTHER_CHAIR: Role.commune_chair,
    "admin": Role.admin,
    "viewer": Role.viewer,
}
PASSWORD = DEMO_PASSWORD


def communes() -> list[str]:
    """An Giang's communes in code order: the demo's chair acts in the first, OTHER_CHAIR in the
    second."""
    return communes_of(current_units([AN_GIANG]), AN_GIANG)


async def seed(sessionmaker: async_sessionmaker[AsyncSession], settings: Settings) -> None:
    """The demo data (An Giang with its communes, its accounts, endpoints and bulletins on air)
    and the second commune's chair, and the report schedules the migration seeds."""
    second_commune = communes()[1]
    async with sessionmaker() as session:
        identity = identity_for(session)
        actor = await operator(session)
        await load_demo(session, identity, actor, settings)
        await identity.create_user(actor, OTHER_CHAIR, PASSWORD, Role.commune_chair, second_commune)
        session.add_all(schedule_rows())
        await session.commit()


@asynccontextmanager
async def seeded_hub(engine: AsyncEngine, database_url: str, data_dir: Path) -> AsyncIterator[str]:
    """`nguon serve` on the migrated database of `engine`, emptied then seeded, until the
    context closes; yields its base URL."""
    await empty_tables(engine)
    settings = Settings(
        data_dir=data_dir, database_url=database_url, secret_key=SecretStr(TEST_SECRET)
    )
    await seed(create_sessionmaker(engine, info=audit_session_info(TEST_SECRET)), settings)
    process = ApiProcess(free_port(), hub_environment(database_url, data_dir, log_level="warning"))
    try:
        await asyncio.to_thread(process.start)
        yield process.base_url
    finally:
        await asyncio.to_thread(process.stop)


@asynccontextmanager
async def chromium() -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGUMENTS
        )
        try:
            yield browser
        finally:
            await browser.close()


async def sign_in(page: Page, hub: str, username: str) -> None:
    """Through the sign-in form, as a person does; returns on the home page."""
    await page.goto(f"{hub}/console/sign-in")
    await submit_sign_in(page, username)
    await page.wait_for_url(f"{hub}/console/")


async def submit_sign_in(page: Page, username: str) -> None:
    """Fill in and send the sign-in form of the page shown."""
    await page.get_by_label("Tên đăng nhập").fill(username)
    await page.get_by_label("Mật khẩu").fill(PASSWORD)
    await page.get_by_role("button", name="Đăng nhập").click()
