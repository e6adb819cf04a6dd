"""Every page of the console, in a real browser, for every role: signed in through the form, the
home page and each page of the main menu as the page itself offers it (so a page joins these
checks as soon as the menu links to it), checked with axe-core and at a phone's width, with
screenshots at desktop and phone width as artefacts."""

from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from axe_playwright_python.async_playwright import Axe  # type: ignore[import-untyped]
from playwright.async_api import BrowserContext, Page

from tests.browser.hub import (
    DESKTOP,
    OTHER_CHAIR,
    PASSWORD,
    PEOPLE,
    PHONE,
    communes,
    sign_in,
    submit_sign_in,
)

# What the browser adds is the same on either database (tests/console runs the pages on both).
pytestmark = pytest.mark.embedded_only

AXE = Axe()
# What axe-core finds at these levels keeps someone from using the page at all.
BLOCKING = ("serious", "critical")

# The visible form controls that have no accessible name: a <label> (for= or around it), an
# aria-label or aria-labelledby with text, or, for a button, its own text.
UNLABELLED = """() => {
  const text = (value) => (value || "").trim().length > 0;
  const named = (control) => {
    if (text(control.getAttribute("aria-label"))) return true;
    const ids = (control.getAttribute("aria-labelledby") || "").split(/\\s+/).filter(Boolean);
    if (ids.some((id) => text(document.getElementById(id)?.textContent))) return true;
    if ([...(control.labels || [])].some((label) => text(label.textContent))) return true;
    if (control.tagName === "BUTTON") return text(control.textContent);
    if (["submit", "reset", "button"].includes(control.type)) return text(control.value);
    return false;
  };
  return [...document.querySelectorAll("input, select, textarea, button")]
    .filter((control) => control.type !== "hidden" && control.checkVisibility())
    .filter((control) => !named(control))
    .map((control) => control.outerHTML);
}"""
HORIZONTAL_SCROLL = "() => document.scrollingElement.scrollWidth - window.innerWidth"
MENU_LINKS = """() => [...document.querySelectorAll("header nav[aria-label] a[href]")]
  .map((link) => new URL(link.href).pathname)"""


async def accessibility_problems(page: Page) -> list[str]:
    """axe-core's serious and critical violations, and the controls without a label."""
    results = await AXE.run(page)
    problems = [
        f"axe {violation['id']} ({violation['impact']}): {violation['help']} "
        f"<{violation['helpUrl']}>\n"
        + "\n".join(
            f"    at {', '.join(map(str, node['target']))}: {node['failureSummary']}"
            for node in violation["nodes"]
        )
        for violation in results.response["violations"]
        if violation["impact"] in BLOCKING
    ]
    problems += [f"no accessible label: {html}" for html in await page.evaluate(UNLABELLED)]
    return problems


async def check_page(page: Page, name: str, artefacts: Path) -> list[str]:
    """The page as it is shown now, at desktop then phone width; what is wrong with it."""
    problems = await accessibility_problems(page)
    await page.screenshot(path=artefacts / f"{name}-{DESKTOP['width']}.png", full_page=True)
    await page.set_viewport_size(PHONE)
    overflow = await page.evaluate(HORIZONTAL_SCROLL)
    if overflow > 0:
        problems.append(f"scrolls sideways by {overflow} px at {PHONE['width']} px wide")
    await page.screenshot(path=artefacts / f"{name}-{PHONE['width']}.png", full_page=True)
    await page.set_viewport_size(DESKTOP)
    return [f"{name}: {problem}" for problem in problems]


def page_name(path: str) -> str:
    """`/console/bulletins/new` → `bulletins-new`; the console's root is `home`."""
    return path.removeprefix("/console").strip("/").replace("/", "-") or "home"


async def menu(page: Page) -> list[str]:
    """The paths the main menu links to, in its order, each once."""
    paths: list[str] = await page.evaluate(MENU_LINKS)
    return list(dict.fromkeys(paths))


# One person per role: the other chair's pages are the first's.
ONE_PER_ROLE = [username for username in PEOPLE if username != OTHER_CHAIR]


@pytest.mark.parametrize("username", ONE_PER_ROLE)
async def test_every_page_of_the_menu_is_accessible_and_fits_a_phone(
    hub: str, context: BrowserContext, artefacts: Path, subtests: pytest.Subtests, username: str
) -> None:
    """One subtest per page; a menu link whose page answers 404 is a skipped subtest, which
    names it, and any other refusal fails."""
    page = await context.new_page()
    await sign_in(page, hub, username)
    paths = await menu(page)
    assert "/console/" in paths, paths
    for path in paths:
        with subtests.test(path):
            answer = await page.goto(f"{hub}{path}")
            assert answer is not None
            if answer.status == 404:
                pytest.skip(f"{username}'s menu links to {path}, which answers 404")
            assert answer.status < 400, f"{path} answered {answer.status} to {username}"
            assert urlsplit(page.url).path == path, f"{path} led {username} to {page.url}"
            problems = await check_page(page, f"{username}-{page_name(path)}", artefacts)
            assert not problems, "\n".join(problems)


