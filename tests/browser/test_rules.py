"""The province's rules page ("Quy định phát") in a real browser: a refused figure and a saved
one, accessible at each step (axe-core, a phone's width) (Lai Châu 001 Điều 8.1, 8.3)."""

from pathlib import Path

import pytest
from playwright.async_api import BrowserContext

from tests.browser.hub import sign_in
from tests.browser.test_pages import check_page

# What the browser adds is the same on either database (tests/console runs the pages on both).
pytestmark = pytest.mark.embedded_only


async def test_the_admin_sets_the_rules_in_the_browser_and_a_refusal_stays_accessible(
    hub: str, context: BrowserContext, artefacts: Path
) -> None:
    page = await context.new_page()
    await sign_in(page, hub, "admin")
    await page.goto(f"{hub}/console/rules")
    # Half-days past the day (001 Điều 8.1 names 3 h + 3 h of 6 h): refused beside the form.
    await page.fill("#eboard-daily_hours", "2")
    await page.fill("#eboard-morning_hours", "2")
    await page.fill("#eboard-afternoon_hours", "2")
    await page.click("#rules-eboard-save")
    await page.locator("#eboard-error").wait_for()
    assert await page.locator("#eboard-daily_hours").input_value() == "2"
    problems = await check_page(page, "admin-rules-refused", artefacts)
    await page.fill("#eboard-daily_hours", "6")
    await page.fill("#eboard-morning_hours", "3")
    await page.fill("#eboard-afternoon_hours", "3")
    await page.fill("#eboard-minutes_per_day", "20")
    await page.click("#rules-eboard-save")
    await page.locator("#rules-saved").wait_for()
    assert "20 phút" in await page.locator("#rules-eboard-advertising").inner_text()
    problems += await check_page(page, "admin-rules-saved", artefacts)
    assert not problems, "\n".join(problems)
