"""Loops that run beside the app for as long as a context is open."""

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

import structlog

if TYPE_CHECKING:  # the change feed runs its own loops from here
    from nguon.kit.changes import ChangeFeed, Changes

log = structlog.get_logger()


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


class PassLoop:
    """Runs passes over due work for as long as its task lives: again at once while a pass
    says more is due, at once when the change feed announces new work written in this
    process, and otherwise every `poll_seconds` (retries falling due, work written by other
    processes). A failed pass is logged and the next one tries."""

    def __init__(
        self, feed: "ChangeFeed | None", topic: str, poll_seconds: float, failure: str
    ) -> None:
        self.poll_seconds = poll_seconds
        self.failure = failure
        self._wake = asyncio.Event()
        # The feed is the one the work's sessions report to: it wakes the loop on commit.
        if feed is not None:
            feed.subscribe(topic, self.wake)

    def wake(self, _changes: "Changes | None" = None) -> None:
        self._wake.set()

    async def run(self, one_pass: Callable[[], Awaitable[bool]]) -> None:
        """`one_pass` returns whether more may be due at once."""
        while True:
            self._wake.clear()
            more = False
            try:
                more = await one_pass()
            except Exception:
                log.exception(self.failure)
            if not more:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), self.poll_seconds)
