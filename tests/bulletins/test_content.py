"""What a bulletin may hold, how to find it, and retries that create nothing new."""

from pathlib import Path
from typing import Any

import pytest
from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from nguon.areas.sources import AreaRecord
from nguon.identity.roles import Role
from tests.bulletins.test_workflow import act, bulletin_count, text_bulletin
from tests.conftest import AN_GIANG, MakeUser, communes_of

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "media"


@pytest.fixture
async def publisher(make_user: MakeUser, areas: list[AreaRecord]) -> dict[str, str]:
    return await make_user("content.publisher", Role.publisher, AN_GIANG)


async def upload(client: AsyncClient, headers: dict[str, str], name: str) -> str:
    response = await client.post(
        "/api/v1/media", files={"file": (name, (FIXTURES / name).read_bytes())}, headers=headers
    )
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


INVALID: list[tuple[str, dict[str, Any], int, str]] = [
    ("text without body", {"body": None}, 422, "needs a body"),
    ("audio without media", {"kind": "audio", "body": None}, 422, "needs at least one audio"),
    ("naive datetime", {"valid_from": "2026-12-01T08:00:00"}, 422, "body.valid_from"),
    ("ends before it starts", {
        "valid_from": "2026-12-02T08:00:00+07:00", "valid_until": "2026-12-01T08:00:00+07:00",
    }, 422, "valid_until must be after"),
    ("unknown target", {"targets": ["99999"]}, 422, "names no administrative unit"),
    ("no targets", {"targets": []}, 422, "body.targets"),
    ("unknown category", {"category": "gossip"}, 422, "body.category"),
    ("bad language tag", {"language": "Vietnamese"}, 422, "body.language"),
    ("unknown media", {"kind": "image", "media": ["0" * 32]}, 422, "does not exist"),
    ("once without at", {"schedule": {"type": "once", "times": ["05:00"]}}, 422, "takes `at`"),
    ("repeat without gap", {"schedule": {"type": "daily", "times": ["05:00"], "repeat": 3}}, 422,
     "gap_minutes"),
    ("unknown field", {"colour": "red"}, 422, "body.colour"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("case", "overrides", "status", "detail"), INVALID, ids=[c[0] for c in INVALID]
)
async def test_invalid_content_is_refused_and_nothing_created(
    client: AsyncClient,
    publisher: dict[str, str],
    sessionmaker: async_sessionmaker[AsyncSession],
    case: str,
    overrides: dict[str, Any],
    status: int,
    detail: str,
) -> None:
    response = await client.post(
        "/api/v1/bulletins", json=text_bulletin(AN_GIANG, **overrides), headers=publisher
    )
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert detail in response.json()["detail"]
    assert await bulletin_count(sessionmaker) == 0


async def test_media_must_match_the_kind(client: AsyncClient, publisher: dict[str, str]) -> None:
    audio = await upload(client, publisher, "tone.mp3")
    response = await client.post(
        "/api/v1/bulletins",
        json=text_bulletin(AN_GIANG, kind="video", body=None, media=[audio]),
        headers=publisher,
    )
    assert response.status_code == 422
    assert "is audio; a video bulletin takes video" in response.json()["detail"]
    video = await upload(client, publisher, "clip.webm")
    ok = await client.post(
        "/api/v1/bulletins",
        json=text_bulletin(AN_GIANG, kind="video", media=[video], language="km"),
        headers=publisher,
    )
    assert ok.status_code == 201, ok.text
    assert ok.json()["media_details"][0]["kind"] == "video"


async def test_translation_points_at_its_original(
    client: AsyncClient, publisher: dict[str, str]
) -> None:
    original = (
        await client.post("/api/v1/bulletins", json=text_bulletin(AN_GIANG), headers=publisher)
    ).json()
    translated = await client.post(
        "/api/v1/bulletins",
        json=text_bulletin(
            AN_GIANG, language="km", title="សេចក្តីជូនដំណឹង", translation_of=original["id"]
        ),
        headers=publisher,
    )
    assert translated.status_code == 201, translated.text
    assert translated.json()["translation_of"] == original["id"]
    missing = await client.post(
        "/api/v1/bulletins",
        json=text_bulletin(AN_GIANG, translation_of="f" * 32),
        headers=publisher,
    )
    assert missing.status_code == 404


async def test_search_ignores_diacritics_and_case(
    client: AsyncClient, publisher: dict[str, str]
) -> None:
    storm = await client.post(
        "/api/v1/bulletins",
        json=text_bulletin(AN_GIANG, title="Bão số 3 đổ bộ vào Kiên Giang", priority="emergency"),
        headers=publisher,
    )
    await client.post("/api/v1/bulletins", json=text_bulletin(AN_GIANG), headers=publisher)
    for query in ("bao so 3", "BÃO SỐ", "do bo kien giang", "Đổ bộ"):
        found = await client.get("/api/v1/bulletins", params={"q": query}, headers=publisher)
        assert [b["id"] for b in found.json()["items"]] == [storm.json()["id"]], query
    nothing = await client.get("/api/v1/bulletins", params={"q": "lũ quét"}, headers=publisher)
    assert nothing.json()["items"] == []


async def test_filters_and_cursor_pages(
    client: AsyncClient, publisher: dict[str, str], make_user: MakeUser, areas: list[AreaRecord]
) -> None:
    editor = await make_user("content.editor", Role.editor, AN_GIANG)
    created = []
    for number in range(5):
        response = await client.post(
            "/api/v1/bulletins",
            json=text_bulletin(
                AN_GIANG,
                title=f"Tin số {number}",
                priority="priority" if number % 2 else "normal",
                language="en" if number == 4 else "vi",
            ),
            headers=publisher,
        )
        created.append(response.json()["id"])
    await act(client, created[0], "submit", publisher)
    seen: list[str] = []
    cursor = None
    while True:
        params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = (await client.get("/api/v1/bulletins", params=params, headers=editor)).json()
        seen += [b["id"] for b in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == list(reversed(created))
    by_priority = await client.get(
        "/api/v1/bulletins", params={"priority": "priority"}, headers=editor
    )
    assert {b["id"] for b in by_priority.json()["items"]} == {created[1], created[3]}
    by_status = await client.get(
        "/api/v1/bulletins", params={"status": "submitted"}, headers=editor
    )
    assert [b["id"] for b in by_status.json()["items"]] == [created[0]]
    by_language = await client.get("/api/v1/bulletins", params={"language": "en"}, headers=editor)
    assert [b["id"] for b in by_language.json()["items"]] == [created[4]]
    commune = communes_of(areas, AN_GIANG)[0]
    by_area = await client.get("/api/v1/bulletins", params={"area": commune}, headers=editor)
    assert by_area.json()["items"] == []
    bad_cursor = await client.get(
        "/api/v1/bulletins", params={"cursor": "nonsense"}, headers=editor
    )
    assert bad_cursor.status_code == 422


async def test_idempotency_key_replays_the_first_answer(
    client: AsyncClient, publisher: dict[str, str], sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    headers = {**publisher, "Idempotency-Key": "retry-7f3a"}
    first = await client.post("/api/v1/bulletins", json=text_bulletin(AN_GIANG), headers=headers)
    second = await client.post("/api/v1/bulletins", json=text_bulletin(AN_GIANG), headers=headers)
    assert (first.status_code, second.status_code) == (201, 201)
    assert first.json() == second.json()
    assert await bulletin_count(sessionmaker) == 1
    changed = await client.post(
        "/api/v1/bulletins", json=text_bulletin(AN_GIANG, title="Khác"), headers=headers
    )
    assert changed.status_code == 422
    assert "different request" in changed.json()["detail"]
    assert await bulletin_count(sessionmaker) == 1
