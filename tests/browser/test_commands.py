"""An endpoint's page in a real browser: reached from the endpoints board, a command sent with
its button, the page accessible before and after (000/004 Điều 7.2: the department switches
clusters and sets them from the hub)."""

from pathlib import Path

from playwright.async_api import BrowserContext

from tests.browser.hub import sign_in
from tests.browser.test_pages import check_page


async def test_an_editor_sets_a_radio_s_volume_from_its_page(
    hub: str, context: BrowserContext, artefacts: Path
) -> None:
    page = await context.new_page()
    await sign_in(page, hub, "editor")
    await page.goto(f"{hub}/console/endpoints")
    await page.locator("#endpoint-board tbody th a").first.click()
    await page.locator("#volume-form").wait_for()
    problems = await check_page(page, "editor-endpoint", artefacts)
    await page.get_by_label("Âm lượng (0–100)").fill("60")
    await page.get_by_role("button", name="Đặt âm lượng").click()
    row = page.locator("#command-list tbody tr[data-status]").first
    await row.wait_for()
    assert "Âm lượng 60" in await row.inner_text()
    problems += await check_page(page, "editor-endpoint-commanded", artefacts)
    assert not problems, "\n".join(problems)


async def test_the_cluster_switch_is_accessible_before_and_after_it_is_used(
    hub: str, context: BrowserContext, artefacts: Path
) -> None:
    """000/004 Điều 7.2: a cluster switched at once. Switched on here: the demo's endpoints are
    on already, so the other pages' checks see them as they were."""
    page = await context.new_page()
    await sign_in(page, hub, "editor")
    await page.goto(f"{hub}/console/endpoints")
    await page.locator("#cluster-switch-link").click()
    await page.locator("#cluster-switch").wait_for()
    problems = await check_page(page, "editor-clusters", artefacts)
    await page.get_by_role("button", name="Bật").click()
    await page.locator("#cluster-endpoints").wait_for()
    problems += await check_page(page, "editor-clusters-switched", artefacts)
    assert not problems, "\n".join(problems)
