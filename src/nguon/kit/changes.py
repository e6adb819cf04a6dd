"""What changed, told to this process's caches as soon as the transaction that changed it commits.

Repositories call `changed(session, topic, ids)` next to the write; the ids reach the subscribers
only if the transaction commits. Other API processes learn the same from the database (the
dispatch sync loop), so a cache never needs more than this process's word to drop an entry.
"""

from collections import defaultdict
from collections.abc import Callable, Collection
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

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
