"""A hub with a central key and endpoints to receive emergencies, and what the tests check on it."""

from typing import Any

import pytest
from httpx import AsyncClient
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from nguon.areas.sources import AreaRecord
from nguon.bulletins.models import Bulletin
from nguon.central.models import CentralAlert
from nguon.identity.roles import Role
from tests.central.simulator import CentralSystem
from tests.conftest import AN_GIANG, MakeEndpoint, MakeKey, MakeUser, communes_of

PROBLEM = "application/problem+json"
# An Giang, near Long Xuyên; the polygon and the circle of the tests cover it, and not FAR.
NEAR = (10.3800, 105.4300)
FAR = (10.7000, 105.1200)


@pytest.fixture
async def hub(
    client: AsyncClient,
    make_key: MakeKey,
    make_endpoint: MakeEndpoint,
    make_user: MakeUser,
    areas: list[AreaRecord],
) -> dict[str, Any]:
    """A central key for An Giang, a radio and a display in one commune, a display far away."""
    communes = communes_of(areas, AN_GIANG)
    central = await make_key("central-system", Role.central, AN_GIANG)
    radio = await make_endpoint(
        "AG-RADIO", "radio", communes[0], latitude=NEAR[0], longitude=NEAR[1]
    )
    board = await make_endpoint(
        "AG-BOARD", "display", communes[0], profile="eboard", latitude=NEAR[0], longitude=NEAR[1]
    )
    far = await make_endpoint(
        "AG-FAR", "display", communes[1], profile="eboard", latitude=FAR[0], longitude=FAR[1]
    )
    return {
        "central": CentralSystem(client, central["X-Api-Key"]),
        "radio": radio,
        "board": board,
        "far": far,
        "communes": communes,
        "admin": await make_user("admin.central", Role.admin, AN_GIANG),
    }


async def playlist(client: AsyncClient, device: dict[str, str]) -> list[dict[str, Any]]:
    response = await client.get("/api/v1/device/playlist", headers=device)
    assert response.status_code == 200, response.text
    return list(response.json()["items"])


async def counts(sessionmaker: async_sessionmaker[AsyncSession]) -> tuple[int, int]:
    async with sessionmaker() as session:
        bulletins = await session.scalar(select(func.count()).select_from(Bulletin))
        alerts = await session.scalar(select(func.count()).select_from(CentralAlert))
    return int(bulletins or 0), int(alerts or 0)


async def refused(response: Any, status: int, answer: str) -> str:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    body = response.json()
    assert body["answer"] == answer, body
    return str(body["detail"])


async def nothing_on_air(client: AsyncClient, hub: dict[str, Any]) -> None:
    """No endpoint of the hub has anything to play."""
    for device in ("radio", "board", "far"):
        assert await playlist(client, hub[device]) == [], device
