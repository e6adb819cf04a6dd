"""Commands to endpoints: switched off, on, louder, restarted, told to fetch now; pushed over
every channel the endpoint has until the device answers (000/004 Điều 7.2: "hỗ trợ tắt/mở
trong trường hợp đột xuất, khẩn cấp"; 001 Điều 12.2: measures against an incident's damage).

The MQTT tests use the Mosquitto broker of the machine (127.0.0.1:1883, no accounts), each under
a topic prefix of its own so that runs side by side do not hear each other; the acceptance walk
runs too on a broker of the tests' own with TLS and accounts (`tests.mosquitto`)."""

import asyncio
import json
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from typing import Any

import aiomqtt
import pytest
from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from nguon.app import create_app
from nguon.commands.pusher import CommandPusher
from nguon.kit.settings import Settings
from nguon.kit.signing import sign, verify
from tests.bulletins.test_workflow import text_bulletin
from tests.conftest import AN_GIANG, MakeEndpoint, free_port
from tests.dispatch.test_deliveries import publish
from tests.endpoint_commands.conftest import RADIO
from tests.gateway import Gateway
from tests.mosquitto import MACHINE_BROKER, Broker
from tests.push.test_sse import Hub, listening
from tests.serving import serving

MQTT_HOST, MQTT_PORT = MACHINE_BROKER.host, MACHINE_BROKER.port
# How long a test waits for what it expects before it fails (an upper bound, not a measure).
WAIT_SECONDS = 10


@dataclass(frozen=True, slots=True)
class MqttHub:
    http: AsyncClient
    prefix: str
    broker: Broker = MACHINE_BROKER


async def served(settings: Settings, **changes: Any) -> AsyncIterator[AsyncClient]:
    app = create_app(settings.model_copy(update={"relay_poll_seconds": 0.05, **changes}))
    port = free_port()
    async with (
        serving(app, port, timeout_graceful_shutdown=5),
        AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=WAIT_SECONDS) as http,
    ):
        yield http


@pytest.fixture
def broker(request: pytest.FixtureRequest) -> Broker:
    """The machine's broker; parametrised indirectly with "secured", one with TLS and accounts."""
    if getattr(request, "param", "machine") == "secured":
        secured: Broker = request.getfixturevalue("secured_mosquitto")
        return secured
    return MACHINE_BROKER


@pytest.fixture
async def mqtt_hub(
    settings: Settings, parties: dict[str, Any], broker: Broker
) -> AsyncIterator[MqttHub]:
    """The hub served with its worker, on MQTT under a prefix of this test's own, re-pushing
    unanswered commands every half second."""
    prefix = f"test-{uuid.uuid4().hex[:12]}"
    async for http in served(
        settings,
        **broker.hub_settings(),
        mqtt_topic_prefix=prefix,
        command_repush_seconds=0.5,
    ):
        yield MqttHub(http, prefix, broker)


async def push_secret(http: AsyncClient, parties: dict[str, Any], code: str = RADIO) -> str:
    response = await http.post(f"/api/v1/endpoints/{code}/push-secret", headers=parties["admin"])
    assert response.status_code == 200, response.text
    return str(response.json()["push_secret"])


def envelope(secret: str, message: dict[str, Any]) -> bytes:
    """A device's message, signed as the README says."""
    text = json.dumps(message)
    stamp = int(time.time())
    return json.dumps(
        {"timestamp": str(stamp), "signature": sign(secret, stamp, text.encode()), "message": text}
    ).encode()


def genuine(secret: str, payload: bytes) -> dict[str, Any]:
    """The hub's message, after checking its signature as a device does."""
    outer = json.loads(payload)
    assert verify(secret, outer["timestamp"], outer["message"].encode(), outer["signature"], 300)
    message: dict[str, Any] = json.loads(outer["message"])
    return message


class Radio:
    """A radio on MQTT: hears its topic, answers on its own."""

    def __init__(self, client: aiomqtt.Client, prefix: str, secret: str) -> None:
        self.client = client
        self.topic = f"{prefix}/endpoints/{RADIO}"
        self.secret = secret

    async def next_command(self) -> dict[str, Any]:
        async with asyncio.timeout(WAIT_SECONDS):
            async for message in self.client.messages:
                heard = genuine(self.secret, bytes(message.payload))  # type: ignore[arg-type]
                if heard["type"] == "command":
                    return heard
        raise AssertionError("the subscription ended")

    async def answer(self, command_id: str, status: str = "acked") -> None:
        payload = envelope(self.secret, {"command": command_id, "status": status})
        await self.client.publish(f"{self.topic}/acks", payload, qos=1)


