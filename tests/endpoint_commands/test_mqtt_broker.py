"""The hub's connection to a province's MQTT broker: the URL it takes, TLS to a certificate of
the province's own CA, an account, and what the operator is told when the broker refuses it.
The channel carries commands to commune radios (000/004 Điều 7.2), so a refusal must say why,
in /readyz and the log, and never show the password."""

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from httpx import ASGITransport, AsyncClient
from pydantic import SecretStr, ValidationError
from sqlalchemy.ext.asyncio import AsyncEngine

from nguon.app import create_app
from nguon.kit.settings import Settings
from tests.conftest import free_port
from tests.endpoint_commands.test_commands import mqtt_check, send, served
from tests.mosquitto import HUB_ACCOUNT, MACHINE_BROKER, Broker, write_certificates

WRONG_PASSWORD = "wrong-password-7d1f"


def logged(out: str, event: str) -> list[dict[str, Any]]:
    lines = (json.loads(line) for line in out.splitlines() if line.startswith("{"))
    return [line for line in lines if line.get("event") == event]


async def test_a_refused_sign_in_is_reported_and_the_hub_serves_on(
    settings: Settings,
    parties: dict[str, Any],
    secured_mosquitto: Broker,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A wrong password: the channel stays away and keeps trying; /readyz (degraded, not
    unready: radios still poll) and the log say the broker refused the sign-in, and commands
    are still taken, to be pushed once it is put right."""
    wrong = secured_mosquitto.signing_in_as((HUB_ACCOUNT[0], WRONG_PASSWORD))
    capsys.readouterr()
    async for http in served(settings, **wrong.hub_settings()):
        check = await mqtt_check(http, "not connected")
        ready = await http.get("/readyz")
        sent = await send(http, parties["editor"], {"command": "switch_off"})
    assert check["ok"] is False
    assert check["required"] is False
    assert check["detail"].startswith(f"{wrong.shown}: not connected: the broker refused the")
    assert (
        "sign-in: Not authorized (check the user name and password in NGUON_MQTT_URL)"
        in (check["detail"])
    )
    assert ready.json()["status"] == "degraded"
    assert WRONG_PASSWORD not in ready.text
    assert sent.status_code == 201, sent.text
    out = capsys.readouterr().out
    assert WRONG_PASSWORD not in out
    (away, *_) = logged(out, "mqtt_away")
    assert away["level"] == "warning"
    assert away["broker"] == wrong.shown
    assert away["reason"].startswith("the broker refused the sign-in")


@pytest.mark.parametrize(
    ("change", "refusal"),
    [
        (
            {"ca_file": None},
            "certificate is not trusted: self-signed certificate in certificate chain "
            "(NGUON_MQTT_CA_FILE names the CA that signed it)",
        ),
        # The broker's own address, as an IPv4-mapped IPv6 one: not the name on the certificate.
        ({"host": "::ffff:127.0.0.1"}, "IP address mismatch"),
    ],
    ids=["ca-not-trusted", "another-name"],
)
async def test_tls_refuses_a_broker_whose_certificate_is_not_trusted_for_its_name(
    settings: Settings, secured_mosquitto: Broker, change: dict[str, Any], refusal: str
) -> None:
    """Without NGUON_MQTT_CA_FILE the system's CAs do not vouch for the province's; with it, the
    certificate must still name the host the hub connects to. Verification is never off."""
    broker = replace(secured_mosquitto, **change)
    async for http in served(settings, **broker.hub_settings()):
        check = await mqtt_check(http, "not connected")
    assert check["ok"] is False
    assert check["detail"].startswith(f"{broker.shown}: not connected: TLS: the broker's ")
    assert refusal in check["detail"]
    assert HUB_ACCOUNT[1] not in check["detail"]


async def test_a_broker_that_is_not_there_is_reported_and_tried_less_and_less_often(
    settings: Settings,
) -> None:
    absent = replace(MACHINE_BROKER, port=free_port())
    async for http in served(settings, **absent.hub_settings()):
        first = await mqtt_check(http, "not connected")
        second = await mqtt_check(http, "within 6 s")
    assert first["detail"] == (
        f"{absent.shown}: not connected: the connection was refused: nothing listens on that "
        "port; trying again within 3 s"
    )
    assert second["detail"].startswith(f"{absent.shown}: not connected: the connection was")


async def test_readyz_of_an_api_process_names_the_broker_its_worker_connects_to(
    settings: Settings, engine: AsyncEngine, secured_mosquitto: Broker
) -> None:
    """With `nguon worker` apart, the channel is the worker's: this process has none to report."""
    app = create_app(
        settings.model_copy(update={**secured_mosquitto.hub_settings(), "worker_in_process": False})
    )
    async with AsyncClient(transport=ASGITransport(app=app), base_url="http://hub.test") as http:
        check = await mqtt_check(http)
    await app.state.engine.dispose()
    assert check["ok"] is True
    assert check["detail"] == (
        f"{secured_mosquitto.shown}: connected to by `nguon worker`, not this process; the "
        "worker's log says whether it is connected"
    )


@pytest.mark.parametrize(
    ("url", "shown", "password"),
    [
        ("mqtt://broker.example", "mqtt://broker.example:1883", None),
        ("mqtts://broker.example", "mqtts://broker.example:8883", None),
        (
            "mqtts://hub:p%40ss%2Fw%3Ard@Broker.Example:18883/",
            "mqtts://hub@broker.example:18883",
            "p@ss/w:rd",
        ),
        ("mqtt://hub@10.0.0.7:1884", "mqtt://hub@10.0.0.7:1884", None),
        ("mqtts://[fd00::1]", "mqtts://[fd00::1]:8883", None),
    ],
)
def test_the_broker_url_takes_tls_an_account_and_default_ports(
    url: str, shown: str, password: str | None
) -> None:
    settings = Settings(mqtt_url=url)
    broker = settings.mqtt_broker
    assert broker is not None
    assert str(broker) == shown
    assert (broker.password and broker.password.get_secret_value()) == password
    assert "p%40ss" not in repr(settings)


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("ftp://x", "NGUON_MQTT_URL must be mqtt://[user:password@]host[:port]"),
        ("mqtt://broker.example/nguon", "NGUON_MQTT_URL must end at host[:port], without a path"),
        # A '/' left unencoded in the password ends the host: refused, the password unrepeated.
        ("mqtt://hub:secret/word@broker.example", "NGUON_MQTT_URL must end at host[:port]"),
        ("mqtts://hub:secret@broker.example:99999", "NGUON_MQTT_URL's port must be a number"),
        ("mqtt://:secret@broker.example", "NGUON_MQTT_URL gives a password without a user"),
        ("mqtt://", "NGUON_MQTT_URL names no host"),
    ],
)
def test_a_url_that_names_no_broker_is_refused_at_start_without_its_password(
    url: str, words: str
) -> None:
    with pytest.raises(ValidationError, match="NGUON_MQTT_URL") as refused:
        Settings(mqtt_url=url)
    assert words in str(refused.value)
    assert "secret" not in str(refused.value)


