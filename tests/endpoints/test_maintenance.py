"""Maintenance and inspection records per endpoint (An Giang 004 Điều 4.1c, 6.8; Lai Châu 001
Điều 11.1a)."""

from datetime import datetime, timedelta

import pytest
from httpx import AsyncClient

from nguon.areas.sources import AreaRecord
from nguon.dispatch.slots import LOCAL
from nguon.identity.roles import Role
from tests.conftest import AN_GIANG, MakeEndpoint, MakeUser, communes_of


@pytest.fixture
def communes(areas: list[AreaRecord]) -> list[str]:
    return communes_of(areas, AN_GIANG)[:2]


async def test_maintenance_and_inspections_are_kept_per_endpoint_latest_first_and_audited(
    client: AsyncClient, make_user: MakeUser, make_endpoint: MakeEndpoint, communes: list[str]
) -> None:
    """An Giang 004 Điều 6.8 and Lai Châu 001 Điều 11.1a: periodic inspection and maintenance
    are recorded: when, what, by whom, with what outcome."""
    admin = await make_user("mnt.admin", Role.admin, AN_GIANG)
    viewer = await make_user("mnt.viewer", Role.viewer, AN_GIANG)
    await make_endpoint("MNT-RADIO", "radio", communes[0])
    path = "/api/v1/endpoints/MNT-RADIO/maintenance"
    for day, kind, outcome in (
        ("2026-03-02", "inspection", "Loa số 2 rè"),
        ("2026-03-09", "repair", "Đã thay loa số 2"),
    ):
        recorded = await client.post(
            path,
            json={
                "day": day,
                "kind": kind,
                "performed_by": "Công ty Viễn thông",
                "outcome": outcome,
            },
            headers=admin,
        )
        assert recorded.status_code == 201, recorded.text
        assert recorded.json()["recorded_by"] == "user:mnt.admin"
    listed = await client.get(path, headers=viewer)
    assert listed.status_code == 200
    assert [(r["day"], r["kind"], r["outcome"]) for r in listed.json()["items"]] == [
        ("2026-03-09", "repair", "Đã thay loa số 2"),
        ("2026-03-02", "inspection", "Loa số 2 rè"),
    ]
    audit = await client.get("/api/v1/audit", params={"action": "POST"}, headers=admin)
    actions = [record["action"] for record in audit.json()["items"]]
    assert actions.count("POST /api/v1/endpoints/{code}/maintenance") == 2


async def test_a_record_of_work_not_yet_done_or_outside_ones_area_is_refused(
    client: AsyncClient, make_user: MakeUser, make_endpoint: MakeEndpoint, communes: list[str]
) -> None:
    """An Giang 004 Điều 6.8: a record says what was done; a commune's admin keeps its own."""
    here = await make_user("mnt.here", Role.admin, communes[0])
    viewer = await make_user("mnt.only.viewer", Role.viewer, communes[0])
    await make_endpoint("MNT-HERE", "radio", communes[0])
    await make_endpoint("MNT-THERE", "radio", communes[1])
    tomorrow = (datetime.now(LOCAL).date() + timedelta(days=1)).isoformat()
    body = {"day": tomorrow, "kind": "maintenance", "performed_by": "Tổ kỹ thuật"}
    ahead = await client.post("/api/v1/endpoints/MNT-HERE/maintenance", json=body, headers=here)
    assert ahead.status_code == 422
    assert "after today" in ahead.json()["detail"]
    body["day"] = "2026-01-05"
    there = await client.post("/api/v1/endpoints/MNT-THERE/maintenance", json=body, headers=here)
    assert there.status_code == 403
    by_viewer = await client.post(
        "/api/v1/endpoints/MNT-HERE/maintenance", json=body, headers=viewer
    )
    assert by_viewer.status_code == 403
    listed = await client.get("/api/v1/endpoints/MNT-HERE/maintenance", headers=here)
    assert listed.json()["items"] == []
