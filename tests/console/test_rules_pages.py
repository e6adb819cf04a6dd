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
