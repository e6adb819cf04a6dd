"""An endpoint's page in a real browser: reached from the endpoints board, a command sent with
its button, the page accessible before and after (000/004 Điều 7.2: the department switches
clusters and sets them from the hub)."""

from pathlib import Path

import pytest
from playwright.async_api import BrowserContext

from tests.browser.hub import sign_in
from tests.browser.test_pages import check_page

# What the browser adds is the same on either database (tests/console runs the pages on both).
pytestmark = pytest.mark.embedded_only


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


async def test_an_admin_keeps_an_endpoint_s_records_and_a_viewer_reads_them(
    hub: str, context: BrowserContext, artefacts: Path
) -> None:
    """000/004 Điều 7.4 and 6.8: the focal person named and an inspection recorded from the
    endpoint's page; a refused day shown beside the form; a viewer reads all of it, without
    the forms, and each state of the page stays accessible."""
    page = await context.new_page()
    await sign_in(page, hub, "admin")
    await page.goto(f"{hub}/console/endpoints")
    await page.locator("#endpoint-board tbody th a").first.click()
    await page.locator("#focal-person-form").wait_for()
    endpoint_page = page.url
    problems = await check_page(page, "admin-endpoint", artefacts)

    await page.get_by_label("Tên", exact=True).fill("Nguyễn Văn An")
    await page.get_by_label("Số điện thoại").fill("0296 3852 123")
    await page.get_by_label("Cơ quan, đơn vị").fill("UBND xã")
    await page.get_by_role("button", name="Lưu người phụ trách").click()
    await page.locator("#focal-name-shown").wait_for()
    assert await page.inner_text("#focal-name-shown") == "Nguyễn Văn An"

    # A day after today, as a form the browser let through would send it.
    await page.evaluate("document.querySelector('#maintenance-day').removeAttribute('max')")
    await page.fill("#maintenance-day", "2999-01-01")
    await page.select_option("#maintenance-kind", "inspection")
    await page.fill("#maintenance-by", "Tổ kỹ thuật Sở")
    await page.fill("#maintenance-outcome", "Hoạt động tốt")
    await page.click("#maintenance-save")
    await page.locator("#maintenance-error").wait_for()
    assert "ở sau hôm nay" in await page.inner_text("#maintenance-error")
    problems += await check_page(page, "admin-endpoint-maintenance-refused", artefacts)

    await page.fill("#maintenance-day", "2026-01-05")
    await page.click("#maintenance-save")
    row = page.locator("#maintenance-list tbody tr[id^='maintenance-']").first
    await row.wait_for()
    assert "Hoạt động tốt" in await row.inner_text()
    problems += await check_page(page, "admin-endpoint-records", artefacts)

    await sign_in(page, hub, "viewer")
    await page.goto(endpoint_page)
    await page.locator("#uptime-list").wait_for()
    assert await page.inner_text("#focal-name-shown") == "Nguyễn Văn An"
    assert await page.locator("#maintenance-list tbody tr[id^='maintenance-']").count() >= 1
    assert await page.locator("#focal-person-form, #maintenance-form").count() == 0
    problems += await check_page(page, "viewer-endpoint", artefacts)
    assert not problems, "\n".join(problems)
