"""Border-gate content is appraised before broadcast as a rule (Lai Châu 001 Điều 10.1a), and
an editor can send any bulletin to appraisal."""

from httpx import AsyncClient

from nguon.areas.sources import AreaRecord
from nguon.identity.roles import Role
from tests.bulletins.test_workflow import act, text_bulletin
from tests.conftest import LAI_CHAU, MakeEndpoint, MakeUser, communes_of, districts_of

PROBLEM = "application/problem+json"


async def submitted(client: AsyncClient, author: dict[str, str], target: str) -> str:
    created = await client.post("/api/v1/bulletins", json=text_bulletin(target), headers=author)
    assert created.status_code == 201, created.text
    bulletin_id = str(created.json()["id"])
    assert (await act(client, bulletin_id, "submit", author)).status_code == 200
    return bulletin_id


async def test_a_bulletin_reaching_a_border_gate_is_appraised_before_approval(
    client: AsyncClient, make_user: MakeUser, make_endpoint: MakeEndpoint, areas: list[AreaRecord]
) -> None:
    """001 Điều 10.1a: the department "thẩm định, biên tập" what goes on the border-gate
    clusters; unmarked bulletins that reach one, by area or by code, wait for appraisal."""
    district, other = districts_of(areas, LAI_CHAU)[:2]
    gate_commune = communes_of(areas, district)[0]
    await make_endpoint("LC-GATE", "display", gate_commune, profile="border_gate")
    await make_endpoint("LC-BOARD", "display", communes_of(areas, other)[0], profile="eboard")
    publisher = await make_user("ap.publisher", Role.publisher, LAI_CHAU)
    editor = await make_user("ap.editor", Role.editor, LAI_CHAU)
    appraiser = await make_user("ap.appraiser", Role.appraiser, LAI_CHAU)

    for target in (LAI_CHAU, gate_commune, "LC-GATE"):
        bulletin_id = await submitted(client, publisher, target)
        refused = await act(client, bulletin_id, "approve", editor)
        assert refused.status_code == 409, refused.text
        assert refused.headers["content-type"] == PROBLEM
        assert "reaches a border-gate display" in refused.json()["detail"]
        assert (await act(client, bulletin_id, "appraise", appraiser)).status_code == 200
        approved = await act(client, bulletin_id, "approve", editor)
        assert approved.status_code == 200, approved.text
        assert approved.json()["status"] == "published"

    # A bulletin for the other district reaches no border gate: no appraisal needed.
    elsewhere = await submitted(client, publisher, other)
    assert (await act(client, elsewhere, "approve", editor)).status_code == 200


async def test_an_editor_sends_any_bulletin_to_appraisal(
    client: AsyncClient, make_user: MakeUser, areas: list[AreaRecord]
) -> None:
    """001 Điều 10.1a (thẩm định) beyond border gates: the editor asks for it."""
    publisher = await make_user("ap.publisher", Role.publisher, LAI_CHAU)
    editor = await make_user("ap.editor", Role.editor, LAI_CHAU)
    appraiser = await make_user("ap.appraiser", Role.appraiser, LAI_CHAU)
    bulletin_id = await submitted(client, publisher, LAI_CHAU)
    by_publisher = await act(client, bulletin_id, "request-appraisal", publisher)
    assert by_publisher.status_code == 403, by_publisher.text
    sent = await act(client, bulletin_id, "request-appraisal", editor)
    assert sent.status_code == 200, sent.text
    assert sent.json()["appraisal_requested"] is True
    refused = await act(client, bulletin_id, "approve", editor)
    assert refused.status_code == 409, refused.text
    assert "sent to appraisal by an editor" in refused.json()["detail"]
    assert (await act(client, bulletin_id, "appraise", appraiser)).status_code == 200
    assert (await act(client, bulletin_id, "approve", editor)).status_code == 200
    # Appraised or on air, it is past sending.
    again = await act(client, bulletin_id, "request-appraisal", editor)
    assert again.status_code == 409, again.text
