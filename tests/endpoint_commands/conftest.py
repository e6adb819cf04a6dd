"""Fixtures of the command tests: the parties, a vendor's gateway, console sign-in, a Kafka
broker, an MQTT broker with TLS and accounts."""

from typing import Any

import pytest

from nguon.areas.sources import AreaRecord
from nguon.identity.roles import Role
from tests.conftest import AN_GIANG, MakeEndpoint, MakeUser, communes_of
from tests.console.conftest import sign_in_as
from tests.gateway import gateway
from tests.mosquitto import secured_mosquitto
from tests.tansu import tansu

__all__ = ["gateway", "secured_mosquitto", "sign_in_as", "tansu"]

RADIO = "AG-RADIO-01"


@pytest.fixture
async def parties(
    make_user: MakeUser, make_endpoint: MakeEndpoint, areas: list[AreaRecord]
) -> dict[str, Any]:
    commune, other = communes_of(areas, AN_GIANG)[:2]
    return {
        "commune": commune,
        "radio": await make_endpoint(RADIO, "radio", commune),
        "admin": await make_user("cmd.admin", Role.admin, AN_GIANG),
        "editor": await make_user("cmd.editor", Role.editor, AN_GIANG),
        "publisher": await make_user("cmd.publisher", Role.publisher, AN_GIANG),
        "viewer": await make_user("cmd.viewer", Role.viewer, AN_GIANG),
        "chair": await make_user("cmd.chair", Role.commune_chair, commune),
        "other_chair": await make_user("cmd.other.chair", Role.commune_chair, other),
    }
