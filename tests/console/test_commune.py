"""The commune chair's pages: the queue in sections, the chair's order, the programme on a day
of the radio's windows, and what each endpoint plays at a moment."""

import re
from datetime import datetime
from typing import Any
from urllib.parse import quote

import pytest
from httpx import AsyncClient

from nguon.areas.sources import AreaRecord
from nguon.identity.roles import Role
from tests.conftest import LAI_CHAU, MakeEndpoint, MakeUser, communes_of, districts_of
from tests.console.conftest import sign_in
from tests.dispatch.test_playlist import commune_on_air, tomorrow

LOCAL_INPUT = "%Y-%m-%dT%H:%M"


@pytest.fixture
async def commune(
    client: AsyncClient, make_user: MakeUser, make_endpoint: MakeEndpoint, areas: list[AreaRecord]
) -> dict[str, Any]:
    """The commune of the playlist tests, its chair signed in to the console (and holding an
    API token, to check what the pages did)."""
    prepared = await commune_on_air(client, make_user, make_endpoint, areas, "cc")
    assert (await sign_in(client, "cc.chair")).status_code == 303
    return {**prepared, "csrf": str(client.cookies["nguon_csrf"])}


def section(page: str, name: str) -> str:
    found = re.search(rf'<section id="queue-{name}".*?</section>', page, re.DOTALL)
    assert found, name
    return found.group(0)


def rows(html: str) -> list[str]:
    """The bulletin ids of a table's or list's rows, in order."""
    return re.findall(r'data-bulletin="([^"]+)"', html)


def sent(page: str, name: str) -> list[str]:
    """What a form sends for a field the page holds hidden, in order."""
    return re.findall(rf'name="{name}" value="([^"]+)"', page)


def element(page: str, pattern: str) -> str:
    found = re.search(pattern, page, re.DOTALL)
    assert found, pattern
    return found.group(0)


async def api_queue(client: AsyncClient, commune: dict[str, Any]) -> list[str]:
    answer = await client.get(f"/api/v1/communes/{commune['code']}/queue", headers=commune["chair"])
    assert answer.status_code == 200, answer.text
    return [item["bulletin_id"] for item in answer.json()["items"]]


async def api_programme(client: AsyncClient, commune: dict[str, Any]) -> list[dict[str, Any]]:
    answer = await client.get(
        f"/api/v1/communes/{commune['code']}/programme", headers=commune["chair"]
    )
    assert answer.status_code == 200, answer.text
    return list(answer.json()["items"])


async def test_the_queue_shows_each_item_in_its_section_in_the_regulations_order(
    client: AsyncClient, commune: dict[str, Any]
) -> None:
    ids = commune["ids"]
    page = await client.get("/console/commune")
    assert page.status_code == 200, page.text
    assert "Hàng đợi của xã" in page.text
    assert rows(section(page.text, "emergency")) == [ids["emergency"]]
    assert rows(section(page.text, "priority")) == [
        ids["province"],
        ids["district"],
        ids["commune"],
    ]
    assert rows(section(page.text, "programme")) == []
    assert "Chưa có tin thông thường nào trong chương trình." in section(page.text, "programme")
    available = section(page.text, "available")
    assert rows(available) == [ids["normal"]]
    assert "Thêm vào chương trình" in available
    assert f'name="bulletin" value="{ids["normal"]}"' in available
    priority = section(page.text, "priority")
    assert "Tỉnh · 12" in priority
    assert priority.count('class="move-up"') == 3
    assert '<button type="submit" id="save-order"' in priority
    assert "Lưu thứ tự" in priority
    # The page and the API's queue are one order.
    assert rows(page.text) == await api_queue(client, commune)


async def test_moves_set_an_order_that_lu_thu_tu_saves_as_the_api_does(
    client: AsyncClient, commune: dict[str, Any]
) -> None:
    ids = commune["ids"]
    before = await api_queue(client, commune)
    shown = [ids["province"], ids["district"], ids["commune"]]
    # A move is a look at the order being set: a GET, so nothing is saved or audited.
    draft = await client.get(
        "/console/commune", params={"order": shown, "move": f"up:{ids['commune']}"}
    )
    assert draft.status_code == 200, draft.text
    assert rows(section(draft.text, "priority")) == [
        ids["province"],
        ids["commune"],
        ids["district"],
    ]
    assert "Thứ tự này chưa được lưu." in draft.text
    # The focus stays on the button pressed, for a person using the keyboard.
    assert re.search(rf'value="up:{ids["commune"]}"\s+autofocus', draft.text)
    assert await api_queue(client, commune) == before

    again = await client.get(
        "/console/commune",
        params={"order": sent(draft.text, "order"), "move": f"up:{ids['commune']}"},
    )
    order = rows(section(again.text, "priority"))
    assert order == [ids["commune"], ids["province"], ids["district"]]
    # At the top its "Move up" is off, so the focus moves to its "Move down".
    assert re.search(rf'value="down:{ids["commune"]}"\s+autofocus', again.text)
    assert sent(again.text, "bulletin_ids") == order

    saved = await client.post(
        "/console/commune/order",
        data={"csrf_token": commune["csrf"], "bulletin_ids": sent(again.text, "bulletin_ids")},
    )
    assert saved.status_code == 303
    assert saved.headers["location"] == "/console/commune"
    assert await api_queue(client, commune) == [ids["emergency"], *order, ids["normal"]]
    page = await client.get("/console/commune")
    assert rows(section(page.text, "priority")) == order
    assert "chưa được lưu" not in page.text


