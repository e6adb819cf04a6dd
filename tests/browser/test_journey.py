"""A bulletin's way through the console in a real browser, as the people of a province take it:
the province's publisher composes an audio bulletin for a commune and uploads its recording, the
editor approves it, the commune's chair puts the commune's own priority item first and the
bulletin into the radio's programme, and the radio's playlist then plays them so. The chair of
the next commune sees none of it."""

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from playwright.async_api import Browser, BrowserContext, Locator, Page, expect

from tests.browser.hub import OTHER_CHAIR, PASSWORD, communes, sign_in
from tests.browser.test_pages import check_page

# What the browser adds is the same on either database (tests/console runs the pages on both).
pytestmark = pytest.mark.embedded_only

LOCAL = ZoneInfo("Asia/Ho_Chi_Minh")
RECORDING = Path(__file__).resolve().parents[1] / "fixtures" / "media" / "tone.mp3"
TITLE = "Lịch phun thuốc diệt muỗi tại ấp Long Hòa"


class Checked:
    """The pages met on the way that no menu links to, checked as the menu's pages are
    (axe-core, labels, a phone's width) and shot as artefacts; what is wrong with them."""

    def __init__(self, artefacts: Path) -> None:
        self.artefacts = artefacts
        self.problems: list[str] = []

    async def __call__(self, page: Page, name: str) -> None:
        self.problems += await check_page(page, f"journey-{name}", self.artefacts)


def on_air_from() -> datetime:
    """03:00 tomorrow on the province's clock, when every window is closed: the priority items
    then share the next opening whatever the time the test runs at."""
    day = datetime.now(LOCAL).date() + timedelta(days=1)
    return datetime(day.year, day.month, day.day, 3, tzinfo=LOCAL)


async def api_token(api: httpx.AsyncClient, username: str) -> dict[str, str]:
    answer = await api.post("/api/v1/auth/token", data={"username": username, "password": PASSWORD})
    assert answer.status_code == 200, answer.text
    return {"Authorization": f"Bearer {answer.json()['access_token']}"}


async def priority_on_air(
    api: httpx.AsyncClient, author: dict[str, str], approver: dict[str, str], title: str
) -> str:
    """A text priority item for the demo chair's commune, on air from `on_air_from`."""
    body: dict[str, Any] = {
        "title": title,
        "kind": "text",
        "body": f"{title}: thông tin chi tiết tại trụ sở UBND xã.",
        "language": "vi",
        "category": "policy_and_law",
        "priority": "priority",
        "targets": [communes()[0]],
        "valid_from": on_air_from().isoformat(),
    }
    created = await api.post("/api/v1/bulletins", json=body, headers=author)
    assert created.status_code == 201, created.text
    bulletin_id = str(created.json()["id"])
    for action, who in (("submit", author), ("approve", approver)):
        answer = await api.post(f"/api/v1/bulletins/{bulletin_id}/{action}", headers=who)
        assert answer.status_code == 200, answer.text
    return bulletin_id


async def signed_in(context: BrowserContext, hub: str, username: str) -> Page:
    page = await context.new_page()
    await sign_in(page, hub, username)
    return page


async def compose_and_send(page: Page, hub: str, commune: str, check: Checked) -> str:
    """The publisher's part; the new bulletin's id."""
    await page.get_by_role("link", name="Tạo tin").first.click()
    await page.wait_for_url(f"{hub}/console/bulletins/new")
    await page.fill("#title", TITLE)
    await page.select_option("#kind", "audio")
    await page.select_option("#priority", "normal")
    await page.select_option("#category", "disaster_fire_epidemic")
    await page.select_option("#targets", commune)
    await page.fill("#valid-from", on_air_from().strftime("%Y-%m-%dT%H:%M"))
    await page.fill("#body", "Người dân đóng kín cửa trong thời gian phun thuốc.")
    await page.set_input_files("#media-file", RECORDING)
    await page.click("#upload-button")
    uploaded = page.locator("#media-list input[type=checkbox]:checked")
    await expect(uploaded).to_have_count(1)
    progress = page.locator("#upload-progress")
    assert await progress.evaluate("bar => bar.value === bar.max && bar.max > 0")
    await page.get_by_role("button", name="Tạo tin").click()
    await page.wait_for_url("**/edit")
    await check(page, "edit")
    await page.get_by_role("button", name="Gửi duyệt").click()
    await page.wait_for_url(lambda url: url.rstrip("/").rsplit("/", 1)[-1] != "edit")
    await expect(page.locator("#bulletin-status")).to_contain_text("chờ duyệt")
    await check(page, "submitted")
    return page.url.rsplit("/", 1)[-1]


async def approve(page: Page, hub: str, bulletin_id: str, check: Checked) -> None:
    """The editor's part: from the review queue, listen, approve."""
    await page.get_by_role("link", name="Tin chờ duyệt").click()
    await page.locator("#review-submitted").get_by_role("link", name=TITLE).click()
    await page.wait_for_url(f"{hub}/console/bulletins/{bulletin_id}")
    # The recording plays in the page, from the hub itself.
    await expect(page.locator("audio[controls]")).to_have_count(1)
    await check(page, "to-approve")
    await page.get_by_role("button", name="Duyệt").click()
    await expect(page.locator("#bulletin-status")).to_contain_text("Đã duyệt")


