"""What changed, told to this process's caches as soon as the transaction that changed it commits.

Repositories call `changed(session, topic, ids)` next to the write; the ids reach the subscribers
only if the transaction commits. Other API processes learn the same from the database (the
dispatch sync loop), so a cache never needs more than this process's word to drop an entry.

Where what changed has a version that only grows (a playlist's), the ids come as a mapping to
the version they changed to, and subscribers receive it; other ids have version 0. A change
heard twice, or late, then costs a cache nothing it holds of the newer version.
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

# Ids that changed, each with the version it changed to (0 where there are no versions).
Changes = Mapping[int, int]
Subscriber = Callable[[Changes], None]
_FEED = "change_feed"
_PENDING = "changes_pending"


class ChangeFeed:
    def __init__(self) -> None:
        self._subscribers: dict[str, list[Subscriber]] = defaultdict(list)

    def subscribe(self, topic: str, subscriber: Subscriber) -> None:
        self._subscribers[topic].append(subscriber)

    def publish(self, topic: str, changes: Changes) -> None:
        for subscriber in self._subscribers[topic]:
            subscriber(changes)

    def session_info(self) -> dict[str, Any]:
        """What a sessionmaker passes to each session so that its commits reach this feed."""
        return {_FEED: self}


def with_versions(ids: Collection[int]) -> dict[int, int]:
    """Ids with the versions they changed to: a mapping's own, 0 for plain ids."""
    return dict(ids) if isinstance(ids, Mapping) else dict.fromkeys(ids, 0)


def changed(session: AsyncSession, topic: str, ids: Collection[int]) -> None:
    """`ids` changed in this session's transaction: plain ids, or a mapping of each to the
    version it changed to."""
    if ids and _FEED in session.info:
        pending: dict[str, dict[int, int]] = session.info.setdefault(_PENDING, defaultdict(dict))
        held = pending[topic]
        for changed_id, version in with_versions(ids).items():
            held[changed_id] = max(version, held.get(changed_id, version))


@event.listens_for(Session, "after_commit")
def _publish_on_commit(session: Session) -> None:
    pending: dict[str, dict[int, int]] = session.info.pop(_PENDING, {})
    feed: ChangeFeed | None = session.info.get(_FEED)
    if feed is not None:
        for topic, changes in pending.items():
            feed.publish(topic, changes)


@event.listens_for(Session, "after_rollback")
def _forget_on_rollback(session: Session) -> None:
    session.info.pop(_PENDING, None)


# What changed since an instant: ids, or a mapping of them to their versions (as `changed`).
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
                feed.publish(topic, with_versions(ids))


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
