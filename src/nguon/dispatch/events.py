"""What endpoints must learn of at once, written to the outbox with the change that causes it.

Every change to what an endpoint plays moves its playlist version and emits one event per
endpoint, keyed by the endpoint's code so that one endpoint's events keep their order on the
bus. Server-sent events and vendor webhooks carry these events; the playlist stays the truth.
"""

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from nguon.bulletins.enums import Priority
from nguon.bulletins.models import Bulletin
from nguon.endpoints.repository import EndpointRepository
from nguon.kit.db import json_object_text, utcnow
from nguon.kit.outbox import Outbox

# The outbox topic of endpoint events (its Kafka name is the setting kafka_topic_endpoint_events).
ENDPOINT_EVENTS = "endpoint-events"
# The type of the endpoint events that carry a command to the device (nguon.commands), beside
# the playlist's: the webhook consumer leaves them to the command pusher, which posts them itself.
COMMAND_EVENT = "command"


class EndpointEventType(StrEnum):
    emergency = "emergency"  # an emergency bulletin (or a new revision of one) is on air for it
    publication = "publication"  # any other bulletin (or a new revision) is on air for it
    revocation = "revocation"  # a bulletin was withdrawn before its end
    expiry = "expiry"  # a bulletin reached the end of its validity
    playlist = "playlist"  # the playlist changed otherwise: programme, order, the endpoint itself


@dataclass(frozen=True, slots=True)
class BulletinNote:
    """What an event says of its bulletin: enough to decide to fetch the playlist at once."""

    id: str
    revision: int
    priority: Priority
    title: str
    valid_until: datetime | None
    exercise: bool = False

    @classmethod
    def of(cls, bulletin: Bulletin, revision: int) -> "BulletinNote":
        return cls(
            bulletin.id,
            revision,
            bulletin.priority,
            bulletin.title,
            bulletin.valid_until,
            bulletin.exercise,
        )

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "revision": self.revision,
            "priority": self.priority.value,
            "title": self.title,
            "valid_until": self.valid_until.isoformat() if self.valid_until else None,
            "exercise": self.exercise,
        }


def on_air_event(priority: Priority) -> EndpointEventType:
    return (
        EndpointEventType.emergency
        if priority is Priority.emergency
        else EndpointEventType.publication
    )


class EndpointEvents:
    def __init__(self, session: AsyncSession) -> None:
        self.endpoints = EndpointRepository(session)
        self.outbox = Outbox(session)

    async def changed(
        self,
        endpoint_ids: Collection[int] | Select[int],
        kind: EndpointEventType = EndpointEventType.playlist,
        bulletin: BulletinNote | None = None,
    ) -> None:
        """What these endpoints play has changed: move their playlist version and tell them."""
        await self.endpoints.touch(endpoint_ids)
        await self.announce(endpoint_ids, kind, bulletin)

    async def announce(
        self,
        endpoint_ids: Collection[int] | Select[int],
        kind: EndpointEventType,
        bulletin: BulletinNote | None,
    ) -> None:
        """Emit `kind` to each endpoint, with its current playlist version, without changing
        anything. The database writes the events: a province-wide emergency is ten thousand."""
        if not isinstance(endpoint_ids, Select) and not endpoint_ids:
            return
        current = self.endpoints.playlist_versions(endpoint_ids).subquery()
        payload = json_object_text(
            {
                "type": kind.value,
                "endpoint": current.c.code,
                "playlist_version": current.c.version,
                "bulletin": bulletin.as_json() if bulletin else None,
                "at": utcnow().isoformat(),
            }
        )
        await self.outbox.emit_selected(ENDPOINT_EVENTS, select(current.c.code, payload))
