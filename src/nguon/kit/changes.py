"""What changed, told to this process's caches as soon as the transaction that changed it commits.

Repositories call `changed(session, topic, ids)` next to the write; the ids reach the subscribers
only if the transaction commits. Other API processes learn the same from the database (the
dispatch sync loop), so a cache never needs more than this process's word to drop an entry.
"""

import asyncio
from collections import defaultdict
from collections.abc import AsyncIterator, Awaitable, Callable, Collection, Mapping
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from typing import Any

import structlog
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import Session

from nguon.kit.background import in_background
from nguon.kit.db import utcnow

log = structlog.get_logger()

Subscriber = Callable[[frozenset[int]], None]
_FEED = "change_feed"
_PENDING = "changes_pending"


class ChangeFeed:
    def __init__(self) -> None:
        self._subscribers: dict[str, list[Subscriber]] = defaultdict(list)

    def subscribe(self, topic: str, subscriber: Subscriber) -> None:
        self._subscribers[topic].append(subscriber)

    def publish(self, topic: str, ids: frozenset[int]) -> None:
        for subscriber in self._subscribers[topic]:
            subscriber(ids)

    def session_info(self) -> dict[str, Any]:
        """What a sessionmaker passes to each session so that its commits reach this feed."""
        return {_FEED: self}


def changed(session: AsyncSession, topic: str, ids: Collection[int]) -> None:
    if ids and _FEED in session.info:
        pending: dict[str, set[int]] = session.info.setdefault(_PENDING, defaultdict(set))
        pending[topic].update(ids)


@event.listens_for(Session, "after_commit")
def _publish_on_commit(session: Session) -> None:
    pending: dict[str, set[int]] = session.info.pop(_PENDING, {})
    feed: ChangeFeed | None = session.info.get(_FEED)
    if feed is not None:
        for topic, ids in pending.items():
            feed.publish(topic, frozenset(ids))


@event.listens_for(Session, "after_rollback")
def _forget_on_rollback(session: Session) -> None:
    session.info.pop(_PENDING, None)


ChangeSource = Callable[[AsyncSession, datetime], Awaitable[Collection[int]]]
# Each pass looks back this far past the previous one: a transaction that committed a little
# after its clock read, or on a host whose clock is a little behind, is still seen.
OVERLAP = timedelta(seconds=10)


async def publish_changes(
    sessionmaker: async_sessionmaker[AsyncSession],
    feed: ChangeFeed,
    sources: Mapping[str, ChangeSource],
    since: datetime,
) -> None:
    """One pass: tell the feed what changed in the database since `since`."""
    async with sessionmaker() as session:
        for topic, source in sources.items():
            ids = await source(session, since)
            if ids:
                feed.publish(topic, frozenset(ids))


@asynccontextmanager
async def watching_changes(
    sessionmaker: async_sessionmaker[AsyncSession],
    feed: ChangeFeed,
    sources: Mapping[str, ChangeSource],
    every_seconds: float,
) -> AsyncIterator[None]:
    """Publish to this process's feed what any process changed, read from the database every
    `every_seconds`, for as long as the context is open (the app's lifespan)."""
    since = utcnow()

    async def loop() -> None:
        nonlocal since
        while True:
            await asyncio.sleep(every_seconds)
            started = utcnow()
            try:
                await publish_changes(sessionmaker, feed, sources, since - OVERLAP)
                since = started
            except Exception:  # a failed pass is retried on the next one, from the same point
                log.exception("change_sync_failed")

    async with in_background("change-sync", loop):
        yield
