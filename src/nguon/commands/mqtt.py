"""The MQTT channel to radios: endpoint events and commands down, answers and heartbeats up.

Topics, under NGUON_MQTT_TOPIC_PREFIX (`nguon`), for an endpoint whose code is `<code>`:

- `<prefix>/endpoints/<code>/messages`, hub to device: `playlist-changed`, `emergency`,
  `command`;
- `<prefix>/endpoints/<code>/acks`, device to hub: the answer to a command;
- `<prefix>/endpoints/<code>/heartbeats`, device to hub: what `POST /api/v1/device/heartbeat`
  takes.

All at QoS 1, none retained. NGUON_MQTT_URL may give the hub an account on the broker, and
mqtts:// TLS to it (NGUON_MQTT_CA_FILE: a province's own CA), but radios may share one or the
broker take anyone, so every payload is an envelope signed with the endpoint's push secret
(`POST /api/v1/endpoints/{code}/push-secret`), in the scheme of the webhooks
(`nguon.kit.signing`): `{"timestamp": "<Unix seconds>", "signature": "<hex HMAC-SHA256 of
timestamp + '.' + message>", "message": "<JSON text>"}`. The device checks the hub's the same
way; the hub drops a device message whose signature is wrong or whose timestamp is more than
SIGNATURE_TOLERANCE_SECONDS from its clock.

Every worker relays the endpoint events it is handed (a consumer group with Kafka) and hears
every device message; an answer or a heartbeat heard twice changes nothing more. While the
broker is away, or refuses the hub's account or certificate, the channel tries again, waiting
RECONNECT_SECONDS and then twice as long each time up to RECONNECT_MAX_SECONDS, and says why
in its log and in /readyz; what it could not publish meanwhile is not kept: commands are
pushed again until answered, unacknowledged emergencies announced again by the reconciler, and
the playlist poll stays the truth.
"""

import asyncio
import json
import os
import socket
import ssl
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import aiomqtt
import structlog
from aiomqtt.exceptions import MqttConnectError
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from nguon.areas.levels import AreaLevel
from nguon.commands.repository import CommandRepository
from nguon.commands.schemas import CommandAnswer
from nguon.commands.service import CommandService
from nguon.dispatch.events import COMMAND_EVENT, EndpointEventType
from nguon.endpoints.models import Endpoint
from nguon.endpoints.schemas import HeartbeatReport
from nguon.endpoints.service import EndpointService
from nguon.identity.credentials import ApiKeyHasher, TokenCodec
from nguon.identity.principal import AreaScope, Principal
from nguon.identity.roles import Role
from nguon.identity.service import IdentityService
from nguon.kit.bus import Record
from nguon.kit.db import utcnow
from nguon.kit.errors import NguonError
from nguon.kit.settings import MqttBroker, Settings
from nguon.kit.signing import sign, verify
from nguon.push.signing import push_secret

log = structlog.get_logger()

SIGNATURE_TOLERANCE_SECONDS = 300
RECONNECT_SECONDS = 3.0
# A broker that refuses the hub's account keeps refusing it: trying every few seconds would
# fill the log and may get the account locked.
RECONNECT_MAX_SECONDS = 60.0
QOS = 1
ACKS, HEARTBEATS, MESSAGES = "acks", "heartbeats", "messages"
# What a radio hears for each endpoint event type.
MESSAGE_TYPES = {EndpointEventType.emergency.value: "emergency", COMMAND_EVENT: "command"}
PLAYLIST_CHANGED = "playlist-changed"


def seal(secret: str, message: dict[str, Any], timestamp: int | None = None) -> bytes:
    """A message in its signed envelope."""
    text = json.dumps(message, separators=(",", ":"), ensure_ascii=False)
    stamp = int(time.time()) if timestamp is None else timestamp
    signature = sign(secret, stamp, text.encode())
    return json.dumps({"timestamp": str(stamp), "signature": signature, "message": text}).encode()


def opened(secret: str, payload: bytes) -> dict[str, Any] | None:
    """The message of a genuine, fresh envelope; None for anything else."""
    try:
        envelope = json.loads(payload)
        text, timestamp, signature = (
            envelope["message"],
            envelope["timestamp"],
            envelope["signature"],
        )
        if not all(isinstance(part, str) for part in (text, timestamp, signature)):
            return None
        if not verify(secret, timestamp, text.encode(), signature, SIGNATURE_TOLERANCE_SECONDS):
            return None
        message = json.loads(text)
    except (ValueError, TypeError, KeyError):
        return None
    return message if isinstance(message, dict) else None


