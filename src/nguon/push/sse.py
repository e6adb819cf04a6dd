"""Server-sent events to devices: what an endpoint must learn of at once, as it happens.

Every API process hears every endpoint event on the bus (a broadcast subscription) and hands
each one to the streams its own devices hold open, so a device hears of a commit whichever
process serves it. The outbox keeps published events for a while: a device that comes back
with Last-Event-ID is replayed what it missed from the database, then carries on live.
"""

import asyncio
import json
from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Annotated

import structlog
from fastapi import APIRouter, Depends, Header, Query, Request, Response
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sse_starlette import EventSourceResponse, ServerSentEvent

from nguon.dispatch.events import COMMAND_EVENT, ENDPOINT_EVENTS, EndpointEventType
from nguon.endpoints.endpoints import Endpoints
from nguon.identity.access import Access
from nguon.identity.principal import Principal
from nguon.identity.roles import Role
from nguon.kit.bus import Record
from nguon.kit.outbox import Outbox, StoredEvent
from nguon.kit.schemas import INT64_MAX, pattern

log = structlog.get_logger()

router = APIRouter(prefix="/api/v1/device", tags=["device"])
DEVICE = Access(Role.endpoint)

# Events a stream may hold unsent. A device further behind than this is let go rather than
# buffered without bound or allowed to hold up the bus; it reconnects and is replayed.
QUEUE_EVENTS = 256
REPLAY_BATCH = 1_000
# How long a disconnected EventSource waits before it reconnects.
RETRY_MILLISECONDS = 3_000
# A send the client has not taken within this long means it stopped reading: end the stream.
SEND_TIMEOUT_SECONDS = 30

DESCRIPTION = f"""\
A `text/event-stream` of what this endpoint must learn of at once. Each message is

```
id: 1042
event: emergency
data: {{"id":1042,"type":"emergency","endpoint":"A-RADIO","playlist_version":7,...}}
```

`data` is one line of JSON: `id` (the event's id, as in `id:`), `type` (as in `event:`),
`endpoint` (this endpoint's code), `playlist_version` (its playlist's version after the change),
`bulletin` (null, or the `id`, `revision`, `priority`, `title`, `valid_until` and `exercise` (a
CAP Test or Exercise) of the bulletin concerned) and `at` (when, ISO 8601). `type` is
`emergency` (an emergency bulletin, or a new revision of one, is on air for this endpoint: fetch
the playlist now), `publication` (any other bulletin on air), `revocation` (a bulletin withdrawn
before its end), `expiry` (a bulletin reached its end), `playlist` (the playlist changed
otherwise) or `command` (a command from the hub, in `command`: its `id`, `command`, `volume`
and `expires_at`; do it once by its `id`, and answer it at
`POST /api/v1/device/commands/{{id}}/ack`). The playlist stays the truth: an event says when
to fetch it again, and which version to expect.

The stream opens with `retry: {RETRY_MILLISECONDS}`; once that has arrived, nothing committed
afterwards is missed. Comment lines keep the connection alive every
NGUON_SSE_KEEPALIVE_SECONDS. Reconnect with `Last-Event-ID` (or `?last_event_id=`) set to the
last id received to be sent the events since, in order, before the live ones. They are kept
for NGUON_OUTBOX_RETENTION_HOURS: after a longer absence, fetch the playlist. A client that
falls {QUEUE_EVENTS} events behind has its stream closed and should reconnect the same way.
Rarely (a hub failing over) an event comes twice: acting on it again must be harmless, as
fetching the playlist is.
"""


@dataclass(frozen=True, slots=True)
class DeviceEvent:
    id: int
    type: str
    data: str  # the event's JSON, exactly as the relay put it on the bus

    def message(self) -> ServerSentEvent:
        return ServerSentEvent(self.data, id=str(self.id), event=self.type)

    @classmethod
    def of(cls, stored: StoredEvent) -> "DeviceEvent":
        return cls(stored.id, str(json.loads(stored.payload)["type"]), stored.as_json())


# What a stream's queue holds: events, or None once the stream fell too far behind.
StreamQueue = asyncio.Queue[DeviceEvent | None]


def _read(record: Record) -> DeviceEvent | None:
    """The event a bus record carries, or None when it is unreadable."""
    try:
        data = record.value.decode()
        fields = json.loads(data)
        return DeviceEvent(int(fields["id"]), str(fields["type"]), data)
    except (ValueError, KeyError, TypeError):
        return None


