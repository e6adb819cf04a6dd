"""JSON written by the database reads exactly as JSON written by the hub: a device cannot tell
an event of a province-wide fan-out (built in SQL) from one the hub encoded itself."""

from typing import Any

import pytest
from sqlalchemy import DateTime, Integer, String, literal, select
from sqlalchemy.ext.asyncio import AsyncEngine

from nguon.kit.db import json_object_text, json_text

AWKWARD = 'Đê "Cồn Tiên"\\vỡ\n\tlúc 23:00\x01 / 😀'


@pytest.mark.parametrize("text", ["A-RADIO-01", AWKWARD, ""])
async def test_the_database_writes_an_object_as_the_hub_does(
    engine: AsyncEngine, text: str
) -> None:
    constants: dict[str, Any] = {
        "type": "emergency",
        "bulletin": {"title": "Cảnh báo lũ", "valid_until": None, "exercise": False},
    }
    fields = {
        **constants,
        "endpoint": literal(text, String),
        "playlist_version": literal(-42, Integer),
        "at": "2026-11-26T23:00:00+00:00",
    }
    async with engine.connect() as connection:
        written = await connection.scalar(select(json_object_text(fields)))
    assert written == json_text(
        {**constants, "endpoint": text, "playlist_version": -42, "at": fields["at"]}
    )


def test_a_column_without_a_json_form_is_refused() -> None:
    with pytest.raises(TypeError, match="no JSON text"):
        json_object_text({"at": literal(None, DateTime())})