async def test_a_refused_order_is_told_in_vietnamese_keeps_the_order_set_and_changes_nothing(
    client: AsyncClient, commune: dict[str, Any]
) -> None:
    ids = commune["ids"]
    before = await api_queue(client, commune)
    typed = [ids["district"], ids["commune"], ids["province"], ids["normal"]]
    refused = await client.post(
        "/console/commune/order", data={"csrf_token": commune["csrf"], "bulletin_ids": typed}
    )
    assert refused.status_code == 422
    assert refused.headers["content-type"].startswith("text/html")
    error = element(refused.text, r'<p class="error" role="alert" id="order-error">.*?</p>')
    assert "Chỉ sắp xếp được các tin ưu tiên trùng lịch với tin ưu tiên của chính xã" in error
    assert ids["normal"] in error
    assert 'aria-describedby="order-error"' in refused.text
    assert rows(section(refused.text, "priority")) == typed[:3]
    assert await api_queue(client, commune) == before


async def test_a_normal_item_put_into_the_programme_shows_on_the_timeline_and_the_api(
    client: AsyncClient, commune: dict[str, Any]
) -> None:
    normal = commune["ids"]["normal"]
    day = tomorrow(0).date().isoformat()
    page = await client.get(f"/console/programme?day={day}&bulletin={normal}")
    assert page.status_code == 200, page.text
    assert f"Chương trình truyền thanh ngày {tomorrow(0):%d/%m/%Y}" in page.text
    assert "Khung giờ 05:00–06:30" in page.text
    assert "Khung giờ 17:00–18:30" in page.text
    form = element(
        page.text, r'<form method="post" action="/console/programme" id="programme-add".*?</form>'
    )
    assert re.search(rf'<option value="{normal}" selected>normal', form)
    assert f'id="programme-time" name="slot" value="{tomorrow(5):{LOCAL_INPUT}}"' in form
    assert "Thêm vào chương trình" in form

    added = await client.post(
        "/console/programme",
        data={
            "csrf_token": commune["csrf"],
            "day": day,
            "bulletin_id": normal,
            "slot": f"{tomorrow(17, 15):{LOCAL_INPUT}}",
        },
    )
    assert added.status_code == 303, added.text
    assert added.headers["location"] == f"/console/programme?day={day}"
    (entry,) = await api_programme(client, commune)
    assert entry["bulletin_id"] == normal
    assert datetime.fromisoformat(entry["slot"]) == tomorrow(17, 15)

    timeline = await client.get(added.headers["location"])
    evening = element(timeline.text, r'<li class="window" id="window-2">.*?</ul>')
    assert rows(evening) == [normal]
    assert f"{tomorrow(17, 15):%d/%m/%Y} 17:15" in evening
    assert "normal" in evening
    queue = await client.get("/console/commune")
    assert rows(section(queue.text, "programme")) == [normal]
    assert rows(section(queue.text, "available")) == []

    removed = await client.post(
        f"/console/programme/{entry['id']}/remove",
        data={"csrf_token": commune["csrf"], "day": day},
    )
    assert removed.status_code == 303
    assert await api_programme(client, commune) == []
    assert (
        rows(
            element(
                (await client.get(removed.headers["location"])).text,
                r'id="programme-timeline".*?</section>',
            )
        )
        == []
    )


async def test_a_slot_outside_the_windows_is_refused_in_vietnamese_keeping_the_choice(
    client: AsyncClient, commune: dict[str, Any]
) -> None:
    normal = commune["ids"]["normal"]
    noon = f"{tomorrow(12):{LOCAL_INPUT}}"
    refused = await client.post(
        "/console/programme",
        data={
            "csrf_token": commune["csrf"],
            "day": tomorrow(0).date().isoformat(),
            "bulletin_id": normal,
            "slot": noon,
        },
    )
    assert refused.status_code == 422
    form = element(
        refused.text,
        r'<form method="post" action="/console/programme" id="programme-add".*?</form>',
    )
    error = element(form, r'<p class="error" role="alert" id="programme-error">.*?</p>')
    assert (
        "nằm ngoài khung giờ hoạt động của đài truyền thanh (ngày đó: 05:00-06:30, 17:00-18:30"
        in error
    )
    assert f'value="{noon}"' in form
    assert re.search(rf'<option value="{normal}" selected>', form)
    assert 'aria-describedby="programme-error"' in form
    assert await api_programme(client, commune) == []

    unreadable = await client.post(
        "/console/programme",
        data={"csrf_token": commune["csrf"], "bulletin_id": normal, "slot": "chiều mai"},
    )
    assert unreadable.status_code == 422
    assert "Hãy nhập ngày và giờ." in unreadable.text
    assert await api_programme(client, commune) == []


