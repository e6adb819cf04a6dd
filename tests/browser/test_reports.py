"""The reports pages in a real browser: the narrative written from the periods' list, and
accessible at every step (axe-core, a phone's width) (Đắk Nông 002 Điều 18)."""

from pathlib import Path

import pytest
from playwright.async_api import BrowserContext

from tests.browser.hub import sign_in
from tests.browser.test_pages import check_page

# What the browser adds is the same on either database (tests/console runs the pages on both).
pytestmark = pytest.mark.embedded_only


async def test_a_report_narrative_written_in_the_browser_stays_accessible(
    hub: str, context: BrowserContext, artefacts: Path
) -> None:
    page = await context.new_page()
    await sign_in(page, hub, "editor")
    await page.goto(f"{hub}/console/reports")
    await page.get_by_role("link", name="Viết thuyết minh").first.click()
    await page.locator("#narrative-form").wait_for()
    problems = await check_page(page, "editor-report-narrative", artefacts)
    await page.fill("#section-assessment", "Hệ thống vận hành ổn định trong kỳ.")
    await page.click("#save-narrative")
    await page.locator("#narrative-saved").wait_for()
    assert await page.input_value("#section-assessment") == "Hệ thống vận hành ổn định trong kỳ."
    problems += await check_page(page, "editor-report-saved", artefacts)
    assert not problems, "\n".join(problems)


async def test_a_viewer_reads_a_report_without_a_form(
    hub: str, context: BrowserContext, artefacts: Path
) -> None:
    """002 Điều 18: those who answer for the area's broadcasting read its reports; the page
    shows the narrative as text, and stays accessible."""
    page = await context.new_page()
    await sign_in(page, hub, "viewer")
    await page.get_by_role("link", name="Báo cáo").first.click()
    await page.get_by_role("link", name="Xem báo cáo").first.click()
    await page.locator("#narrative-text").wait_for()
    assert await page.locator("#narrative-form, textarea").count() == 0
    problems = await check_page(page, "viewer-report", artefacts)
    assert not problems, "\n".join(problems)