async def radio_on_mqtt(hub: MqttHub, parties: dict[str, Any]) -> AsyncIterator[Radio]:
    secret = await push_secret(hub.http, parties)
    async with hub.broker.radio_client(f"radio-{uuid.uuid4().hex}") as c:
        radio = Radio(c, hub.prefix, secret)
        await c.subscribe(f"{radio.topic}/messages", qos=1)
        yield radio


async def command_status(http: AsyncClient, parties: dict[str, Any], wanted: str) -> dict[str, Any]:
    """The radio's newest command once it has the wanted status."""
    async with asyncio.timeout(WAIT_SECONDS):
        while True:
            listed = await http.get(
                f"/api/v1/endpoints/{RADIO}/commands", headers=parties["editor"]
            )
            assert listed.status_code == 200, listed.text
            newest: dict[str, Any] = listed.json()["items"][0]
            if newest["status"] == wanted:
                return newest
            await asyncio.sleep(0.05)


async def send(
    http: AsyncClient, headers: dict[str, str], body: dict[str, Any], code: str = RADIO
) -> Any:
    return await http.post(f"/api/v1/endpoints/{code}/commands", json=body, headers=headers)


async def mqtt_check(http: AsyncClient, until: str = "") -> dict[str, Any]:
    """The `mqtt` check of /readyz once its detail says `until`."""
    async with asyncio.timeout(WAIT_SECONDS):
        while True:
            ready = await http.get("/readyz")
            assert ready.status_code == 200, ready.text
            check: dict[str, Any] = next(c for c in ready.json()["checks"] if c["name"] == "mqtt")
            if until in check["detail"]:
                return check
            await asyncio.sleep(0.05)


@pytest.mark.parametrize("broker", ["machine", "secured"], indirect=True)
async def test_a_switch_off_to_a_radio_is_acknowledged_over_mqtt(
    mqtt_hub: MqttHub, parties: dict[str, Any]
) -> None:
    """The acceptance: a cluster switched off from the hub in an emergency (000/004 Điều 7.2)
    hears it over MQTT and says so there; the command shows `acked`. On a province's broker,
    the hub and the radio sign in with their accounts, over TLS to a certificate of the
    province's own CA."""
    connected = await mqtt_check(mqtt_hub.http, "connected since")
    assert connected["ok"] is True
    assert connected["detail"].startswith(f"{mqtt_hub.broker.shown}: connected since")
    async for radio in radio_on_mqtt(mqtt_hub, parties):
        sent = await send(mqtt_hub.http, parties["editor"], {"command": "switch_off"})
        assert sent.status_code == 201, sent.text
        assert sent.json()["status"] == "pending"
        heard = await radio.next_command()
        assert heard["endpoint"] == RADIO
        assert heard["command"]["id"] == sent.json()["id"]
        assert heard["command"]["command"] == "switch_off"
        await radio.answer(heard["command"]["id"])
        acked = await command_status(mqtt_hub.http, parties, "acked")
        assert acked["answered_over"] == "mqtt"
        assert acked["next_attempt_at"] is None
    playlist = await mqtt_hub.http.get("/api/v1/device/playlist", headers=parties["radio"])
    assert playlist.json()["switched_off"] is True


async def test_an_unanswered_command_is_pushed_again_until_the_radio_answers(
    mqtt_hub: MqttHub, parties: dict[str, Any]
) -> None:
    async for radio in radio_on_mqtt(mqtt_hub, parties):
        sent = await send(mqtt_hub.http, parties["editor"], {"command": "volume", "volume": 70})
        first = await radio.next_command()
        again = await radio.next_command()  # not answered: it comes again, the same command
        assert first["command"] == again["command"] == {**first["command"], "volume": 70}
        assert again["event_id"] > first["event_id"]
        assert (await command_status(mqtt_hub.http, parties, "sent"))["attempts"] >= 2
        await radio.answer(sent.json()["id"])
        await command_status(mqtt_hub.http, parties, "acked")