async def test_a_chair_of_another_commune_sees_neither_its_queue_nor_its_programme(
    client: AsyncClient, commune: dict[str, Any], make_user: MakeUser, areas: list[AreaRecord]
) -> None:
    neighbour = communes_of(areas, districts_of(areas, LAI_CHAU)[0])[1]
    other = await make_user("cc.neighbour", Role.commune_chair, neighbour)
    api = await client.get(f"/api/v1/communes/{commune['code']}/queue", headers=other)
    assert api.status_code == 403
    assert (await sign_in(client, "cc.neighbour")).status_code == 303
    token = str(client.cookies["nguon_csrf"])
    code = commune["code"]
    for path in (
        f"/console/commune?code={code}",
        f"/console/programme?code={code}",
        f"/console/preview?code={code}",
        "/console/preview?endpoint=CC-RADIO",
    ):
        page = await client.get(path)
        assert page.status_code == api.status_code, path
        assert "không được thao tác trên" in page.text, path
        assert commune["ids"]["province"] not in page.text
    order = await client.post(
        "/console/commune/order",
        data={"csrf_token": token, "code": code, "bulletin_ids": [commune["ids"]["province"]]},
    )
    assert order.status_code == 403
    own = await client.get("/console/commune")
    assert own.status_code == 200
    assert rows(own.text) == []


async def test_the_preview_shows_what_the_device_itself_is_given(
    client: AsyncClient, commune: dict[str, Any]
) -> None:
    ids = commune["ids"]
    page = await client.get("/console/preview")
    assert page.status_code == 200, page.text
    form = element(
        page.text, r'<form method="get" action="/console/preview" id="preview".*?</form>'
    )
    assert '<option value="CC-BOARD" selected>' in form
    assert '<option value="CC-RADIO" >' in form or '<option value="CC-RADIO">' in form
    for code in ("CC-BOARD", "CC-RADIO"):
        shown = await client.get(f"/console/preview?endpoint={code}")
        device = await client.get("/api/v1/device/playlist", headers=commune[code[3:].lower()])
        assert device.status_code == 200
        playlist = device.json()
        now = element(shown.text, r'<table id="preview-items">.*?</table>')
        upcoming = element(shown.text, r'<table id="preview-upcoming">.*?</table>')
        assert rows(now) == [item["bulletin_id"] for item in playlist["items"]]
        assert rows(upcoming) == [item["bulletin_id"] for item in playlist["upcoming"]]

    # Tomorrow evening the radio plays the priority items, the chair's programme included.
    await client.post(
        "/console/programme",
        data={
            "csrf_token": commune["csrf"],
            "bulletin_id": ids["normal"],
            "slot": f"{tomorrow(17, 15):{LOCAL_INPUT}}",
        },
    )
    at = tomorrow(17, 30)
    shown = await client.get(f"/console/preview?endpoint=CC-RADIO&at={at:{LOCAL_INPUT}}")
    assert "Trong khung giờ phát" in shown.text
    api = await client.get(
        f"/api/v1/endpoints/CC-RADIO/playlist?at={quote(at.isoformat())}",
        headers=commune["editor"],
    )
    expected = [item["bulletin_id"] for item in api.json()["items"]]
    assert expected == [
        ids["emergency"],
        ids["province"],
        ids["district"],
        ids["commune"],
        ids["normal"],
    ]
    assert rows(element(shown.text, r'<table id="preview-items">.*?</table>')) == expected

    unreadable = await client.get("/console/preview?endpoint=CC-RADIO&at=bay-gio")
    assert unreadable.status_code == 422
    assert "Hãy nhập ngày và giờ." in unreadable.text
    assert 'value="bay-gio"' in unreadable.text


async def test_an_editor_chooses_the_commune_and_reads_its_queue_without_deciding(
    client: AsyncClient, commune: dict[str, Any]
) -> None:
    assert (await sign_in(client, "cc.editor")).status_code == 303
    for page in ("commune", "programme", "preview"):
        choice = await client.get(f"/console/{page}")
        assert choice.status_code == 200
        assert "Chọn xã" in choice.text
        assert f'action="/console/{page}"' in choice.text
    queue = await client.get(f"/console/commune?code={commune['code']}")
    assert queue.status_code == 200
    assert rows(queue.text) == await api_queue(client, commune)
    # The order and the programme are the chair's alone (Điều 8.2, 8.3), as in the API.
    assert "move-up" not in queue.text
    assert "save-order" not in queue.text
    programme = await client.get(f"/console/programme?code={commune['code']}")
    assert programme.status_code == 200
    assert "programme-add" not in programme.text
