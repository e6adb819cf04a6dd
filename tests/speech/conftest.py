from collections.abc import AsyncIterator

import pytest

from tests.conftest import free_port
from tests.serving import serving
from tests.speech.service import SpeechProvider


@pytest.fixture
async def provider() -> AsyncIterator[tuple[SpeechProvider, str]]:
    """A provider's speech service on a local port, and its URL."""
    service = SpeechProvider()
    port = free_port()
    async with serving(service.app(), port):
        yield service, f"http://127.0.0.1:{port}/speak"
