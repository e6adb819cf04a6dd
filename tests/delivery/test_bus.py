"""The bus on a real Kafka-protocol broker (Tansu) and in process: the same two calls."""

import asyncio
import json
from collections.abc import Sequence

from aiokafka.admin import AIOKafkaAdminClient

from nguon.kit.bus import Bus, InProcessBus, KafkaBus, KafkaOptions, Record
from tests.delivery.test_nothing_lost import until
from tests.tansu import Broker

TOPIC = "nguon.test-events"


def kafka(broker: Broker) -> KafkaBus:
    # Tansu has no idempotent producer; real Kafka runs with it on (the setting's default).
    options = KafkaOptions(
        broker.bootstrap, partitions=4, replication_factor=1, idempotent_producer=False
    )
    return KafkaBus(options, [TOPIC])


def records(keys: Sequence[str], per_key: int) -> list[Record]:
    return [
        Record(TOPIC, key, json.dumps({"key": key, "n": n}).encode())
        for n in range(per_key)
        for key in keys
    ]


class Collector:
    """A handler that fails its first `failures` batches, then keeps what it is given."""

    def __init__(self, failures: int = 0) -> None:
        self.failures = failures
        self.seen: list[dict[str, object]] = []
        self.batches_refused = 0
        self.arrived = asyncio.Event()

    async def __call__(self, batch: Sequence[Record]) -> None:
        if self.batches_refused < self.failures:
            self.batches_refused += 1
            raise RuntimeError("handler failed")
        self.seen.extend(json.loads(record.value) for record in batch)
        self.arrived.set()

    async def until(self, count: int, seconds: float = 20) -> None:
        async with asyncio.timeout(seconds):
            while len(self.seen) < count:
                self.arrived.clear()
                await self.arrived.wait()


async def test_the_hub_creates_its_topics_on_a_new_broker(tansu: Broker) -> None:
    bus = kafka(tansu)
    await bus.start()
    try:
        admin = AIOKafkaAdminClient(bootstrap_servers=tansu.bootstrap)
        await admin.start()
        try:
            assert TOPIC in await admin.list_topics()
        finally:
            await admin.close()
    finally:
        await bus.stop()


async def test_a_bus_started_while_the_broker_is_down_waits_for_it(tansu: Broker) -> None:
    tansu.stop()
    bus = kafka(tansu)
    starting = asyncio.create_task(bus.start())
    await asyncio.sleep(1.5)
    assert not starting.done()
    tansu.start()
    await asyncio.wait_for(starting, 30)
    try:
        collector = Collector()
        async with bus.subscription([TOPIC], "waiting-group", collector):
            await bus.publish(records(["AG-1"], 3))
            await collector.until(3)
        assert [event["n"] for event in collector.seen] == [0, 1, 2]
    finally:
        await bus.stop()


async def test_each_key_keeps_its_order_and_a_failed_batch_comes_again(tansu: Broker) -> None:
    bus = kafka(tansu)
    await bus.start()
    collector = Collector(failures=1)
    try:
        async with bus.subscription([TOPIC], "test-group", collector):
            await bus.publish(records(["AG-1", "AG-2", "AG-3"], per_key=50))
            await collector.until(150)
        assert collector.batches_refused == 1
        for key in ("AG-1", "AG-2", "AG-3"):
            assert [e["n"] for e in collector.seen if e["key"] == key] == list(range(50))
    finally:
        await bus.stop()


async def test_a_group_resumes_after_what_it_committed(tansu: Broker) -> None:
    bus = kafka(tansu)
    await bus.start()
    try:
        first = Collector()
        async with bus.subscription([TOPIC], "resume-group", first):
            await bus.publish(records(["AG-1"], per_key=10))
            await first.until(10)
        await bus.publish(records(["AG-2"], per_key=5))
        second = Collector()
        async with bus.subscription([TOPIC], "resume-group", second):
            await second.until(5)
            await asyncio.sleep(0.5)  # anything already committed would arrive by now
        assert {e["key"] for e in second.seen} == {"AG-2"}
    finally:
        await bus.stop()


async def test_publishing_and_consuming_resume_after_the_broker_comes_back_empty(
    tansu: Broker,
) -> None:
    bus = kafka(tansu)
    await bus.start()
    try:
        await bus.publish(records(["AG-1"], per_key=1))
        tansu.restart_empty()
        collector = Collector()
        async with bus.subscription([TOPIC], "after-restart", collector):
            # Tansu acknowledges a record sent before its topic exists again and drops it,
            # where Kafka refuses it and the producer sends it again: publish once it is back.
            await topic_listed(tansu)
            await bus.publish(records(["AG-1"], per_key=3))
            await collector.until(3)
        assert [e["n"] for e in collector.seen] == [0, 1, 2]
    finally:
        await bus.stop()


async def topic_listed(broker: Broker) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=broker.bootstrap)
    await admin.start()
    try:

        async def listed() -> bool:
            return TOPIC in await admin.list_topics()

        await until(listed, seconds=20)
    finally:
        await admin.close()


async def run_broadcast(bus: Bus) -> list[list[dict[str, object]]]:
    """Two broadcast subscribers (two API processes) both see every record."""
    one, two = Collector(), Collector()
    async with bus.subscription([TOPIC], None, one), bus.subscription([TOPIC], None, two):
        await asyncio.sleep(1.0)  # a broadcast starts from now: let both join first
        await bus.publish(records(["AG-1", "AG-2"], per_key=2))
        await one.until(4)
        await two.until(4)
    return [one.seen, two.seen]


async def test_a_broadcast_reaches_every_subscriber_on_kafka(tansu: Broker) -> None:
    bus = kafka(tansu)
    await bus.start()
    try:
        one, two = await run_broadcast(bus)
        assert len(one) == len(two) == 4
    finally:
        await bus.stop()


async def test_the_in_process_bus_keeps_the_same_promises() -> None:
    bus = InProcessBus()
    one, two = await run_broadcast(bus)
    assert one == two
    collector = Collector(failures=2)
    async with bus.subscription([TOPIC], "group", collector):
        await bus.publish(records(["AG-1"], per_key=5))
        await collector.until(5, seconds=10)
    assert [e["n"] for e in collector.seen] == list(range(5))
    assert collector.batches_refused == 2
