"""The console parts of the broadcast rules: why a bulletin waits for appraisal (Lai Châu 001
Điều 10.1a), the editor's request for it, postings outside the windows (002 Điều 10.2), and the
province's rules page (001 Điều 8.1, 8.3)."""

import re

from httpx import AsyncClient

from nguon.areas.sources import AreaRecord
from nguon.identity.roles import Role
from tests.conftest import AN_GIANG, LAI_CHAU, MakeEndpoint, MakeUser, communes_of, districts_of
from tests.console.conftest import SignInAs
from tests.console.test_publishing import compose_form, created_id
from tests.console.test_review import button, press, submitted


def row(page: str, id_: str) -> str:
    """The text of the element with this id, up to its end tag."""
    found = re.search(rf'id="{id_}"[^>]*>(.*?)</', page, re.S)
    assert found, id_
    return " ".join(found.group(1).split())


BORDER_GATE_NOTE = "Cần thẩm định: tin đến cụm thông tin cửa khẩu"
REQUESTED_NOTE = "Biên tập viên yêu cầu thẩm định"


async def test_the_pages_say_why_a_bulletin_waits_for_appraisal_001_dieu_10_1a(
    client: AsyncClient,
    make_user: MakeUser,
    make_endpoint: MakeEndpoint,
    areas: list[AreaRecord],
    sign_in_as: SignInAs,
) -> None:
    """001 Điều 10.1a: what reaches a border-gate cluster is appraised first, and the queue
    and the bulletin say so; an editor sends another bulletin to appraisal with a button,
    and then the pages say that an editor asked for it."""
    district, other = districts_of(areas, LAI_CHAU)[:2]
    gate_commune = communes_of(areas, district)[0]
    await make_endpoint("LC-GATE-PAGE", "display", gate_commune, profile="border_gate")
    publisher = await make_user("rules.publisher", Role.publisher, LAI_CHAU)
    to_gate = await submitted(client, {"commune": gate_commune, "publisher": publisher})
    plain = await submitted(
        client, {"commune": communes_of(areas, other)[0], "publisher": publisher}
    )
    token = await sign_in_as("rules.editor", Role.editor, LAI_CHAU)

    queue = (await client.get("/console/review")).text
    assert queue.count(BORDER_GATE_NOTE) == 1
    gate_page = (await client.get(f"/console/bulletins/{to_gate}")).text
    assert BORDER_GATE_NOTE in gate_page
    plain_page = (await client.get(f"/console/bulletins/{plain}")).text
    assert BORDER_GATE_NOTE not in plain_page
    assert REQUESTED_NOTE not in plain_page
    assert button(plain_page, "request-appraisal") == "Chuyển thẩm định"

    sent = await press(client, plain, "request-appraisal", token)
    assert sent.status_code == 303, sent.text
    plain_page = (await client.get(f"/console/bulletins/{plain}")).text
    assert REQUESTED_NOTE in plain_page
    assert button(plain_page, "request-appraisal") is None  # asked once
    assert REQUESTED_NOTE in (await client.get("/console/review")).text

    # Approval waits for the appraisal, and the page shows the refusal in Vietnamese.
    refused = await press(client, plain, "approve", token)
    assert refused.status_code == 409
    assert "đã được biên tập viên chuyển thẩm định" in refused.text


async def test_only_deciders_get_the_request_button(
    client: AsyncClient, make_user: MakeUser, areas: list[AreaRecord], sign_in_as: SignInAs
) -> None:
    """001 Điều 10.1a: sending to appraisal is an editor's call; an appraiser has no button
    and the form is refused."""
    commune = communes_of(areas, districts_of(areas, LAI_CHAU)[0])[0]
    publisher = await make_user("rules.publisher", Role.publisher, LAI_CHAU)
    bulletin_id = await submitted(client, {"commune": commune, "publisher": publisher})
    token = await sign_in_as("rules.appraiser", Role.appraiser, LAI_CHAU)
    page = (await client.get(f"/console/bulletins/{bulletin_id}")).text
    assert button(page, "request-appraisal") is None
    refused = await press(client, bulletin_id, "request-appraisal", token)
    assert refused.status_code == 403