async def test_a_message_not_signed_with_the_push_secret_is_ignored(
    mqtt_hub: MqttHub, parties: dict[str, Any]
) -> None:
    """The broker has no accounts: anyone may publish, only the endpoint's secret counts."""
    async for radio in radio_on_mqtt(mqtt_hub, parties):
        sent = await send(mqtt_hub.http, parties["editor"], {"command": "restart"})
        forged = Radio(radio.client, mqtt_hub.prefix, "not-the-secret")
        await forged.answer(sent.json()["id"])
        await radio.next_command()
        await radio.next_command()  # pushed again: the forged answer did not count
        assert (await command_status(mqtt_hub.http, parties, "sent"))["answered_at"] is None


async def test_a_command_nobody_answers_expires_and_takes_no_late_answer(
    settings: Settings, parties: dict[str, Any]
) -> None:
    async for http in served(settings, command_repush_seconds=0.2, command_expire_seconds=1):
        sent = await send(http, parties["editor"], {"command": "fetch_now"})
        expired = await command_status(http, parties, "expired")
        assert expired["attempts"] >= 1
        assert expired["answered_at"] is None
        late = await http.post(
            f"/api/v1/device/commands/{sent.json()['id']}/ack", headers=parties["radio"]
        )
        assert late.status_code == 409, late.text
        assert late.headers["content-type"] == "application/problem+json"
        listed = await http.get("/api/v1/device/commands", headers=parties["radio"])
        assert listed.json()["items"] == []


async def test_a_device_on_sse_hears_a_command_and_answers_over_http(
    settings: Settings, parties: dict[str, Any]
) -> None:
    async for http in served(settings):
        async with listening(Hub(None, http), parties["radio"]) as events:
            sent = await send(http, parties["chair"], {"command": "switch_on"})
            assert sent.status_code == 201, sent.text
            heard = await events.message()
            while heard.event != "command":  # switch_on of a switched-on radio moves nothing
                heard = await events.message()
            assert heard.data["command"]["id"] == sent.json()["id"]
        answered = await http.post(
            f"/api/v1/device/commands/{sent.json()['id']}/ack",
            json={"status": "failed", "detail": "amplifier fault"},
            headers=parties["radio"],
        )
        assert answered.status_code == 200, answered.text
        assert answered.json()["status"] == "failed"
        assert answered.json()["detail"] == "amplifier fault"
        assert answered.json()["answered_over"] == "http"


async def test_a_webhook_gateway_gets_the_command_signed_and_the_device_answers_over_http(
    settings: Settings, parties: dict[str, Any], make_endpoint: MakeEndpoint, gateway: Gateway
) -> None:
    device = await make_endpoint("AG-HOOKED-01", "radio", parties["commune"], push_url=gateway.url)
    async for http in served(settings):
        gateway.secret = await push_secret(http, parties, "AG-HOOKED-01")
        await gateway.start()
        sent = await send(http, parties["editor"], {"command": "restart"}, "AG-HOOKED-01")
        command_id = sent.json()["id"]
        async with asyncio.timeout(WAIT_SECONDS):
            while True:
                if command_id in {r.headers.get("x-nguon-command") for r in gateway.requests}:
                    break
                await asyncio.sleep(0.05)
        posted = next(r for r in gateway.requests if r.headers.get("x-nguon-command"))
        body = json.loads(posted.body)
        assert body["type"] == "command"
        assert body["endpoint"] == "AG-HOOKED-01"
        assert body["command"]["command"] == "restart"
        polled = await http.get("/api/v1/device/commands", headers=device)
        assert [item["id"] for item in polled.json()["items"]] == [command_id]
        answered = await http.post(f"/api/v1/device/commands/{command_id}/ack", headers=device)
        assert answered.status_code == 200, answered.text
        assert answered.json()["status"] == "acked"
        again = await http.post(f"/api/v1/device/commands/{command_id}/ack", headers=device)
        assert again.json()["answered_at"] == answered.json()["answered_at"]
        polled = await http.get("/api/v1/device/commands", headers=device)
        assert polled.json()["items"] == []


async def test_only_the_area_s_editors_admins_and_the_commune_s_chair_give_commands(
    client: AsyncClient, parties: dict[str, Any]
) -> None:
    order = {"command": "switch_off"}
    assert (await send(client, parties["viewer"], order)).status_code == 403
    assert (await send(client, parties["publisher"], order)).status_code == 403
    refused = await send(client, parties["other_chair"], order)
    assert refused.status_code == 403
    assert refused.headers["content-type"] == "application/problem+json"
    assert (await send(client, parties["chair"], order)).status_code == 201
    assert (await send(client, parties["admin"], order)).status_code == 201
    listed = await client.get(f"/api/v1/endpoints/{RADIO}/commands", headers=parties["viewer"])
    assert [item["issued_by"] for item in listed.json()["items"]] == [
        "user:cmd.admin",
        "user:cmd.chair",
    ]


