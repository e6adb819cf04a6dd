"""Reminders before each report's deadline, sent to the department as incident notices are
(002 Điều 18, 000/004 Điều 15: units report before 20/6, the department before 30/6)."""

import json
from datetime import datetime
from typing import Any

from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from nguon.areas.sources import AreaRecord
from nguon.dispatch.slots import LOCAL
from nguon.identity.roles import Role
from nguon.incidents.notifier import IncidentNotifier
from nguon.kit.settings import Settings
from nguon.reports.reminders import REPORT_REMINDERS, write_due_reminders
from tests.conftest import AN_GIANG, LAI_CHAU, MakeUser, communes_of, districts_of
from tests.gateway import Gateway
from tests.reports.conftest import notifying


async def period_of(
    client: AsyncClient, headers: dict[str, str], area: str, period: str
) -> dict[str, Any]:
    listed = await client.get(
        "/api/v1/reports", params={"area": area, "period": period}, headers=headers
    )
    assert listed.status_code == 200, listed.text
    (read,) = listed.json()["periods"]
    return dict(read)


async def test_units_are_reminded_once_before_20_june_and_the_department_hears_of_it(
    client: AsyncClient,
    make_user: MakeUser,
    areas: list[AreaRecord],
    sessionmaker: async_sessionmaker[AsyncSession],
    settings: Settings,
    schedules: None,
    department: Gateway,
) -> None:
    """000/004 Điều 15.1 and 002 Điều 18.1: a week before 20/6, each unit that has not written
    its report is reminded once; the department's own deadline (30/6) is further off, and a
    report already written needs no reminder."""
    settings = notifying(settings, department, report_reminder_days=7)
    written, reminded = communes_of(areas, AN_GIANG)[:2]
    editor = await make_user("rem.editor", Role.editor, AN_GIANG)
    put = await client.put(
        f"/api/v1/reports/{written}/2026-H1/narrative",
        json={"sections": {"assessment": "Đã viết."}},
        headers=editor,
    )
    assert put.status_code == 200, put.text

    too_early = datetime(2026, 6, 12, 9, tzinfo=LOCAL)
    assert await write_due_reminders(sessionmaker, settings, too_early) == 0
    a_week_before = datetime(2026, 6, 14, 9, tzinfo=LOCAL)
    count = await write_due_reminders(sessionmaker, settings, a_week_before)
    assert count > 1
    assert await write_due_reminders(sessionmaker, settings, a_week_before) == 0  # once

    shown = await period_of(client, editor, reminded, "2026-H1")
    assert shown["reminder"] is not None
    assert shown["reminder"]["status"] == "pending"
    assert (await period_of(client, editor, written, "2026-H1"))["reminder"] is None
    assert (await period_of(client, editor, AN_GIANG, "2026-H1"))["reminder"] is None
    lai_chau = await make_user("rem.lc", Role.viewer, LAI_CHAU)
    assert (await period_of(client, lai_chau, LAI_CHAU, "2026-Y"))["reminder"] is None

    sender = IncidentNotifier(sessionmaker, settings, kind=REPORT_REMINDERS)
    sent = 0
    while passed := await sender.send_due():
        sent += passed
    await sender.client.aclose()
    assert sent == count == len(department.requests)
    told = {
        request.headers["x-nguon-notice"]: json.loads(request.body)
        for request in department.requests
    }
    body = told[f"report:{reminded}:2026-H1:due"]
    assert body["event"] == "report_due"
    assert body["report"]["due_before"] == "2026-06-20"
    after = await period_of(client, editor, reminded, "2026-H1")
    assert after["reminder"]["status"] == "sent"


async def test_lai_chau_units_are_reminded_before_15_december(
    client: AsyncClient,
    make_user: MakeUser,
    areas: list[AreaRecord],
    sessionmaker: async_sessionmaker[AsyncSession],
    settings: Settings,
    schedules: None,
) -> None:
    """001 Điều 14.1-2: units before 15/12, the department before 20/12; without the
    department's webhook the reminders are kept and shown."""
    settings = settings.model_copy(update={"report_reminder_days": 3})
    viewer = await make_user("rem.lcv", Role.viewer, LAI_CHAU)
    commune = communes_of(areas, districts_of(areas, LAI_CHAU)[0])[0]
    assert (
        await write_due_reminders(sessionmaker, settings, datetime(2026, 12, 13, 9, tzinfo=LOCAL))
        > 0
    )
    assert (await period_of(client, viewer, commune, "2026-Y"))["reminder"] is not None
    assert (await period_of(client, viewer, LAI_CHAU, "2026-Y"))["reminder"] is None
    # Three days before 20/12: Lai Châu's department (and An Giang's units, before 20/12).
    await write_due_reminders(sessionmaker, settings, datetime(2026, 12, 17, 9, tzinfo=LOCAL))
    assert (await period_of(client, viewer, LAI_CHAU, "2026-Y"))["reminder"] is not None
