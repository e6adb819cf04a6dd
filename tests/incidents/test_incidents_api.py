"""People report and handle incidents through the API, within their area (Đắk Nông 002
Điều 17; An Giang 004 Điều 7.2, 7.4; Lai Châu 001 Điều 12.2)."""

from datetime import datetime

import pytest
from httpx import AsyncClient

from nguon.areas.sources import AreaRecord
from nguon.dispatch.slots import LOCAL
from nguon.identity.roles import Role
from tests.conftest import AN_GIANG, MakeEndpoint, MakeUser, communes_of

PROBLEM = "application/problem+json"
FOCAL = {"name": "Nguyễn Văn An", "phone": "0296 3852 123", "organisation": "UBND xã"}


@pytest.fixture
def communes(areas: list[AreaRecord]) -> list[str]:
    return communes_of(areas, AN_GIANG)[:2]


async def test_an_incident_goes_from_report_to_resolution_with_its_timeline_and_focal_person(
    client: AsyncClient, make_user: MakeUser, make_endpoint: MakeEndpoint, communes: list[str]
) -> None:
    """Đắk Nông 002 Điều 17 and An Giang 004 Điều 7.4: each step names who, when and why; the
    endpoint's focal person is on the incident."""
    admin = await make_user("inc.admin", Role.admin, AN_GIANG)
    editor = await make_user("inc.editor", Role.editor, AN_GIANG)
    await make_endpoint("INC-API-1", "radio", communes[0])
    named = await client.patch(
        "/api/v1/endpoints/INC-API-1", json={"focal_person": FOCAL}, headers=admin
    )
    assert named.status_code == 200, named.text
    assert named.json()["focal_person"] == FOCAL

    created = await client.post(
        "/api/v1/incidents",
        json={
            "kind": "power",
            "severity": "medium",
            "title": "Mất điện cụm loa",
            "description": "Mất điện lưới từ 7 giờ",
            "endpoints": ["INC-API-1"],
        },
        headers=editor,
    )
    assert created.status_code == 201, created.text
    incident = created.json()
    assert incident["status"] == "open"
    assert incident["area"] == communes[0]
    assert incident["endpoints"][0]["focal_person"] == FOCAL
    path = f"/api/v1/incidents/{incident['id']}"

    steps = [
        ("acknowledge", {"note": "Đã nhận"}, "acknowledged"),
        ("escalate", {"note": "Báo điện lực"}, "escalated"),
        ("notes", {"note": "Điện lực hẹn 10 giờ"}, "escalated"),
        ("resolve", {"note": "Có điện lại"}, "resolved"),
    ]
    for action, body, status in steps:
        answer = await client.post(f"{path}/{action}", json=body, headers=admin)
        assert answer.status_code == 200, answer.text
        assert answer.json()["status"] == status
    read = (await client.get(path, headers=admin)).json()
    assert [(e["event"], e["actor"], e["note"]) for e in read["timeline"]] == [
        ("opened", "user:inc.editor", "Mất điện lưới từ 7 giờ"),
        ("acknowledged", "user:inc.admin", "Đã nhận"),
        ("escalated", "user:inc.admin", "Báo điện lực"),
        ("note", "user:inc.admin", "Điện lực hẹn 10 giờ"),
        ("resolved", "user:inc.admin", "Có điện lại"),
    ]
    assert read["resolved_at"] is not None

    again = await client.post(f"{path}/acknowledge", json={}, headers=admin)
    assert again.status_code == 409
    assert again.headers["content-type"] == PROBLEM
    assert "resolved" in again.json()["detail"]
    no_note = await client.post(f"{path}/resolve", json={}, headers=admin)
    assert no_note.status_code == 422

    audit = await client.get("/api/v1/audit", params={"action": "POST"}, headers=admin)
    actions = {(record["action"], record["target"]) for record in audit.json()["items"]}
    assert ("POST /api/v1/incidents/{incident_id}/escalate", f"incident_id={incident['id']}") in (
        actions
    )


async def test_incidents_are_seen_and_handled_within_ones_area_and_filtered(
    client: AsyncClient, make_user: MakeUser, make_endpoint: MakeEndpoint, communes: list[str]
) -> None:
    """Đắk Nông 002 Điều 17: a commune's people handle their commune's incidents only."""
    province = await make_user("inc.province", Role.admin, AN_GIANG)
    here = await make_user("inc.here", Role.admin, communes[0])
    viewer = await make_user("inc.viewer", Role.viewer, communes[0])
    await make_endpoint("INC-THERE", "radio", communes[1])
    there = await client.post(
        "/api/v1/incidents",
        json={"kind": "technical", "severity": "low", "title": "Hỏng", "endpoints": ["INC-THERE"]},
        headers=province,
    )
    mine = await client.post(
        "/api/v1/incidents",
        json={"kind": "cyber", "severity": "high", "title": "Lạ", "areas": [communes[0]]},
        headers=here,
    )
    assert mine.status_code == 201, mine.text
    refused = await client.post(
        "/api/v1/incidents",
        json={"kind": "power", "severity": "low", "title": "x", "endpoints": ["INC-THERE"]},
        headers=here,
    )
    assert refused.status_code == 403
    unknown = await client.post(
        "/api/v1/incidents",
        json={"kind": "power", "severity": "low", "title": "x", "endpoints": ["NO-SUCH"]},
        headers=province,
    )
    assert unknown.status_code == 404
    assert "NO-SUCH" in unknown.json()["detail"]
    viewing = await client.post(
        "/api/v1/incidents",
        json={"kind": "power", "severity": "low", "title": "x", "areas": [communes[0]]},
        headers=viewer,
    )
    assert viewing.status_code == 403

    seen = await client.get("/api/v1/incidents", headers=here)
    assert [item["id"] for item in seen.json()["items"]] == [mine.json()["id"]]
    hidden = await client.post(
        f"/api/v1/incidents/{there.json()['id']}/acknowledge", json={}, headers=here
    )
    assert hidden.status_code == 403
    by_area = await client.get("/api/v1/incidents", params={"area": communes[1]}, headers=province)
    assert [item["id"] for item in by_area.json()["items"]] == [there.json()["id"]]
    by_kind = await client.get("/api/v1/incidents", params={"kind": "cyber"}, headers=province)
    assert [item["id"] for item in by_kind.json()["items"]] == [mine.json()["id"]]
    today = datetime.now(LOCAL).date().isoformat()
    # Days on the local clock, "to" included: today's incidents are in a range ending today.
    same_day = await client.get(
        "/api/v1/incidents", params={"from": today, "to": today}, headers=province
    )
    assert len(same_day.json()["items"]) == 2
    long_ago = await client.get(
        "/api/v1/incidents", params={"from": "2020-01-01", "to": "2020-12-31"}, headers=province
    )
    assert long_ago.json()["items"] == []