async def put_commune_first_and_programme(
    page: Page, hub: str, own: str, province: str, bulletin_id: str, check: Checked
) -> datetime:
    """The chair's part: the commune's item before the province's, then the bulletin into the
    first morning window after it goes on air; the slot chosen."""
    await page.get_by_role("link", name="Hàng đợi của xã").click()
    priority = page.locator("#queue-priority")
    own_row = priority.locator(f"tr[data-bulletin='{own}']")
    province_row = priority.locator(f"tr[data-bulletin='{province}']")
    await expect(own_row).to_be_visible()
    await expect(province_row).to_be_visible()
    # By keyboard, as a person without a mouse does: the commune's item up past the province's.
    while (order := await shown_order(priority)).index(own) > order.index(province):
        await own_row.locator("button.move-up").focus()
        async with page.expect_navigation():
            await page.keyboard.press("Enter")
    await check(page, "order-not-saved")
    async with page.expect_navigation():
        await page.get_by_role("button", name="Lưu thứ tự").click()

    available = page.locator("#queue-available").locator(f"tr[data-bulletin='{bulletin_id}']")
    await available.get_by_role("button", name="Thêm vào chương trình").click()
    await page.wait_for_url("**/console/programme**")
    slot = on_air_from().replace(hour=5, minute=10)
    await page.select_option("#programme-bulletin", bulletin_id)
    await page.fill("#programme-time", slot.strftime("%Y-%m-%dT%H:%M"))
    async with page.expect_navigation():
        await page.get_by_role("button", name="Thêm vào chương trình").click()
    await expect(page.locator(f"li.entry[data-bulletin='{bulletin_id}']")).to_have_count(1)
    await check(page, "programmed")
    return slot


async def shown_order(section: Locator) -> list[str]:
    ids = await section.locator("tr[data-bulletin]").evaluate_all(
        "rows => rows.map(row => row.dataset.bulletin)"
    )
    return [str(bulletin_id) for bulletin_id in ids]


def played(playlist: dict[str, Any]) -> list[str]:
    return [str(item["bulletin_id"]) for item in playlist["items"]]


async def test_a_bulletin_goes_from_the_publisher_to_the_commune_radio(
    hub: str, context: BrowserContext, browser: Browser, artefacts: Path
) -> None:
    check = Checked(artefacts)
    commune, next_commune = communes()[:2]
    async with httpx.AsyncClient(base_url=hub, timeout=30) as api:
        editor_api = await api_token(api, "editor")
        chair_api = await api_token(api, "chair")
        province = await priority_on_air(
            api, await api_token(api, "publisher"), editor_api, "Lịch tiếp công dân của tỉnh"
        )
        own = await priority_on_air(api, chair_api, chair_api, "Họp dân ấp Long Hòa")

        publisher = await signed_in(context, hub, "publisher")
        bulletin_id = await compose_and_send(publisher, hub, commune, check)

        editor_context = await browser.new_context()
        editor = await signed_in(editor_context, hub, "editor")
        await approve(editor, hub, bulletin_id, check)

        chair_context = await browser.new_context()
        chair = await signed_in(chair_context, hub, "chair")
        slot = await put_commune_first_and_programme(chair, hub, own, province, bulletin_id, check)

        queue = await api.get(f"/api/v1/communes/{commune}/queue", headers=chair_api)
        order = [str(item["bulletin_id"]) for item in queue.json()["items"]]
        assert order.index(own) < order.index(province) < order.index(bulletin_id)

        # What the radio is given in that window: the device's own playlist at that moment.
        moment = (slot + timedelta(minutes=5)).isoformat()
        radio = await api.get(
            "/api/v1/endpoints/AG-DEMO-RADIO/playlist", params={"at": moment}, headers=editor_api
        )
        assert radio.status_code == 200, radio.text
        plays = played(radio.json())
        assert plays.index(own) < plays.index(province) < plays.index(bulletin_id)
        item = next(i for i in radio.json()["items"] if i["bulletin_id"] == bulletin_id)
        assert datetime.fromisoformat(item["slot"]) == slot
        assert item["media"], item

        # The chair sees the same in the console's preview.
        await chair.goto(
            f"{hub}/console/preview?endpoint=AG-DEMO-RADIO&at="
            f"{(slot + timedelta(minutes=5)).strftime('%Y-%m-%dT%H:%M')}"
        )
        await expect(
            chair.locator(f"#preview-items tr[data-bulletin='{bulletin_id}']")
        ).to_have_count(1)

        # The next commune's chair: not this commune's queue, not the bulletin.
        other_context = await browser.new_context()
        other = await signed_in(other_context, hub, OTHER_CHAIR)
        refused = await other.goto(f"{hub}/console/commune?code={commune}")
        assert refused is not None
        assert refused.status == 403
        await check(other, "refused")
        await expect(other.get_by_role("alert")).to_contain_text("không được thao tác trên")
        # The commune's own item is the commune's: not found, as on the API.
        other_api = await api_token(api, OTHER_CHAIR)
        assert (await api.get(f"/api/v1/bulletins/{own}", headers=other_api)).status_code == 404
        unseen = await other.goto(f"{hub}/console/bulletins/{own}")
        assert unseen is not None
        assert unseen.status == 404
        await other.goto(f"{hub}/console/commune")
        assert TITLE not in await other.content()
        assert next_commune in await other.content()
        for opened in (editor_context, chair_context, other_context):
            await opened.close()
    assert check.problems == [], "\n".join(check.problems)