async def test_an_editor_ticks_outside_windows_on_the_form_002_dieu_10_2(
    client: AsyncClient, make_user: MakeUser, areas: list[AreaRecord], sign_in_as: SignInAs
) -> None:
    """002 Điều 10.2: an ad hoc or important-event posting plays outside the e-boards'
    windows; the compose and edit forms give editors the box, and a publisher's later edit
    keeps what the editor set."""
    commune = communes_of(areas, AN_GIANG)[0]
    publisher = await make_user("rules.publisher", Role.publisher, AN_GIANG)
    token = await sign_in_as("rules.editor", Role.editor, AN_GIANG)
    compose = (await client.get("/console/bulletins/new")).text
    assert 'id="outside-windows"' in compose
    assert "Đăng ngoài khung giờ hoạt động của bảng tin điện tử" in compose
    created = await client.post(
        "/console/bulletins/new",
        data=compose_form(token, commune, outside_windows="true", outside_windows_offered="true"),
    )
    bulletin_id = created_id(created)
    stored = await client.get(f"/api/v1/bulletins/{bulletin_id}", headers=publisher)
    assert stored.json()["outside_windows"] is True
    edit = (await client.get(f"/console/bulletins/{bulletin_id}/edit")).text
    assert re.search(r'id="outside-windows"[^>]*checked', edit)

    # The publisher's form has no box, and saving it leaves the posting as the editor set it.
    client.cookies.clear()
    publisher_token = await sign_in_as("rules.publisher2", Role.publisher, AN_GIANG)
    assert 'id="outside-windows"' not in (await client.get("/console/bulletins/new")).text
    edit = (await client.get(f"/console/bulletins/{bulletin_id}/edit")).text
    assert 'id="outside-windows"' not in edit
    saved = await client.post(
        f"/console/bulletins/{bulletin_id}/edit",
        data=compose_form(publisher_token, commune, title="Sửa lại", valid_from="", valid_until=""),
    )
    assert saved.status_code == 303, saved.text
    stored = await client.get(f"/api/v1/bulletins/{bulletin_id}", headers=publisher)
    assert (stored.json()["title"], stored.json()["outside_windows"]) == ("Sửa lại", True)


async def test_the_province_admin_keeps_hours_and_advertising_limits_001_dieu_8(
    client: AsyncClient, make_user: MakeUser, sign_in_as: SignInAs
) -> None:
    """001 Điều 8.1 (least hours a day, 3 h morning and 3 h afternoon) and 8.3 (advertising
    airtime): the "Quy định phát" page shows each profile's rules and saves them through the
    API's service; a figure the API refuses is refused on the page, changing nothing."""
    token = await sign_in_as("rules.admin", Role.admin, LAI_CHAU)
    home = (await client.get("/console/")).text
    assert 'href="/console/rules"' in home
    page = await client.get("/console/rules")
    assert page.status_code == 200
    assert "Quy định phát" in page.text
    # Without a rule of the province's own, the hub's settings hold (border gates 6 h a day).
    assert row(page.text, "rules-border_gate-hours") == "6 giờ · thiết lập chung"
    assert "10% thời gian hoạt động" in row(page.text, "rules-radio-advertising")

    saved = await client.post(
        "/console/rules/eboard",
        data={"csrf_token": token, "daily_hours": "7", "morning_hours": "3",
              "afternoon_hours": "4", "minutes_per_day": "20", "percent_of_day": ""},
    )  # fmt: skip
    assert saved.status_code == 303, saved.text
    admin = await make_user("rules.api.admin", Role.admin, LAI_CHAU)
    rules = await client.get("/api/v1/rules/advertising", headers=admin)
    limit = next(item for item in rules.json()["items"] if item["profile"] == "eboard")
    assert (limit["minutes_per_day"], limit["percent_of_day"]) == (20, None)
    hours = await client.get("/api/v1/rules/hours", headers=admin)
    rule = next(item for item in hours.json()["items"] if item["profile"] == "eboard")
    assert (rule["daily_hours"], rule["afternoon_hours"]) == (7, 4)
    page = await client.get(saved.headers["location"])
    assert row(page.text, "rules-eboard-hours") == (
        "7 giờ · 3 giờ buổi sáng · 4 giờ buổi chiều · quy định của tỉnh"
    )
    assert row(page.text, "rules-eboard-advertising") == "20 phút · quy định của tỉnh"
    assert 'id="rules-saved"' in page.text

    refused = await client.post(
        "/console/rules/radio",
        data={"csrf_token": token, "daily_hours": "2", "morning_hours": "2",
              "afternoon_hours": "2", "percent_of_day": "5"},
    )  # fmt: skip
    assert refused.status_code == 422
    assert 'value="5"' in refused.text  # what was typed stays
    assert "vượt quá số giờ mỗi ngày" in refused.text
    rules = await client.get("/api/v1/rules/advertising", headers=admin)
    radio = next(item for item in rules.json()["items"] if item["profile"] == "radio")
    assert radio["source"] == "default"


async def test_the_rules_page_is_the_admins(client: AsyncClient, sign_in_as: SignInAs) -> None:
    """001 Điều 8: the province's administrators set its rules; an editor reads them on the
    API, not on this page."""
    token = await sign_in_as("rules.editor", Role.editor, LAI_CHAU)
    assert 'href="/console/rules"' not in (await client.get("/console/")).text
    assert (await client.get("/console/rules")).status_code == 403
    refused = await client.post("/console/rules/radio", data={"csrf_token": token})
    assert refused.status_code == 403
