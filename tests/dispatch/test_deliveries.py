"""Publishing records one delivery per endpoint the bulletin reaches; withdrawal ends them."""

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from httpx import AsyncClient
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from nguon.areas.sources import AreaRecord
from nguon.bulletins.models import Bulletin
from nguon.bulletins.service import BulletinService
from nguon.dispatch.models import Delivery
from nguon.dispatch.service import Dispatcher
from nguon.identity.roles import Role
from tests.bulletins.test_workflow import act, text_bulletin
from tests.conftest import AN_GIANG, MakeEndpoint, MakeUser, communes_of
from tests.media.test_upload import png_bytes

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "media"


@pytest.fixture
async def province(
    client: AsyncClient, make_user: MakeUser, make_endpoint: MakeEndpoint, areas: list[AreaRecord]
) -> dict[str, Any]:
    """Two communes: A with a radio and a bilingual e-board (and a switched-off radio),
    B with a Khmer-only border-gate display."""
    commune_a, commune_b = communes_of(areas, AN_GIANG)[:2]
    await make_endpoint("A-RADIO", "radio", commune_a)
    await make_endpoint("A-BOARD", "display", commune_a, profile="eboard", languages=["vi", "en"])
    await make_endpoint("A-OFF", "radio", commune_a, enabled=False)
    await make_endpoint("B-GATE", "display", commune_b, profile="border_gate", languages=["km"])
    return {
        "a": commune_a,
        "b": commune_b,
        "publisher": await make_user("dispatch.publisher", Role.publisher, AN_GIANG),
        "editor": await make_user("dispatch.editor", Role.editor, AN_GIANG),
        "appraiser": await make_user("dispatch.appraiser", Role.appraiser, AN_GIANG),
    }


async def publish(client: AsyncClient, province: dict[str, Any], body: dict[str, Any]) -> str:
    created = await client.post("/api/v1/bulletins", json=body, headers=province["publisher"])
    assert created.status_code == 201, created.text
    bulletin_id = str(created.json()["id"])
    await act(client, bulletin_id, "submit", province["publisher"])
    if "appraiser" in province:  # the fixture's B-GATE: appraised first (001 Điều 10.1a)
        await act(client, bulletin_id, "appraise", province["appraiser"])
    approved = await act(client, bulletin_id, "approve", province["editor"])
    assert approved.status_code == 200, approved.text
    return bulletin_id


async def deliveries(
    client: AsyncClient, province: dict[str, Any], bulletin_id: str
) -> dict[str, str]:
    response = await client.get(
        f"/api/v1/bulletins/{bulletin_id}/deliveries", headers=province["editor"]
    )
    assert response.status_code == 200, response.text
    return {item["endpoint"]: item["status"] for item in response.json()["items"]}


async def test_text_reaches_every_enabled_endpoint_that_speaks_its_language(
    client: AsyncClient, province: dict[str, Any]
) -> None:
    vietnamese = await publish(client, province, text_bulletin(AN_GIANG))
    assert await deliveries(client, province, vietnamese) == {
        "A-RADIO": "pending",
        "A-BOARD": "pending",
    }
    khmer = await publish(client, province, text_bulletin(AN_GIANG, language="km"))
    assert await deliveries(client, province, khmer) == {"B-GATE": "pending"}
    english_regional = await publish(client, province, text_bulletin(AN_GIANG, language="en-GB"))
    assert await deliveries(client, province, english_regional) == {"A-BOARD": "pending"}


async def upload_fixture(client: AsyncClient, province: dict[str, Any], name: str) -> str:
    response = await client.post(
        "/api/v1/media",
        files={"file": (name, (FIXTURES / name).read_bytes())},
        headers=province["publisher"],
    )
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def test_each_kind_goes_to_the_endpoints_that_can_play_it(
    client: AsyncClient, province: dict[str, Any]
) -> None:
    audio = await upload_fixture(client, province, "tone.mp3")
    video = await upload_fixture(client, province, "clip.webm")
    subtitles = await upload_fixture(client, province, "clip.vi.vtt")
    to_radio = await publish(
        client, province, text_bulletin(AN_GIANG, kind="audio", body=None, media=[audio])
    )
    assert await deliveries(client, province, to_radio) == {"A-RADIO": "pending"}
    to_boards = await publish(
        client,
        province,
        text_bulletin(
            AN_GIANG,
            kind="video",
            body=None,
            media=[video],
            subtitles=[{"media": subtitles, "language": "vi"}],
        ),
    )
    assert await deliveries(client, province, to_boards) == {"A-BOARD": "pending"}


