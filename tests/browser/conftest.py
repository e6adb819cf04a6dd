"""One hub and one browser for the whole package: `nguon serve` on the suite's database (SQLite,
or PostgreSQL when NGUON_TEST_DATABASE_URL names one), emptied and seeded once; each test opens
its own browser context, so no cookie passes from one test to the next."""

import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import Browser, BrowserContext
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.browser.hub import CHROMIUM, DESKTOP, chromium, seeded_hub

ROOT = Path(__file__).resolve().parents[2]
# How long one browser step may wait; pages answer in milliseconds, so a wait this long is a fault.
STEP_MILLISECONDS = 10_000


@pytest.fixture(scope="package")
async def hub(
    migrated_engine: AsyncEngine, database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[str]:
    """The base URL of a real `nguon serve` with the demo's people and the second chair."""
    async with seeded_hub(migrated_engine, database_url, tmp_path_factory.mktemp("hub")) as url:
        yield url


@pytest.fixture(scope="package")
async def browser() -> AsyncIterator[Browser]:
    if not CHROMIUM.exists():
        pytest.skip(f"no Chromium at {CHROMIUM} (Debian's package: apt-get install chromium)")
    async with chromium() as launched:
        yield launched


@pytest.fixture
async def context(browser: Browser) -> AsyncIterator[BrowserContext]:
    opened = await browser.new_context(viewport=DESKTOP)
    opened.set_default_timeout(STEP_MILLISECONDS)
    yield opened
    await opened.close()


@pytest.fixture(scope="package")
def artefacts() -> Path:
    """Where screenshots go: NGUON_ARTEFACTS, by default build/artefacts/screenshots."""
    folder = Path(os.environ.get("NGUON_ARTEFACTS", ROOT / "build" / "artefacts" / "screenshots"))
    folder.mkdir(parents=True, exist_ok=True)
    return folder