def radio_message(event: dict[str, Any]) -> dict[str, Any]:
    """What a radio is told of an endpoint event."""
    message = {
        "type": MESSAGE_TYPES.get(event["type"], PLAYLIST_CHANGED),
        "event_id": event["id"],
        "endpoint": event["endpoint"],
        "playlist_version": event["playlist_version"],
        "bulletin": event.get("bulletin"),
        "at": event["at"],
    }
    if event["type"] == COMMAND_EVENT:
        message["command"] = event["command"]
    return message


def device_principal(endpoint: Endpoint) -> Principal:
    """The endpoint acting as its own key does, for a message it signed."""
    area = AreaScope(
        endpoint.area_id,
        endpoint.area_code,
        endpoint.area_code,
        AreaLevel.commune,
        endpoint.area_path,
    )
    return Principal("key", 0, f"mqtt:{endpoint.code}", Role.endpoint, area, endpoint.id)


# CONNACK reason codes that refuse the hub's account (MQTT 5 numbering, which paho gives for
# MQTT 3.1.1 too: its 4 and 5 are 134 and 135).
SIGN_IN_REFUSED = {134, 135}


def trouble(error: aiomqtt.MqttError, tls: bool) -> str:
    """What went wrong, in words an operator acts on; never the password, which no error of
    the client carries."""
    if isinstance(error, MqttConnectError):
        if getattr(error.rc, "value", error.rc) in SIGN_IN_REFUSED:
            return (
                f"the broker refused the sign-in: {error.rc} (check the user name and password "
                "in NGUON_MQTT_URL)"
            )
        return f"the broker refused the connection: {error.rc}"
    cause = error.__context__  # aiomqtt raises the socket's error as text, from None
    if isinstance(cause, ssl.SSLCertVerificationError):
        return (
            f"TLS: the broker's certificate is not trusted: {cause.verify_message} "
            "(NGUON_MQTT_CA_FILE names the CA that signed it)"
        )
    if isinstance(cause, ssl.SSLError):
        return f"TLS: the handshake failed: {cause.reason or cause}"
    if isinstance(cause, ConnectionRefusedError):
        return "the connection was refused: nothing listens on that port"
    if isinstance(cause, socket.gaierror):
        return f"the host name does not resolve: {cause.strerror}"
    if isinstance(cause, TimeoutError):
        return "no answer from the broker" + ("" if tls else " (if it wants TLS: mqtts://)")
    return str(error) or type(error).__name__


@dataclass(frozen=True, slots=True)
class ChannelState:
    connected: bool
    detail: str


