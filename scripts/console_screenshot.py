"""Writes docs/console.png, the README's picture of the console: the commune chair's queue at
desktop width, on the browser tests' data (the demo's), served by a real `nguon serve` on a
fresh SQLite database and shot by Debian's Chromium (/usr/bin/chromium), as the tests do.

A script rather than a test, so that running the suite leaves the checkout as it was.
Run from the checkout: `make screenshot` (or `.venv/bin/python -m scripts.console_screenshot`).
"""

import asyncio
import tempfile
from pathlib import Path

from nguon.kit.db import create_engine
from nguon.kit.migrate import upgrade_on
from tests.browser.hub import DESKTOP, chromium, seeded_hub, sign_in

PICTURE = Path(__file__).resolve().parents[1] / "docs" / "console.png"


async def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        database_url = f"sqlite+aiosqlite:///{Path(folder) / 'nguon.db'}"
        engine = create_engine(database_url)
        try:
            async with engine.begin() as connection:
                await connection.run_sync(upgrade_on)
            async with (
                seeded_hub(engine, database_url, Path(folder) / "data") as hub,
                chromium() as browser,
            ):
                page = await browser.new_page(viewport=DESKTOP)
                await sign_in(page, hub, "chair")
                await page.goto(f"{hub}/console/commune")
                await page.screenshot(path=PICTURE)
        finally:
            await engine.dispose()
    print(f"wrote {PICTURE} ({PICTURE.stat().st_size // 1024} KB)")


if __name__ == "__main__":
    asyncio.run(main())
