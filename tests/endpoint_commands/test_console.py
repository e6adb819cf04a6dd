"""An endpoint's console page: its switch, buttons to send a command, the commands' states, in
Vietnamese (000/004 Điều 7.2: the department switches a cluster off or on in an emergency)."""

import re

from httpx import AsyncClient

from nguon.areas.sources import AreaRecord
from nguon.identity.roles import Role
from tests.conftest import AN_GIANG, MakeEndpoint, communes_of
from tests.console.conftest import SignInAs

PAGE = "/console/endpoints/AG-RADIO-01"


def command_rows(page: str) -> list[str]:
    return re.findall(r'<tr id="command-[0-9a-f]{32}"[^>]*>.*?</tr>', page, re.S)


async def test_an_editor_switches_a_radio_off_from_its_page_and_sees_the_command_waiting(
    client: AsyncClient, sign_in_as: SignInAs, make_endpoint: MakeEndpoint, areas: list[AreaRecord]
) -> None:
    await make_endpoint("AG-RADIO-01", "radio", communes_of(areas, AN_GIANG)[0])
    token = await sign_in_as("page.editor", Role.editor, AN_GIANG)
    board = await client.get("/console/endpoints")
    assert f'<a href="{PAGE}">AG-RADIO-01</a>' in board.text
    page = await client.get(PAGE)
    assert page.status_code == 200
    assert "Đang bật" in page.text
    assert "Chưa có lệnh nào được gửi tới thiết bị này." in page.text

    sent = await client.post(
        f"{PAGE}/commands", data={"csrf_token": token, "command": "switch_off"}
    )
    assert sent.status_code == 303, sent.text
    page = await client.get(PAGE)
    assert "Đã tắt từ hệ thống nguồn: chỉ phát bản tin khẩn cấp" in page.text
    [shown] = command_rows(page.text)
    assert "Tắt" in shown
    assert "chờ gửi" in shown
    assert "user:page.editor" in shown
    board = await client.get("/console/endpoints")
    assert "tắt từ hệ thống nguồn" in board.text

    live = await client.get(f"{PAGE}/commands", headers={"HX-Request": "true"})
    assert "<html" not in live.text
    assert len(command_rows(live.text)) == 1


async def test_a_volume_out_of_range_is_refused_in_vietnamese_keeping_what_was_typed(
    client: AsyncClient, sign_in_as: SignInAs, make_endpoint: MakeEndpoint, areas: list[AreaRecord]
) -> None:
    await make_endpoint("AG-RADIO-01", "radio", communes_of(areas, AN_GIANG)[0])
    token = await sign_in_as("volume.editor", Role.editor, AN_GIANG)
    refused = await client.post(
        f"{PAGE}/commands", data={"csrf_token": token, "command": "volume", "volume": "200"}
    )
    assert refused.status_code == 422
    assert 'id="command-error"' in refused.text
    assert 'value="200"' in refused.text
    assert command_rows((await client.get(PAGE)).text) == []


async def test_a_viewer_sees_the_commands_without_buttons_and_another_chair_not_at_all(
    client: AsyncClient, sign_in_as: SignInAs, make_endpoint: MakeEndpoint, areas: list[AreaRecord]
) -> None:
    commune, other = communes_of(areas, AN_GIANG)[:2]
    await make_endpoint("AG-RADIO-01", "radio", commune)
    await sign_in_as("page.viewer", Role.viewer, AN_GIANG)
    page = await client.get(PAGE)
    assert page.status_code == 200
    assert 'id="command-switch_off"' not in page.text
    token = await sign_in_as("page.other.chair", Role.commune_chair, other)
    assert (await client.get(PAGE)).status_code == 403
    refused = await client.post(
        f"{PAGE}/commands", data={"csrf_token": token, "command": "restart"}
    )
    assert refused.status_code == 403
    await sign_in_as("page.chair", Role.commune_chair, commune)
    assert 'id="command-switch_off"' in (await client.get(PAGE)).text


async def test_a_chair_finds_the_commune_s_radio_page_from_the_preview(
    client: AsyncClient, sign_in_as: SignInAs, make_endpoint: MakeEndpoint, areas: list[AreaRecord]
) -> None:
    """002 Điều 17: the commune runs its radio; its chair reaches the radio's switch."""
    commune = communes_of(areas, AN_GIANG)[0]
    await make_endpoint("AG-RADIO-01", "radio", commune)
    token = await sign_in_as("find.chair", Role.commune_chair, commune)
    preview = await client.get("/console/preview")
    assert f'href="{PAGE}"' in preview.text
    sent = await client.post(f"{PAGE}/commands", data={"csrf_token": token, "command": "restart"})
    assert sent.status_code == 303, sent.text
    assert "Khởi động lại" in command_rows((await client.get(PAGE)).text)[0]


async def test_an_editor_switches_a_commune_s_cluster_off_in_one_form(
    client: AsyncClient, sign_in_as: SignInAs, make_endpoint: MakeEndpoint, areas: list[AreaRecord]
) -> None:
    """000/004 Điều 7.2: "hỗ trợ tắt/mở trong trường hợp đột xuất, khẩn cấp", a cluster at once."""
    commune, other = communes_of(areas, AN_GIANG)[:2]
    await make_endpoint("AG-RADIO-01", "radio", commune)
    await make_endpoint("AG-BOARD-01", "display", commune, profile="eboard")
    await make_endpoint("AG-ELSEWHERE", "radio", other)
    token = await sign_in_as("cluster.editor", Role.editor, AN_GIANG)
    assert 'href="/console/clusters"' in (await client.get("/console/endpoints")).text
    form = {"csrf_token": token, "area": commune, "endpoint_kind": "", "command": "switch_off"}
    switched = await client.post("/console/clusters", data=form)
    assert switched.status_code == 201, switched.text
    assert "Đã gửi tới 2 thiết bị" in switched.text
    assert 'href="/console/endpoints/AG-BOARD-01"' in switched.text
    for code, off in (("AG-RADIO-01", True), ("AG-BOARD-01", True), ("AG-ELSEWHERE", False)):
        page = (await client.get(f"/console/endpoints/{code}")).text
        assert ("Đã tắt từ hệ thống nguồn" in page) is off, code

    refused = await client.post("/console/clusters", data={**form, "area": "99999"})
    assert refused.status_code == 404
    assert 'id="cluster-error"' in refused.text
    assert 'value="99999"' in refused.text
    unchosen = await client.post("/console/clusters", data={**form, "command": "restart"})
    assert unchosen.status_code == 422
    assert "Hãy chọn tắt hoặc bật các thiết bị." in unchosen.text


async def test_a_viewer_is_not_offered_the_cluster_switch(
    client: AsyncClient, sign_in_as: SignInAs, areas: list[AreaRecord]
) -> None:
    await sign_in_as("cluster.viewer", Role.viewer, AN_GIANG)
    assert 'href="/console/clusters"' not in (await client.get("/console/endpoints")).text
    assert (await client.get("/console/clusters")).status_code == 403