def test_a_ca_file_is_refused_without_tls_or_certificates(tmp_path: Path) -> None:
    ca_file, _, _ = write_certificates(tmp_path)
    not_pem = tmp_path / "not.pem"
    not_pem.write_text("not a certificate")
    with pytest.raises(ValidationError, match=r"NGUON_MQTT_CA_FILE: .* is not a PEM bundle"):
        Settings(mqtt_url="mqtts://broker.example", mqtt_ca_file=not_pem)
    with pytest.raises(ValidationError, match="NGUON_MQTT_CA_FILE: no file"):
        Settings(mqtt_url="mqtts://broker.example", mqtt_ca_file=tmp_path / "missing.pem")
    with pytest.raises(ValidationError, match="NGUON_MQTT_CA_FILE is for an mqtts://"):
        Settings(mqtt_url=SecretStr("mqtt://broker.example"), mqtt_ca_file=ca_file)
    assert Settings(mqtt_url="mqtts://broker.example", mqtt_ca_file=ca_file).mqtt_tls_context()


async def test_a_password_sent_without_tls_is_warned_of(
    settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    """The machine's broker takes anyone: the account is accepted, but it crossed in clear."""
    plain = MACHINE_BROKER.signing_in_as(("nguon-hub", "clear-password-3a9c"))
    capsys.readouterr()
    async for http in served(settings, **plain.hub_settings()):
        await mqtt_check(http, "connected since")
    out = capsys.readouterr().out
    (warning,) = logged(out, "mqtt_password_in_clear")
    assert warning["broker"] == plain.shown == "mqtt://nguon-hub@127.0.0.1:1883"
    assert "clear-password-3a9c" not in out
