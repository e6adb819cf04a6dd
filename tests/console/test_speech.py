"""The speech radios will play, heard in the console before approving."""

from typing import Any

from httpx import AsyncClient

from nguon.identity.roles import Role
from tests.conftest import AN_GIANG
from tests.console.conftest import SignInAs
from tests.console.test_review import newsroom, submitted

__all__ = ["newsroom"]  # the fixture, shared with the review pages' tests


async def speech_of(client: AsyncClient, bulletin_id: str, headers: dict[str, str]) -> Any:
    answer = await client.get(f"/api/v1/bulletins/{bulletin_id}", headers=headers)
    return answer.json()["speech"][0]


async def test_the_bulletin_page_and_the_queue_play_the_speech(
    client: AsyncClient, newsroom: dict[str, Any], sign_in_as: SignInAs
) -> None:
    bulletin_id = await submitted(client, newsroom)
    speech = await speech_of(client, bulletin_id, newsroom["publisher"])
    player = f'<audio controls preload="metadata" src="/console/media/{speech["media"]["id"]}"'
    await sign_in_as("speech.editor", Role.editor, AN_GIANG)

    page = await client.get(f"/console/bulletins/{bulletin_id}")
    assert page.status_code == 200
    assert player in page.text
    assert "Giọng đọc cho đài truyền thanh · Ngôn ngữ vi" in page.text
    queue = await client.get("/console/review")
    assert player in queue.text
    heard = await client.get(f"/console/media/{speech['media']['id']}")
    assert (heard.status_code, heard.headers["content-type"]) == (200, "audio/mpeg")


async def test_the_bulletin_page_says_why_there_is_no_speech(
    client: AsyncClient, newsroom: dict[str, Any], sign_in_as: SignInAs
) -> None:
    bulletin_id = await submitted(client, newsroom, language="km", body="ជំរាបសួរ")
    await sign_in_as("speech.editor", Role.editor, AN_GIANG)
    page = await client.get(f"/console/bulletins/{bulletin_id}")
    assert "<audio" not in page.text
    assert "chưa có giọng đọc cho ngôn ngữ này" in page.text
    assert "no voice for the language km" in page.text
