"""A radio's or display's key reads only what it was given to play: never a draft, another
endpoint's bulletins, or anything revoked, and only the media of what it plays."""

from pathlib import Path
from typing import Any

import pytest
from httpx import AsyncClient

from nguon.areas.sources import AreaRecord
from nguon.identity.roles import Role
from tests.bulletins.test_workflow import act, text_bulletin
from tests.conftest import AN_GIANG, MakeEndpoint, MakeUser, communes_of
from tests.dispatch.test_queue import publish

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "media"


async def upload(client: AsyncClient, headers: dict[str, str], name: str) -> str:
    content = (FIXTURES / name).read_bytes()
    response = await client.post("/api/v1/media", files={"file": (name, content)}, headers=headers)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


@pytest.fixture
async def province(
    client: AsyncClient, make_user: MakeUser, make_endpoint: MakeEndpoint, areas: list[AreaRecord]
) -> dict[str, Any]:
    """A radio in one commune and one in the next, and the province's bulletins: one on air
    for the radio with its audio, one on air for the neighbour, and one draft."""
    commune, neighbour = communes_of(areas, AN_GIANG)[:2]
    radio = await make_endpoint("SIGHT-RADIO", "radio", commune)
    next_radio = await make_endpoint("SIGHT-NEXT", "radio", neighbour)
    publisher = await make_user("sight.publisher", Role.publisher, AN_GIANG)
    editor = await make_user("sight.editor", Role.editor, AN_GIANG)
    audio = await upload(client, publisher, "tone.mp3")
    unused = await upload(client, publisher, "tone.ogg")
    on_air = await publish(
        client,
        publisher,
        editor,
        text_bulletin(
            commune, title="on air", kind="audio", body=None, media=[audio], priority="priority"
        ),
    )
    elsewhere = await publish(client, publisher, editor, text_bulletin(neighbour, title="next"))
    drafted = await client.post(
        "/api/v1/bulletins", json=text_bulletin(commune, title="unapproved"), headers=publisher
    )
    assert drafted.status_code == 201, drafted.text
    return {
        "radio": radio,
        "neighbour": next_radio,
        "publisher": publisher,
        "editor": editor,
        "commune": commune,
        "on_air": on_air,
        "elsewhere": elsewhere,
        "draft": drafted.json()["id"],
        "audio": audio,
        "unused": unused,
    }


async def listed(client: AsyncClient, headers: dict[str, str], query: str = "") -> set[str]:
    response = await client.get(f"/api/v1/bulletins{query}", headers=headers)
    assert response.status_code == 200, response.text
    return {item["id"] for item in response.json()["items"]}


async def test_a_device_lists_only_what_it_was_given_to_play(
    client: AsyncClient, province: dict[str, Any]
) -> None:
    radio = province["radio"]
    assert await listed(client, radio, "?status=draft") == set()
    assert await listed(client, radio) == {province["on_air"]}
    assert await listed(client, province["neighbour"]) == {province["elsewhere"]}
    # People of the province see all three.
    assert await listed(client, province["editor"]) == {
        province["on_air"],
        province["elsewhere"],
        province["draft"],
    }


async def test_a_device_reads_no_bulletin_it_was_not_given(
    client: AsyncClient, province: dict[str, Any]
) -> None:
    radio = province["radio"]
    shown = await client.get(f"/api/v1/bulletins/{province['on_air']}", headers=radio)
    assert shown.status_code == 200, shown.text
    for hidden in ("draft", "elsewhere"):
        response = await client.get(f"/api/v1/bulletins/{province[hidden]}", headers=radio)
        assert response.status_code == 404, (hidden, response.text)
        assert response.headers["content-type"] == "application/problem+json"
    cap = await client.get(f"/api/v1/bulletins/{province['draft']}/cap", headers=radio)
    assert cap.status_code == 404, cap.text


async def test_a_device_reads_only_the_media_it_plays(
    client: AsyncClient, province: dict[str, Any]
) -> None:
    audio = f"/api/v1/media/{province['audio']}"
    playlist = await client.get("/api/v1/device/playlist", headers=province["radio"])
    entries = playlist.json()["items"] + playlist.json()["upcoming"]
    played = {media["url"] for entry in entries for media in entry["media"]}
    # The recording itself, or its broadcast rendition where the hub could make one.
    assert played in ({audio}, {f"{audio}/broadcast"})
    for url in played:
        assert (await client.get(url, headers=province["radio"])).status_code == 200
    assert (await client.get(audio, headers=province["radio"])).status_code == 200
    assert (await client.get(f"{audio}/original", headers=province["radio"])).status_code == 200
    assert (await client.get(audio, headers=province["neighbour"])).status_code == 404
    unused = f"/api/v1/media/{province['unused']}"
    assert (await client.get(unused, headers=province["radio"])).status_code == 404
    # People still read media to review bulletins that use them.
    assert (await client.get(unused, headers=province["editor"])).status_code == 200


async def test_revoked_or_edited_bulletins_are_no_longer_readable_by_devices(
    client: AsyncClient, province: dict[str, Any]
) -> None:
    radio, editor = province["radio"], province["editor"]
    edited = await publish(
        client,
        province["publisher"],
        editor,
        text_bulletin(province["commune"], title="v1", priority="priority"),
    )
    changed = await client.patch(
        f"/api/v1/bulletins/{edited}", json={"title": "v2, not approved"}, headers=editor
    )
    assert changed.status_code == 200, changed.text
    # The radio keeps playing the approved revision from its playlist, never reads the new one.
    assert await listed(client, radio) == {province["on_air"]}
    playlist = (await client.get("/api/v1/device/playlist", headers=radio)).json()
    titles = {item["title"] for item in playlist["items"] + playlist["upcoming"]}
    assert titles == {"on air", "v1"}

    revoked = await act(client, province["on_air"], "revoke", editor, reason="wrong area")
    assert revoked.status_code == 200, revoked.text
    assert await listed(client, radio) == set()
    gone = await client.get(f"/api/v1/bulletins/{province['on_air']}", headers=radio)
    assert gone.status_code == 404
    media = await client.get(f"/api/v1/media/{province['audio']}", headers=radio)
    assert media.status_code == 404
