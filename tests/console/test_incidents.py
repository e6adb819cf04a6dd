"""The incidents pages: the department reports an incident, follows its timeline and acts on
it in Vietnamese (Đắk Nông 002 Điều 17; An Giang 004 Điều 7.2, 7.4)."""

from httpx import AsyncClient

from nguon.areas.sources import AreaRecord
from nguon.identity.roles import Role
from tests.conftest import AN_GIANG, MakeEndpoint, MakeUser, communes_of
from tests.console.conftest import SignInAs

FOCAL = {"name": "Trần Thị Bình", "phone": "0296 3852 456", "organisation": "UBND xã"}


async def test_an_editor_reports_an_incident_acts_on_it_and_reads_its_timeline(
    client: AsyncClient,
    sign_in_as: SignInAs,
    make_user: MakeUser,
    make_endpoint: MakeEndpoint,
    areas: list[AreaRecord],
) -> None:
    """Đắk Nông 002 Điều 17 and An Giang 004 Điều 7.4: the incident shows the endpoint's focal
    person; each step is on the timeline with who and when."""
    commune = communes_of(areas, AN_GIANG)[0]
    await make_endpoint("CON-INC", "radio", commune)
    admin = await make_user("console.inc.admin", Role.admin, AN_GIANG)
    await client.patch("/api/v1/endpoints/CON-INC", json={"focal_person": FOCAL}, headers=admin)
    token = await sign_in_as("console.inc.editor", Role.editor, AN_GIANG)

    listing = await client.get("/console/incidents")
    assert listing.status_code == 200
    assert 'href="/console/incidents"' in listing.text  # in the menu
    assert "Không có sự cố nào." in listing.text
    reported = await client.post(
        "/console/incidents",
        data={
            "csrf_token": token,
            "kind": "technical",
            "severity": "high",
            "title": "Loa không phát",
            "description": "Cụm loa thôn 3 im lặng",
            "endpoints": "CON-INC",
            "areas": "",
        },
    )
    assert reported.status_code == 303, reported.text
    page_path = reported.headers["location"]
    page = await client.get(page_path)
    assert "Loa không phát" in page.text
    assert "Trần Thị Bình" in page.text
    assert "Mới báo" in page.text

    refused = await client.post(f"{page_path}/resolve", data={"csrf_token": token, "note": ""})
    assert refused.status_code == 422
    assert 'id="resolve-error"' in refused.text
    for action, note in (("acknowledge", "Đã nhận"), ("resolve", "Đã thay loa")):
        done = await client.post(f"{page_path}/{action}", data={"csrf_token": token, "note": note})
        assert done.status_code == 303, done.text
    page = await client.get(page_path)
    assert "Đã xử lý" in page.text
    assert "Đã thay loa" in page.text
    assert "user:console.inc.editor" in page.text
    again = await client.post(f"{page_path}/escalate", data={"csrf_token": token, "note": ""})
    assert again.status_code == 409
    assert "đã được xử lý xong" in again.text  # the refusal in Vietnamese


async def test_a_refused_report_keeps_what_was_typed(
    client: AsyncClient, sign_in_as: SignInAs, areas: list[AreaRecord]
) -> None:
    token = await sign_in_as("console.inc.typed", Role.admin, AN_GIANG)
    refused = await client.post(
        "/console/incidents",
        data={
            "csrf_token": token,
            "kind": "power",
            "severity": "low",
            "title": "Mất điện xã",
            "endpoints": "KHONG-CO",
        },
    )
    assert refused.status_code == 404
    assert 'value="Mất điện xã"' in refused.text
    assert "KHONG-CO" in refused.text
