"""A long recording (a 10-minute MP3) is taken in, rendered for radio, and the hub keeps
answering meanwhile: decoding and encoding run on the media threads, not the event loop."""

import asyncio
import logging

import pytest
from bench.renditions import generated_mp3
from httpx import AsyncClient

from tests.media.test_upload import upload

MINUTES = 10
# A callback holding the event loop this long is what asyncio's debug mode reports; a
# rendition made on the loop would hold it for the whole encode (seconds).
SLOW_CALLBACK_SECONDS = 1.0


@pytest.fixture(scope="module")
def long_mp3(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    target = tmp_path_factory.mktemp("long") / "ban-tin-10-phut.mp3"
    generated_mp3(target, MINUTES * 60, rate=22050, stereo=False, kbps=48)  # as a phone records
    return target.read_bytes()


async def test_a_ten_minute_mp3_is_rendered_while_the_hub_keeps_answering(
    client: AsyncClient,
    publisher: dict[str, str],
    long_mp3: bytes,
    caplog: pytest.LogCaptureFixture,
) -> None:
    loop = asyncio.get_running_loop()
    loop.set_debug(True)
    loop.slow_callback_duration = SLOW_CALLBACK_SECONDS
    try:
        with caplog.at_level(logging.WARNING, logger="asyncio"):
            uploading = asyncio.create_task(upload(client, publisher, "ban-tin.mp3", long_mp3))
            answered_meanwhile = 0
            while not uploading.done():
                health = await client.get("/healthz")
                answered_meanwhile += health.status_code == 200 and not uploading.done()
                await asyncio.sleep(0.05)
            result = await uploading
    finally:
        loop.set_debug(False)
    assert result["status"] == 201, result["body"]
    assert result["body"]["duration_s"] == pytest.approx(MINUTES * 60, abs=0.5)
    (broadcast,) = result["body"]["renditions"]
    assert broadcast["duration_s"] == pytest.approx(MINUTES * 60, abs=0.5)
    assert answered_meanwhile > 0
    held = [
        r.getMessage() for r in caplog.records if r.name == "asyncio" and "took" in r.getMessage()
    ]
    assert held == []