@pytest.mark.parametrize("kind", ["image", "infographic"])
async def test_pictures_go_to_displays_and_never_to_radios(
    client: AsyncClient, province: dict[str, Any], kind: str
) -> None:
    picture = await client.post(
        "/api/v1/media",
        files={"file": ("ban-do.png", png_bytes())},
        headers=province["publisher"],
    )
    assert picture.status_code == 201, picture.text
    bulletin_id = await publish(
        client,
        province,
        text_bulletin(province["a"], kind=kind, body=None, media=[picture.json()["id"]]),
    )
    # A radio plays sound: a picture targeted at its commune is not delivered to it.
    assert await deliveries(client, province, bulletin_id) == {"A-BOARD": "pending"}
    # With a body beside the picture, the radio has something to read.
    with_text = await publish(
        client, province, text_bulletin(province["a"], kind=kind, media=[picture.json()["id"]])
    )
    assert await deliveries(client, province, with_text) == {
        "A-BOARD": "pending",
        "A-RADIO": "pending",
    }


async def test_targets_name_areas_or_endpoints(
    client: AsyncClient, province: dict[str, Any]
) -> None:
    by_commune = await publish(client, province, text_bulletin(province["b"], language="km"))
    assert await deliveries(client, province, by_commune) == {"B-GATE": "pending"}
    by_code = await publish(client, province, text_bulletin("A-BOARD"))
    assert await deliveries(client, province, by_code) == {"A-BOARD": "pending"}


async def test_dispatching_again_records_nothing_new(
    client: AsyncClient, province: dict[str, Any], sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    bulletin_id = await publish(client, province, text_bulletin(AN_GIANG))
    async with sessionmaker() as session:
        bulletin = await session.get(Bulletin, bulletin_id)
        assert bulletin is not None
        await Dispatcher(session).dispatch(bulletin)
        await session.commit()
        count = await session.scalar(select(func.count()).select_from(Delivery))
    assert count == 2
    assert set((await deliveries(client, province, bulletin_id)).values()) == {"pending"}


async def test_revocation_and_expiry_withdraw_every_delivery(
    client: AsyncClient, province: dict[str, Any], sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    revoked = await publish(client, province, text_bulletin(AN_GIANG))
    await act(client, revoked, "revoke", province["editor"], reason="Thông tin đã cũ")
    assert set((await deliveries(client, province, revoked)).values()) == {"revoked"}
    ending = await publish(client, province, text_bulletin(AN_GIANG))
    async with sessionmaker() as session:
        await BulletinService(session).advance_clock(datetime.now(UTC) + timedelta(days=8))
        await session.commit()
    assert set((await deliveries(client, province, ending)).values()) == {"expired"}


async def test_a_new_revision_moves_deliveries_with_its_targets(
    client: AsyncClient, province: dict[str, Any]
) -> None:
    bulletin_id = await publish(client, province, text_bulletin(province["a"]))
    assert await deliveries(client, province, bulletin_id) == {
        "A-RADIO": "pending",
        "A-BOARD": "pending",
    }
    await client.patch(
        f"/api/v1/bulletins/{bulletin_id}",
        json={"targets": ["A-RADIO"]},
        headers=province["publisher"],
    )
    await act(client, bulletin_id, "submit", province["publisher"])
    await act(client, bulletin_id, "approve", province["editor"])
    response = await client.get(
        f"/api/v1/bulletins/{bulletin_id}/deliveries", headers=province["editor"]
    )
    items = {item["endpoint"]: item for item in response.json()["items"]}
    assert (items["A-RADIO"]["status"], items["A-RADIO"]["revision"]) == ("pending", 2)
    assert items["A-BOARD"]["status"] == "revoked"
    assert items["A-BOARD"]["detail"] == "no longer targeted by the bulletin"
    assert response.json()["counts"] == {"pending": 1, "revoked": 1}
