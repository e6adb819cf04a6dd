"""Advertising in the statistics: its minutes are shown apart, never as public information
(Lai Châu 001 Điều 8.1 asks 6 h a day of information "phục vụ công tác tuyên truyền"; Điều 8.3
puts advertising's airtime under the law on advertising)."""

import pytest
from httpx import AsyncClient

from nguon.areas.sources import AreaRecord
from nguon.identity.roles import Role
from tests.bulletins.test_workflow import text_bulletin
from tests.conftest import AN_GIANG, LONG_STANDING, MakeEndpoint, MakeUser, communes_of
from tests.dispatch.test_queue import publish
from tests.stats.test_stats import RADIO_MINUTES_A_DAY, played_lately, stats


async def test_advertising_minutes_are_counted_apart_from_public_information(
    client: AsyncClient, make_user: MakeUser, make_endpoint: MakeEndpoint, areas: list[AreaRecord]
) -> None:
    """001 Điều 8.1 and 8.3: 4 minutes of public information and 3 of advertising played on a
    radio are 4 minutes played against its windows, and 3 advertising minutes beside them, per
    endpoint, per commune and in all."""
    commune = communes_of(areas, AN_GIANG)[0]
    radio = await make_endpoint("AD-ST-RADIO", "radio", commune, registered_at=LONG_STANDING)
    publisher = await make_user("ad.stats.publisher", Role.publisher, AN_GIANG)
    editor = await make_user("ad.stats.editor", Role.editor, AN_GIANG)
    viewer = await make_user("ad.stats.viewer", Role.viewer, AN_GIANG)
    news = await publish(client, publisher, editor, text_bulletin(AN_GIANG))
    advert = await publish(
        client, publisher, editor, text_bulletin(AN_GIANG, category="advertising")
    )
    await played_lately(client, radio, {news: 4, advert: 3})

    broadcast = (await stats(client, viewer))["broadcast"]
    (endpoint,) = [row for row in broadcast["endpoints"] if row["code"] == "AD-ST-RADIO"]
    (of_commune,) = [row for row in broadcast["communes"] if row["code"] == commune]
    for figures in (endpoint, of_commune, broadcast):
        assert figures["played_minutes"] == pytest.approx(4, abs=0.01)
        assert figures["advertising_minutes"] == pytest.approx(3, abs=0.01)
    assert endpoint["ratio"] == pytest.approx(4 / RADIO_MINUTES_A_DAY, abs=0.001)
