"""The event bus: Kafka (aiokafka) in production, an in-process bus on the embedded default.

Both carry the same records through the same two calls: `publish` returns once the bus holds
every record, and `subscription` runs a handler over batches of records. A handler that raises
gets the same batch again (Kafka: offsets are committed only after the handler returns), so
handlers must be idempotent; `nguon.kit.consumers` makes them so.

The database is the truth and the bus only carries news of it: a process whose broker is away
serves on, its events wait in the outbox, and its subscriptions begin once the broker is back.
"""

import asyncio
import contextlib
import functools
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Protocol

import structlog
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaError, TopicAlreadyExistsError
from aiokafka.partitioner import DefaultPartitioner
from aiokafka.producer.message_accumulator import BatchBuilder

from nguon.kit.background import in_background

log = structlog.get_logger()

# A failed handler or broker call is retried after this pause, so a broken broker is not
# hammered and the log is not flooded.
RETRY_SECONDS = 1.0
BATCH_RECORDS = 1_000
# While the broker stays away, the warning is repeated this often rather than every retry.
UNAVAILABLE_LOG_SECONDS = 60.0
# The longest a client may take to close: what a producer has not delivered by then is still
# in the outbox, so a process told to stop does not wait on a broker that is gone.
CLOSE_SECONDS = 2.0
# The longest /readyz waits on the broker's answer to a metadata request.
CHECK_SECONDS = 2.0


class BusUnavailable(Exception):
    """The broker has not been reached: nothing was sent, the records stay where they are."""


@dataclass(frozen=True, slots=True)
class BusState:
    reachable: bool
    detail: str


@functools.lru_cache(maxsize=65_536)
def partition_of(key: bytes, partitions: tuple[int, ...]) -> int:
    """The partition `send` would choose for a keyed record: murmur2 of the key, as the Java
    client does. Remembered, since it is pure Python and the same endpoints' keys come back
    with every fan-out."""
    return int(DefaultPartitioner()(key, list(partitions), list(partitions)))


@dataclass(frozen=True, slots=True)
class Record:
    topic: str
    key: str
    value: bytes


Handler = Callable[[Sequence[Record]], Awaitable[None]]


class Bus(Protocol):
    async def start(self) -> None:
        """Connect, waiting for the broker for as long as it takes (run it in the background:
        `nguon.worker.started`)."""

    async def ready(self) -> None:
        """Return once `start` has connected."""

    async def stop(self) -> None: ...

    async def state(self) -> BusState:
        """Whether the broker answers now, in words for /readyz."""

    async def publish(self, records: Sequence[Record]) -> None:
        """Return once the bus holds every record; raise if it could not take them all."""

    def subscription(
        self, topics: Sequence[str], group: str | None, handler: Handler
    ) -> contextlib.AbstractAsyncContextManager[None]:
        """Run `handler` over batches of new records for as long as the context is open.

        A `group` shares the records among its members and resumes where the group left off;
        no group means this process sees every record from now on (a broadcast)."""
        ...


async def _handle_until_done(handler: Handler, batch: Sequence[Record], topics: str) -> None:
    while True:
        try:
            await handler(batch)
            return
        except Exception:  # the batch is handed over again: nothing is skipped
            log.exception("bus_handler_failed", topics=topics, records=len(batch))
            await asyncio.sleep(RETRY_SECONDS)


class InProcessBus:
    """The embedded default: records go straight to this process's subscriptions."""

    def __init__(self) -> None:
        self._queues: list[tuple[frozenset[str], asyncio.Queue[Record]]] = []

    async def start(self) -> None:
        return None

    async def ready(self) -> None:
        return None

    async def stop(self) -> None:
        return None

    async def state(self) -> BusState:
        return BusState(True, "in process: events reach this process's subscribers only")

    async def publish(self, records: Sequence[Record]) -> None:
        for record in records:
            for topics, queue in self._queues:
                if record.topic in topics:
                    queue.put_nowait(record)

    @asynccontextmanager
    async def subscription(
        self, topics: Sequence[str], group: str | None, handler: Handler
    ) -> AsyncIterator[None]:
        queue: asyncio.Queue[Record] = asyncio.Queue()
        entry = (frozenset(topics), queue)

        async def loop() -> None:
            while True:
                batch = [await queue.get()]
                while len(batch) < BATCH_RECORDS and not queue.empty():
                    batch.append(queue.get_nowait())
                await _handle_until_done(handler, batch, ",".join(topics))

        self._queues.append(entry)
        try:
            async with in_background(f"bus-{group or 'broadcast'}", loop):
                yield
        finally:
            self._queues.remove(entry)


