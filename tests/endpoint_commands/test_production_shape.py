"""Commands in the production shape: an API process and a worker apart, talking through Kafka,
the worker on MQTT (000/004 Điều 7.2: a cluster switched off from the hub in an emergency)."""

import uuid
from pathlib import Path
from typing import Any

from httpx import AsyncClient

from tests.conftest import free_port
from tests.endpoint_commands.test_commands import (
    MQTT_HOST,
    MQTT_PORT,
    WAIT_SECONDS,
    MqttHub,
    command_status,
    radio_on_mqtt,
    send,
)
from tests.processes import ApiProcess, Process, kafka_environment
from tests.tansu import Broker


async def test_with_kafka_a_worker_pushes_a_switch_off_over_mqtt_and_hears_the_answer(
    database_url: str, tansu: Broker, tmp_path: Path, parties: dict[str, Any]
) -> None:
    prefix = f"test-{uuid.uuid4().hex[:12]}"
    mqtt = {
        "mqtt_url": f"mqtt://{MQTT_HOST}:{MQTT_PORT}",
        "mqtt_topic_prefix": prefix,
        "command_repush_seconds": "1",
    }
    api = ApiProcess(free_port(), kafka_environment(database_url, tansu, tmp_path / "api"))
    worker = Process(
        ["worker"], kafka_environment(database_url, tansu, tmp_path / "worker", **mqtt)
    )
    api.start()
    worker.start()
    try:
        async with AsyncClient(base_url=api.base_url, timeout=WAIT_SECONDS) as http:
            hub = MqttHub(http, prefix)
            async for radio in radio_on_mqtt(hub, parties):
                sent = await send(http, parties["editor"], {"command": "switch_off"})
                assert sent.status_code == 201, sent.text
                heard = await radio.next_command()
                assert heard["command"]["id"] == sent.json()["id"]
                await radio.answer(heard["command"]["id"])
                acked = await command_status(http, parties, "acked")
                assert acked["answered_over"] == "mqtt"
    finally:
        api.stop()
        worker.stop()