async def test_the_sign_in_page_is_accessible_in_both_languages_and_when_refused(
    hub: str, context: BrowserContext, artefacts: Path
) -> None:
    page = await context.new_page()
    await page.goto(f"{hub}/console/sign-in")
    assert await page.get_attribute("html", "lang") == "vi"
    problems = await check_page(page, "signed-out-sign-in", artefacts)
    await submit_sign_in(page, "nobody")
    await page.get_by_role("alert").wait_for()
    problems += await check_page(page, "signed-out-sign-in-refused", artefacts)
    await page.get_by_role("button", name="English").click()
    await page.get_by_role("button", name="Sign in").wait_for()
    assert await page.get_attribute("html", "lang") == "en"
    assert await page.get_by_label("Username").is_visible()
    problems += await check_page(page, "signed-out-sign-in-en", artefacts)
    assert not problems, "\n".join(problems)


async def test_the_pages_behind_the_departments_buttons_are_accessible(
    hub: str, context: BrowserContext, artefacts: Path
) -> None:
    """The page that shows a new API key once, and the audit log with its chain checked: no menu
    links to them, so they are reached through their buttons."""
    page = await context.new_page()
    await sign_in(page, hub, "admin")
    await page.goto(f"{hub}/console/users")
    await page.fill("#new-key-name", "Hệ thống tin của Sở Nông nghiệp")
    await page.select_option("#new-key-role", "integration")
    await page.fill("#new-key-area", "91")
    await page.click("#create-key")
    secret = page.locator("#new-key-secret")
    await secret.wait_for()
    assert len((await secret.inner_text()).strip()) > 20
    problems = await check_page(page, "admin-key-created", artefacts)
    await page.goto(f"{hub}/console/audit")
    await page.get_by_role("button", name="Kiểm tra chuỗi").click()
    await page.locator("#verify-ok").wait_for()
    problems += await check_page(page, "admin-audit-verified", artefacts)
    assert not problems, "\n".join(problems)


# The seconds of sound the page's first speech player has loaded, once the browser has read
# the MP3's header.
SPEECH_SECONDS = """async () => {
  const audio = document.querySelector("audio[src^='/console/media/']");
  if (audio.readyState < 1) {
    await new Promise((loaded, failed) => {
      audio.addEventListener("loadedmetadata", loaded, { once: true });
      const refused = () => failed(new Error("the MP3 did not load"));
      audio.addEventListener("error", refused, { once: true });
    });
  }
  return audio.duration;
}"""


async def test_an_editor_hears_a_text_bulletins_speech_before_approving_it(
    hub: str, context: BrowserContext, artefacts: Path
) -> None:
    """The review queue and the bulletin's page play its words read aloud for radio, in the
    browser, and both pages stay accessible with the players in them."""
    async with httpx.AsyncClient(base_url=hub) as api:
        answer = await api.post(
            "/api/v1/auth/token", data={"username": "publisher", "password": PASSWORD}
        )
        author = {"Authorization": f"Bearer {answer.json()['access_token']}"}
        created = await api.post(
            "/api/v1/bulletins",
            json={
                "title": "Thông báo cắt điện",
                "kind": "text",
                "body": "Từ 7 giờ đến 11 giờ ngày 15/12, khu vực ấp Long Hòa tạm ngừng cấp điện.",
                "category": "access_to_information",
                "targets": [communes()[0]],
            },
            headers=author,
        )
        assert created.status_code == 201, created.text
        bulletin_id = created.json()["id"]
        submitted = await api.post(f"/api/v1/bulletins/{bulletin_id}/submit", headers=author)
        assert submitted.status_code == 200, submitted.text
    page = await context.new_page()
    await sign_in(page, hub, "editor")
    await page.goto(f"{hub}/console/review")
    assert await page.evaluate(SPEECH_SECONDS) > 2
    problems = await check_page(page, "editor-review-speech", artefacts)
    await page.goto(f"{hub}/console/bulletins/{bulletin_id}")
    assert await page.evaluate(SPEECH_SECONDS) > 2
    problems += await check_page(page, "editor-bulletin-speech", artefacts)
    assert not problems, "\n".join(problems)