@pytest.mark.parametrize(
    "order",
    [
        {"command": "volume", "volume": 200},
        {"command": "volume", "volume": -1},
        {"command": "volume"},
        {"command": "restart", "volume": 50},
        {"command": "self_destruct"},
        {},
    ],
)
async def test_a_bad_command_is_refused_and_changes_nothing(
    client: AsyncClient, parties: dict[str, Any], order: dict[str, Any]
) -> None:
    refused = await send(client, parties["editor"], order)
    assert refused.status_code == 422, refused.text
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.json()["errors"]
    listed = await client.get(f"/api/v1/endpoints/{RADIO}/commands", headers=parties["editor"])
    assert listed.json()["items"] == []


async def test_a_switched_off_radio_still_plays_an_emergency_but_not_the_programme(
    client: AsyncClient, parties: dict[str, Any]
) -> None:
    """002 Điều 8.1: an emergency bulletin is sent "để phát ngay", and Điều 17 asks the commune
    to keep its radio "hoạt động liên tục": a switch_off (000/004 Điều 7.2) silences the
    programme, not an emergency. `switch_on` gives the programme back."""
    commune = parties["commune"]
    normal = await publish(client, parties, text_bulletin(commune, priority="priority"))
    emergency = await publish(client, parties, text_bulletin(commune, priority="emergency"))

    async def playing() -> tuple[bool, set[str]]:
        response = await client.get("/api/v1/device/playlist", headers=parties["radio"])
        body = response.json()
        return body["switched_off"], {i["bulletin_id"] for i in body["items"] + body["upcoming"]}

    assert await playing() == (False, {normal, emergency})
    assert (await send(client, parties["chair"], {"command": "switch_off"})).status_code == 201
    assert await playing() == (True, {emergency})
    endpoint = await client.get(f"/api/v1/endpoints/{RADIO}", headers=parties["editor"])
    assert endpoint.json()["switched_off"] is True
    assert (await send(client, parties["chair"], {"command": "switch_on"})).status_code == 201
    assert await playing() == (False, {normal, emergency})


async def test_a_cluster_is_switched_off_at_once_across_an_area(
    client: AsyncClient, parties: dict[str, Any], make_endpoint: MakeEndpoint
) -> None:
    """000/004 Điều 7.2: tắt/mở a cluster in an emergency, one order for every endpoint."""
    commune = parties["commune"]
    await make_endpoint("AG-BOARD-01", "display", commune, profile="eboard")
    await make_endpoint("AG-OFF-01", "radio", commune, enabled=False)
    order = {"command": "switch_off", "area": commune}
    sent = await client.post("/api/v1/commands", json=order, headers=parties["chair"])
    assert sent.status_code == 201, sent.text
    # The endpoint out of service gets nothing.
    assert sorted(item["endpoint"] for item in sent.json()["items"]) == ["AG-BOARD-01", RADIO]
    radios = {**order, "area": AN_GIANG, "endpoint_kind": "radio"}
    assert (
        await client.post("/api/v1/commands", json=radios, headers=parties["chair"])
    ).status_code == 403
    sent = await client.post("/api/v1/commands", json=radios, headers=parties["editor"])
    assert [item["endpoint"] for item in sent.json()["items"]] == [RADIO]


async def test_a_radio_on_mqtt_hears_emergencies_and_playlist_changes(
    mqtt_hub: MqttHub, parties: dict[str, Any]
) -> None:
    """002 Điều 8.1: an emergency is for playing at once; the radio hears it as such."""
    commune = parties["commune"]
    async for radio in radio_on_mqtt(mqtt_hub, parties):
        ordinary = await publish(mqtt_hub.http, parties, text_bulletin(commune))
        emergency = await publish(
            mqtt_hub.http, parties, text_bulletin(commune, priority="emergency")
        )
        heard: dict[str, str] = {}
        async with asyncio.timeout(WAIT_SECONDS):
            async for message in radio.client.messages:
                said = genuine(radio.secret, bytes(message.payload))  # type: ignore[arg-type]
                heard[said["bulletin"]["id"]] = said["type"]
                if len(heard) == 2:
                    break
        assert heard == {ordinary: "playlist-changed", emergency: "emergency"}


