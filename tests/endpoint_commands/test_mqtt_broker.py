"""The hub's connection to a province's MQTT broker: the URL it takes, TLS to a certificate of
the province's own CA, an account. The channel carries commands to commune radios (000/004
Điều 7.2); the password never shows."""

from pathlib import Path

import pytest
from pydantic import SecretStr, ValidationError

from nguon.kit.settings import Settings
from tests.mosquitto import write_certificates


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
