"""A multipart body that is not well formed is a 4xx naming what is wrong, and stores nothing."""

import pytest
from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from nguon.identity.roles import Role
from nguon.kit.settings import Settings
from tests.conftest import AN_GIANG, MakeUser
from tests.media.test_upload import PROBLEM, media_rows, png_bytes, stored_files

BOUNDARY = "nguon-test-boundary"


def part(headers: bytes, content: bytes, boundary: str = BOUNDARY) -> bytes:
    return b"--" + boundary.encode() + b"\r\n" + headers + b"\r\n\r\n" + content + b"\r\n"


def closing(boundary: str = BOUNDARY) -> bytes:
    return b"--" + boundary.encode() + b"--\r\n"


FILE_HEADERS = (
    b'Content-Disposition: form-data; name="file"; filename="anh.png"\r\nContent-Type: image/png'
)
LONG_BOUNDARY = "b" * 70

MALFORMED = {
    "wrong boundary": (BOUNDARY, part(FILE_HEADERS, png_bytes(), "other") + closing("other")),
    "CR in a part header": (
        BOUNDARY,
        part(b'Content-Disposition: form-data; name="fi\rle"; filename="a.png"', png_bytes())
        + closing(),
    ),
    "garbage after a long boundary": (
        LONG_BOUNDARY,
        b"--" + LONG_BOUNDARY.encode() + b"garbage-garbage\r\n" + FILE_HEADERS + b"\r\n\r\n",
    ),
}


@pytest.fixture
async def publisher(make_user: MakeUser) -> dict[str, str]:
    return await make_user("media.malformed", Role.publisher, AN_GIANG)


@pytest.mark.parametrize("case", sorted(MALFORMED))
async def test_malformed_multipart_is_refused_and_stores_nothing(
    client: AsyncClient,
    publisher: dict[str, str],
    sessionmaker: async_sessionmaker[AsyncSession],
    settings: Settings,
    case: str,
) -> None:
    boundary, body = MALFORMED[case]
    response = await client.post(
        "/api/v1/media",
        content=body,
        headers={**publisher, "Content-Type": f"multipart/form-data; boundary={boundary}"},
    )
    assert response.status_code == 400, response.text
    assert response.headers["content-type"] == PROBLEM
    assert response.json()["detail"].startswith("The multipart body is malformed")
    assert await media_rows(sessionmaker) == 0
    assert stored_files(settings) == []


async def test_a_5000_character_file_name_is_refused(
    client: AsyncClient,
    publisher: dict[str, str],
    sessionmaker: async_sessionmaker[AsyncSession],
    settings: Settings,
) -> None:
    response = await client.post(
        "/api/v1/media",
        files={"file": ("a" * 4996 + ".png", png_bytes(), "image/png")},
        headers=publisher,
    )
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == PROBLEM
    assert response.json()["detail"] == (
        "The file name has 5000 characters; it may have at most 255."
    )
    assert await media_rows(sessionmaker) == 0
    assert stored_files(settings) == []


async def test_a_nul_in_the_file_name_is_refused(
    client: AsyncClient,
    publisher: dict[str, str],
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    # Written by hand: HTTP clients escape a NUL in a file name, a hostile one need not.
    headers = b'Content-Disposition: form-data; name="file"; filename="anh\x00.png"'
    response = await client.post(
        "/api/v1/media",
        content=part(headers, png_bytes()) + closing(),
        headers={**publisher, "Content-Type": f"multipart/form-data; boundary={BOUNDARY}"},
    )
    assert response.status_code == 422, response.text
    assert response.json()["detail"] == "The file name must not contain the NUL character (\\x00)."
    assert await media_rows(sessionmaker) == 0