class MqttChannel:
    def __init__(self, settings: Settings, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
        broker = settings.mqtt_broker
        assert broker is not None  # the channel is made only when NGUON_MQTT_URL is set
        self.broker: MqttBroker = broker
        self.tls = settings.mqtt_tls_context()
        self.prefix = settings.mqtt_topic_prefix
        self.client_id = (settings.mqtt_client_id or f"nguon-{socket.gethostname()}-{os.getpid()}")[
            :64
        ]
        self.settings = settings
        self.sessionmaker = sessionmaker
        self.signing_secret = settings.signing_secret()
        self._client: aiomqtt.Client | None = None
        self._connected_at: datetime | None = None
        self._trouble: str | None = None
        self._retry_seconds = RECONNECT_SECONDS

    @classmethod
    def configured(
        cls, settings: Settings, sessionmaker: async_sessionmaker[AsyncSession]
    ) -> "MqttChannel | None":
        return cls(settings, sessionmaker) if settings.mqtt_enabled else None

    def topic(self, code: str, leaf: str) -> str:
        return f"{self.prefix}/endpoints/{code}/{leaf}"

    def secret_of(self, endpoint_id: int, code: str, generation: int) -> str:
        return push_secret(self.signing_secret, endpoint_id, code, generation)

    def state(self) -> ChannelState:
        """Whether the channel is connected, in words for /readyz."""
        if self._connected_at is not None:
            return ChannelState(
                True, f"{self.broker}: connected since {self._connected_at.isoformat()}"
            )
        if self._trouble is None:
            return ChannelState(False, f"{self.broker}: connecting")
        return ChannelState(
            False,
            f"{self.broker}: not connected: {self._trouble}; trying again within "
            f"{self._retry_seconds:g} s",
        )

    async def run(self) -> None:
        """Stay connected for as long as the task lives, hearing the devices."""
        broker = self.broker
        password = None if broker.password is None else broker.password.get_secret_value()
        if password is not None and not broker.tls:
            log.warning("mqtt_password_in_clear", broker=str(broker), fix="use mqtts://")
        while True:
            try:
                async with aiomqtt.Client(
                    broker.host,
                    broker.port,
                    username=broker.username,
                    password=password,
                    tls_context=self.tls,
                    identifier=self.client_id,
                    keepalive=30,
                ) as client:
                    for leaf in (ACKS, HEARTBEATS):
                        await client.subscribe(self.topic("+", leaf), qos=QOS)
                    self._client = client
                    self._connected_at, self._trouble = utcnow(), None
                    self._retry_seconds = RECONNECT_SECONDS
                    log.info("mqtt_connected", broker=str(broker))
                    async for message in client.messages:
                        await self._heard(message.topic.value, bytes(message.payload))
            except aiomqtt.MqttError as error:
                self._trouble = trouble(error, broker.tls)
                log.warning(
                    "mqtt_away",
                    broker=str(broker),
                    reason=self._trouble,
                    retry_seconds=self._retry_seconds,
                )
            finally:
                self._client = None
                self._connected_at = None
            await asyncio.sleep(self._retry_seconds)
            self._retry_seconds = min(self._retry_seconds * 2, RECONNECT_MAX_SECONDS)

    async def relay(self, records: Sequence[Record]) -> None:
        """The bus handler: each endpoint event of a radio, published to its topic."""
        client = self._client
        if client is None:
            return  # see the module's docstring: nothing here waits on the broker
        async with self.sessionmaker() as session:
            radios = await CommandRepository(session).radios_among({r.key for r in records})
        for record in records:
            radio = radios.get(record.key)
            if radio is None:
                continue
            endpoint_id, generation = radio
            try:
                message = radio_message(json.loads(record.value))
            except (ValueError, KeyError, TypeError):
                log.warning("endpoint_event_unreadable", key=record.key)
                continue
            payload = seal(self.secret_of(endpoint_id, record.key, generation), message)
            try:
                await client.publish(self.topic(record.key, MESSAGES), payload, qos=QOS)
            except aiomqtt.MqttError as error:
                log.warning("mqtt_publish_failed", endpoint=record.key, error=str(error))
                return

    async def _heard(self, topic: str, payload: bytes) -> None:
        parts = topic.split("/")
        code, leaf = parts[-2], parts[-1]
        try:
            async with self.sessionmaker() as session:
                endpoint = await CommandRepository(session).endpoint_by_code(code)
                if endpoint is None:
                    log.warning("mqtt_unknown_endpoint", topic=topic)
                    return
                secret = self.secret_of(endpoint.id, endpoint.code, endpoint.push_secret_generation)
                message = opened(secret, payload)
                if message is None:
                    log.warning("mqtt_message_not_genuine", topic=topic)
                    return
                if leaf == ACKS:
                    await self._answer(session, endpoint, message)
                else:
                    await self._heartbeat(session, endpoint, message)
                await session.commit()
        except (ValidationError, NguonError) as refused:
            log.warning("mqtt_message_refused", topic=topic, error=str(refused))
        except Exception:  # one bad message must not end the channel
            log.exception("mqtt_message_failed", topic=topic)

    async def _answer(
        self, session: AsyncSession, endpoint: Endpoint, message: dict[str, Any]
    ) -> None:
        answer = CommandAnswer.model_validate(
            {key: value for key, value in message.items() if key != "command"}
        )
        service = CommandService(session, self._endpoints(session), self.settings)
        command = await service.answer(endpoint, str(message.get("command")), answer, "mqtt")
        log.info(
            "command_answered",
            command=command.public_id,
            endpoint=endpoint.code,
            status=command.status.value,
            over="mqtt",
        )

    async def _heartbeat(
        self, session: AsyncSession, endpoint: Endpoint, message: dict[str, Any]
    ) -> None:
        report = HeartbeatReport.model_validate(message)
        await self._endpoints(session).heartbeat(device_principal(endpoint), report)

    def _endpoints(self, session: AsyncSession) -> EndpointService:
        secret = self.signing_secret
        identity = IdentityService(
            session,
            TokenCodec(secret, self.settings.jwt_issuer, self.settings.access_token_ttl_seconds),
            ApiKeyHasher(secret),
        )
        return EndpointService(session, identity, self.settings)