class EventStreams:
    """This process's open event streams, by endpoint code."""

    def __init__(self, keepalive_seconds: float) -> None:
        self.keepalive_seconds = keepalive_seconds
        self._streams: dict[str, set[StreamQueue]] = {}

    @property
    def connected(self) -> int:
        return sum(len(queues) for queues in self._streams.values())

    async def handle(self, records: Sequence[Record]) -> None:
        """Hand each event to the streams of its endpoint; never waits on a client. Records
        are keyed by endpoint code, so only those of connected endpoints are read: a
        province-wide fan-out is tens of thousands of records, most for other processes."""
        for record in records:
            queues = list(self._streams.get(record.key, ()))
            if not queues:
                continue
            event = _read(record)
            if event is None:
                # Raising would have the bus hand the same batch over again, forever.
                log.warning("endpoint_event_unreadable", topic=record.topic, key=record.key)
                continue
            code = record.key
            for queue in queues:
                try:
                    queue.put_nowait(event)
                except asyncio.QueueFull:
                    self._let_go(code, queue)

    def _let_go(self, code: str, queue: StreamQueue) -> None:
        """End a stream too far behind: what it had not taken, it is replayed on reconnecting."""
        self._remove(code, queue)
        while not queue.empty():
            queue.get_nowait()
        queue.put_nowait(None)
        log.warning("event_stream_too_slow", endpoint=code)

    def _remove(self, code: str, queue: StreamQueue) -> None:
        queues = self._streams.get(code)
        if queues is not None:
            queues.discard(queue)
            if not queues:
                del self._streams[code]

    @contextmanager
    def _open(self, code: str) -> Iterator[StreamQueue]:
        queue: StreamQueue = asyncio.Queue(QUEUE_EVENTS)
        self._streams.setdefault(code, set()).add(queue)
        try:
            yield queue
        finally:
            self._remove(code, queue)

    async def stream(
        self,
        code: str,
        after: int | None,
        sessionmaker: async_sessionmaker[AsyncSession],
    ) -> AsyncIterator[ServerSentEvent]:
        """An endpoint's messages: the events after `after` from the database, then live ones.

        The stream is registered before the database is read, so an event committed meanwhile
        is in one or the other, or both: the live copy of a replayed event is skipped. Only
        that: ids are not commit order (a transaction that took a lower id may commit later),
        so a live event with a lower id than the last sent is news, not a repeat. The stream
        is registered here, in the generator, because only a generator that started is sure
        to be closed."""
        with self._open(code) as queue:
            yield ServerSentEvent(retry=RETRY_MILLISECONDS)
            replayed: set[int] = set()
            while after is not None:
                # A session per batch, closed before sending: a slow client holds no database
                # connection.
                async with sessionmaker() as session:
                    missed = await Outbox(session).since(ENDPOINT_EVENTS, code, after, REPLAY_BATCH)
                for row in missed:
                    yield DeviceEvent.of(row).message()
                    replayed.add(row.id)
                after = missed[-1].id if len(missed) == REPLAY_BATCH else None
            while (event := await queue.get()) is not None:
                if event.id not in replayed:
                    yield event.message()


ResumeHeader = Annotated[
    int | None,
    Header(
        alias="Last-Event-ID",
        ge=0,
        le=INT64_MAX,
        description="The id of the last event received: the events since are sent first",
    ),
]
ResumeQuery = Annotated[
    int | None,
    Query(
        alias="last_event_id",
        ge=0,
        le=INT64_MAX,
        description="As the Last-Event-ID header, for clients that cannot set it; "
        "the header wins when both are sent",
    ),
]


# One event of the stream, as OpenAPI describes a `text/event-stream`: its fields, `data` the JSON.
EVENT_SCHEMA = {
    "type": "object",
    "properties": {
        "id": {"type": "string", "pattern": pattern(r"^[0-9]+$", "digits")},
        "event": {
            "type": "string",
            "enum": [*(kind.value for kind in EndpointEventType), COMMAND_EVENT],
        },
        "data": {"type": "string", "contentMediaType": "application/json"},
        "retry": {"type": "integer"},
    },
    "required": ["id", "event", "data"],
}


@router.get(
    "/events",
    summary="Server-sent events: emergencies, publications, revocations, playlist changes",
    description=DESCRIPTION,
    response_class=Response,
    responses={
        200: {
            "description": "An endless stream of server-sent events",
            "content": {"text/event-stream": {"schema": EVENT_SCHEMA}},
        }
    },
)
async def device_events(
    request: Request,
    service: Endpoints,
    device: Annotated[Principal, Depends(DEVICE)],
    last_event_id: ResumeHeader = None,
    last_event_id_query: ResumeQuery = None,
) -> EventSourceResponse:
    # The request's session closes when this returns: the stream itself holds none.
    endpoint = await service.of_device(device)
    streams: EventStreams = request.app.state.event_streams
    after = last_event_id if last_event_id is not None else last_event_id_query
    return EventSourceResponse(
        streams.stream(endpoint.code, after, request.app.state.sessionmaker),
        ping=streams.keepalive_seconds,
        send_timeout=SEND_TIMEOUT_SECONDS,
    )
