"""Loops that run beside the app for as long as a context is open."""

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import asynccontextmanager
from typing import Any


@asynccontextmanager
async def in_background(
    name: str, work: Callable[[], Coroutine[Any, Any, None]]
) -> AsyncIterator[None]:
    """Run `work()` as a task while the context is open; cancel it and wait on the way out."""
    task = asyncio.create_task(work(), name=name)
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
