"""An ASGI app served by uvicorn on a local port, inside the test's event loop."""

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
import uvicorn

START_SECONDS = 5


@asynccontextmanager
async def serving(app: Any, port: int, **options: Any) -> AsyncIterator[uvicorn.Server]:
    """Serve `app` until the context closes; entered once the server is listening."""
    options = {"log_level": "warning", "timeout_graceful_shutdown": 2, **options}
    config = uvicorn.Config(app, host="127.0.0.1", port=port, **options)
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    try:
        async with asyncio.timeout(START_SECONDS):
            while not server.started:
                if task.done():  # it failed to start: say why
                    task.result()
                    pytest.fail("the server stopped before it started")
                await asyncio.sleep(0.01)
        yield server
    finally:
        server.should_exit = True
        await task