@dataclass(frozen=True, slots=True)
class KafkaOptions:
    bootstrap: str
    partitions: int
    replication_factor: int
    idempotent_producer: bool
    client_id: str = "nguon"


class KafkaBus:
    """Kafka through aiokafka. Records are keyed, so one key's records keep their order."""

    def __init__(self, options: KafkaOptions, topics: Sequence[str]) -> None:
        self.options = options
        self.topics = list(topics)
        self._producer: AIOKafkaProducer | None = None
        self._connected = asyncio.Event()
        # Since when (monotonic) and why the broker has not answered, while it does not.
        self._unreachable_since: tuple[float, str] | None = None

    async def start(self) -> None:
        """Connect, waiting for the broker if it is down: a worker or API process started
        while Kafka restarts carries on once it is back, rather than exiting."""
        logged_at: float | None = None
        while True:
            producer = AIOKafkaProducer(
                bootstrap_servers=self.options.bootstrap,
                client_id=self.options.client_id,
                acks="all",
                enable_idempotence=self.options.idempotent_producer,
                linger_ms=5,
            )
            try:
                await self.ensure_topics()
                await producer.start()
            except KafkaError as error:
                await producer.stop()
                self._unreachable(error)
                if logged_at is None or time.monotonic() - logged_at > UNAVAILABLE_LOG_SECONDS:
                    logged_at = time.monotonic()
                    log.warning(
                        "kafka_unavailable", bootstrap=self.options.bootstrap, error=str(error)
                    )
                await asyncio.sleep(RETRY_SECONDS)
                continue
            except asyncio.CancelledError:  # stopped before the broker came
                await producer.stop()
                raise
            self._producer = producer
            self._unreachable_since = None
            self._connected.set()
            log.info("kafka_connected", bootstrap=self.options.bootstrap)
            return

    async def ready(self) -> None:
        await self._connected.wait()

    async def stop(self) -> None:
        if self._producer is not None:
            producer, self._producer = self._producer, None
            self._connected.clear()
            await _closed_within(producer.stop(), "producer")

    async def state(self) -> BusState:
        producer = self._producer
        if producer is not None:
            try:
                async with asyncio.timeout(CHECK_SECONDS):
                    answered = await producer.client.force_metadata_update()
            except TimeoutError:
                answered = False
            if answered:
                self._unreachable_since = None
                return BusState(True, f"kafka at {self.options.bootstrap}")
            self._unreachable(KafkaError("no broker answered a metadata request"))
        since = self._unreachable_since
        return BusState(
            False,
            f"kafka at {self.options.bootstrap} unreachable"
            + (f" for {time.monotonic() - since[0]:.0f} s: {since[1]}" if since else ""),
        )

    def _unreachable(self, error: KafkaError) -> None:
        if self._unreachable_since is None:
            self._unreachable_since = (time.monotonic(), str(error))

    async def ensure_topics(self) -> None:
        """Create the hub's topics where the broker lacks them (a new or a wiped cluster)."""
        admin = AIOKafkaAdminClient(
            bootstrap_servers=self.options.bootstrap, client_id=self.options.client_id
        )
        await admin.start()
        try:
            missing = set(self.topics) - set(await admin.list_topics())
            if missing:
                with contextlib.suppress(TopicAlreadyExistsError):
                    await admin.create_topics(
                        [
                            NewTopic(
                                name,
                                num_partitions=self.options.partitions,
                                replication_factor=self.options.replication_factor,
                            )
                            for name in sorted(missing)
                        ]
                    )
                log.info("kafka_topics_created", topics=sorted(missing))
        finally:
            await admin.close()

    async def publish(self, records: Sequence[Record]) -> None:
        if self._producer is None:
            raise BusUnavailable(f"kafka at {self.options.bootstrap} is not connected")
        try:
            await self._send_all(self._producer, records)
        except KafkaError:
            # A broker that came back empty has no topics: make them and send once more.
            await self.ensure_topics()
            await self._send_all(self._producer, records)

    @staticmethod
    async def _send_all(producer: AIOKafkaProducer, records: Sequence[Record]) -> None:
        """Send records in batches built here, one partition at a time, rather than one
        `send` each: a province-wide fan-out is tens of thousands of records, and this is
        several times faster. Each record goes to the partition `send` would choose for its
        key (the default partitioner), so one key's records keep their order."""
        partitions: dict[str, tuple[int, ...]] = {}
        open_batches: dict[tuple[str, int], BatchBuilder] = {}
        sent: list[asyncio.Future[object]] = []
        for record in records:
            topic, key = record.topic, record.key.encode()
            if topic not in partitions:
                partitions[topic] = tuple(sorted(await producer.partitions_for(topic)))
            partition = partition_of(key, partitions[topic])
            batch = open_batches.get((topic, partition))
            if batch is None:
                batch = open_batches[topic, partition] = producer.create_batch()
            if batch.append(key=key, value=record.value, timestamp=None) is None:
                # Full: send it and start the next (a first record always fits).
                sent.append(await producer.send_batch(batch, topic, partition=partition))
                batch = open_batches[topic, partition] = producer.create_batch()
                batch.append(key=key, value=record.value, timestamp=None)
        for (topic, partition), batch in open_batches.items():
            sent.append(await producer.send_batch(batch, topic, partition=partition))
        await asyncio.gather(*sent)

    @asynccontextmanager
    async def subscription(
        self, topics: Sequence[str], group: str | None, handler: Handler
    ) -> AsyncIterator[None]:
        label = ",".join(topics)

        async def consume() -> None:
            consumer = AIOKafkaConsumer(
                *topics,
                bootstrap_servers=self.options.bootstrap,
                client_id=self.options.client_id,
                group_id=group,
                enable_auto_commit=False,
                # A group resumes from its commits and starts new partitions at the beginning;
                # a broadcast only wants what happens from now on.
                auto_offset_reset="earliest" if group else "latest",
                fetch_max_wait_ms=50,
                metadata_max_age_ms=5_000,
                # The least Kafka allows by default: a killed worker's partitions move to
                # the others within seconds.
                session_timeout_ms=6_000,
                heartbeat_interval_ms=1_000,
            )
            await consumer.start()
            log.info("kafka_subscribed", topics=label, group=group)
            try:
                while True:
                    batches = await consumer.getmany(timeout_ms=500, max_records=BATCH_RECORDS)
                    batch = [
                        Record(message.topic, (message.key or b"").decode(), message.value or b"")
                        for messages in batches.values()
                        for message in messages
                    ]
                    if batch:
                        await _handle_until_done(handler, batch, label)
                        if group:
                            await consumer.commit()
            finally:
                task = asyncio.current_task()
                if task is not None and task.cancelling():  # the subscription is closing
                    await _closed_within(consumer.stop(), "consumer")
                else:  # a new consumer follows: this one must be gone from the group first
                    await consumer.stop()

        async def loop() -> None:
            while True:
                # Not before the broker is there: the subscription begins when it comes back.
                await self.ready()
                try:
                    await consume()
                except Exception:  # reconnect: a restarted broker, a rebalance gone wrong
                    log.exception("kafka_consumer_failed", topics=label, group=group)
                    await asyncio.sleep(RETRY_SECONDS)

        async with in_background(f"kafka-{group or 'broadcast'}", loop):
            yield


async def _closed_within(closing: Awaitable[None], client: str) -> None:
    """Close a client, giving up after CLOSE_SECONDS: a producer would wait for a broker that
    is gone to take its last records (they are still in the outbox), a consumer to hear that
    it left its group (the group drops it after its session timeout anyway)."""
    try:
        async with asyncio.timeout(CLOSE_SECONDS):
            await closing
    except TimeoutError:
        log.warning("kafka_close_abandoned", client=client)