async def test_a_radio_s_heartbeat_over_mqtt_is_its_last_word(
    mqtt_hub: MqttHub, parties: dict[str, Any]
) -> None:
    async for radio in radio_on_mqtt(mqtt_hub, parties):
        beat = envelope(radio.secret, {"status": "degraded", "volume": 40, "message": "loa 2"})
        await radio.client.publish(f"{radio.topic}/heartbeats", beat, qos=1)
        async with asyncio.timeout(WAIT_SECONDS):
            while True:
                shown = await mqtt_hub.http.get(
                    f"/api/v1/endpoints/{RADIO}", headers=parties["editor"]
                )
                if (last := shown.json()["last_heartbeat"]) is not None:
                    break
                await asyncio.sleep(0.05)
        assert (last["status"], last["volume"], last["message"]) == ("degraded", 40, "loa 2")
        assert shown.json()["online"] is True


class BrokerLink:
    """A TCP link between the hub and the broker that a test can cut, as a network does."""

    def __init__(self) -> None:
        self.port = free_port()
        self.connections = 0
        self._writers: list[asyncio.StreamWriter] = []

    async def _carry(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        upstream_reader, upstream_writer = await asyncio.open_connection(MQTT_HOST, MQTT_PORT)
        self._writers += [writer, upstream_writer]

        async def pipe(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
            try:
                while data := await source.read(65536):
                    sink.write(data)
                    await sink.drain()
            except (ConnectionError, OSError):
                pass
            finally:
                sink.close()

        await asyncio.gather(pipe(reader, upstream_writer), pipe(upstream_reader, writer))

    def cut(self) -> None:
        for writer in self._writers:
            writer.close()
        self._writers.clear()

    async def serve(self) -> asyncio.Server:
        return await asyncio.start_server(self._carry, MQTT_HOST, self.port)


async def test_the_hub_reconnects_when_the_broker_goes_away(
    settings: Settings, parties: dict[str, Any]
) -> None:
    link = BrokerLink()
    server = await link.serve()
    prefix = f"test-{uuid.uuid4().hex[:12]}"
    try:
        async for http in served(
            settings,
            **replace(MACHINE_BROKER, port=link.port).hub_settings(),
            mqtt_topic_prefix=prefix,
            command_repush_seconds=0.5,
        ):
            hub = MqttHub(http, prefix)
            async for radio in radio_on_mqtt(hub, parties):
                first = await send(http, parties["editor"], {"command": "fetch_now"})
                await radio.answer((await radio.next_command())["command"]["id"])
                await command_status(http, parties, "acked")
                link.cut()
                second = await send(http, parties["editor"], {"command": "restart"})
                heard = await radio.next_command()
                while heard["command"]["id"] != second.json()["id"]:
                    heard = await radio.next_command()
                await radio.answer(second.json()["id"])
                acked = await command_status(http, parties, "acked")
                assert acked["id"] == second.json()["id"] != first.json()["id"]
                assert link.connections >= 2
    finally:
        server.close()


async def test_an_endpoint_taken_out_of_service_is_pushed_no_more_commands(
    client: AsyncClient,
    parties: dict[str, Any],
    sessionmaker: async_sessionmaker[AsyncSession],
    settings: Settings,
) -> None:
    """`enabled: false` is out of service, unlike a switch_off (nguon.commands.switching)."""
    pusher = CommandPusher(sessionmaker, settings)
    try:
        await send(client, parties["editor"], {"command": "restart"})
        taken_out = await client.patch(
            f"/api/v1/endpoints/{RADIO}", json={"enabled": False}, headers=parties["admin"]
        )
        assert taken_out.status_code == 200, taken_out.text
        assert await pusher.push_due() == 0
        refused = await send(client, parties["editor"], {"command": "switch_on"})
        assert refused.status_code == 409
        assert "out of service" in refused.json()["detail"]
        back = await client.patch(
            f"/api/v1/endpoints/{RADIO}", json={"enabled": True}, headers=parties["admin"]
        )
        assert back.status_code == 200, back.text
        assert await pusher.push_due() == 1
    finally:
        await pusher.client.aclose()
