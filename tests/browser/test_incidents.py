"""The incidents pages in a real browser: reported through the form, acted on, and accessible
at every step (axe-core, a phone's width) (Đắk Nông 002 Điều 17)."""

from pathlib import Path

import pytest
from playwright.async_api import BrowserContext

from tests.browser.hub import sign_in
from tests.browser.test_pages import check_page

# What the browser adds is the same on either database (tests/console runs the pages on both).
pytestmark = pytest.mark.embedded_only


async def test_an_incident_reported_and_acted_on_in_the_browser_stays_accessible(
    hub: str, context: BrowserContext, artefacts: Path
) -> None:
    page = await context.new_page()
    await sign_in(page, hub, "editor")
    await page.goto(f"{hub}/console/incidents")
    await page.select_option("#new-incident-kind", "power")
    await page.select_option("#new-incident-severity", "high")
    await page.fill("#new-incident-title", "Mất điện trạm phát thanh xã")
    await page.fill("#new-incident-areas", "91")
    await page.click("#report-incident")
    await page.locator("#incident-timeline").wait_for()
    problems = await check_page(page, "editor-incident-opened", artefacts)
    await page.fill("#acknowledge-note", "Đã báo điện lực")
    await page.click("#acknowledge")
    await page.get_by_text("Đã báo điện lực").wait_for()
    await page.click("#resolve")  # no note: the browser asks for one before sending
    assert await page.locator("#resolve-note:invalid").count() == 1
    problems += await check_page(page, "editor-incident-acknowledged", artefacts)
    await page.goto(f"{hub}/console/incidents")
    problems += await check_page(page, "editor-incidents", artefacts)
    assert not problems, "\n".join(problems)
