"""MQTT brokers for the tests: the machine's Mosquitto (127.0.0.1:1883, no TLS, anyone may
connect), and one of the tests' own, as a province would run it: TLS only, with a certificate
from a CA of its own, and accounts.

`secured_mosquitto` starts /usr/sbin/mosquitto on a free port with a CA, a server certificate
for `localhost` and 127.0.0.1 and a password file made for it, and stops it at the end of the
session."""

import datetime
import getpass
import ipaddress
import socket
import ssl
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any
from urllib.parse import quote

import aiomqtt
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from pydantic import SecretStr

from tests.conftest import free_port

MOSQUITTO = Path("/usr/sbin/mosquitto")
MOSQUITTO_PASSWD = Path("/usr/bin/mosquitto_passwd")
START_SECONDS = 10
# Characters a password must carry percent-encoded in a URL, to show they come through.
HUB_ACCOUNT = ("nguon-hub", "p@ss/w:rd #1")
RADIO_ACCOUNT = ("radio-ag-01", "radio-password")

Account = tuple[str, str]


@dataclass(frozen=True, slots=True)
class Broker:
    """A broker as the hub (NGUON_MQTT_URL, NGUON_MQTT_CA_FILE) and a radio reach it."""

    host: str
    port: int
    tls: bool = False
    ca_file: Path | None = None
    hub_account: Account | None = None
    radio_account: Account | None = None

    @property
    def shown(self) -> str:
        """How the hub names it: without the password."""
        account = f"{quote(self.hub_account[0], safe='')}@" if self.hub_account else ""
        return f"{self._scheme}://{account}{self._host}:{self.port}"

    def url(self) -> str:
        account = ""
        if self.hub_account is not None:
            user, password = (quote(part, safe="") for part in self.hub_account)
            account = f"{user}:{password}@"
        return f"{self._scheme}://{account}{self._host}:{self.port}"

    def hub_settings(self) -> dict[str, Any]:
        return {"mqtt_url": SecretStr(self.url()), "mqtt_ca_file": self.ca_file}

    def signing_in_as(self, account: Account) -> "Broker":
        return replace(self, hub_account=account)

    def radio_client(self, identifier: str) -> aiomqtt.Client:
        """A radio's connection: its own account, trusting the same CA."""
        user, password = self.radio_account or (None, None)
        tls = ssl.create_default_context(cafile=self.ca_file) if self.tls else None
        return aiomqtt.Client(
            self.host,
            self.port,
            username=user,
            password=password,
            tls_context=tls,
            identifier=identifier,
        )

    @property
    def _scheme(self) -> str:
        return "mqtts" if self.tls else "mqtt"

    @property
    def _host(self) -> str:
        return f"[{self.host}]" if ":" in self.host else self.host


MACHINE_BROKER = Broker("127.0.0.1", 1883)


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def write_certificates(directory: Path) -> tuple[Path, Path, Path]:
    """A CA of the province's own, and the broker's certificate for `localhost` and 127.0.0.1
    signed by it: the CA's PEM, the certificate's, its key's."""
    now = datetime.datetime.now(datetime.UTC)
    start, end = now - datetime.timedelta(minutes=5), now + datetime.timedelta(days=1)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = (
        x509.CertificateBuilder(
            subject_name=_name("nguon test province CA"),
            issuer_name=_name("nguon test province CA"),
            public_key=ca_key.public_key(),
            serial_number=x509.random_serial_number(),
            not_valid_before=start,
            not_valid_after=end,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    names = [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
    certificate = (
        x509.CertificateBuilder(
            subject_name=_name("localhost"),
            issuer_name=ca.subject,
            public_key=key.public_key(),
            serial_number=x509.random_serial_number(),
            not_valid_before=start,
            not_valid_after=end,
        )
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    ca_file, certificate_file, key_file = (
        directory / name for name in ("ca.pem", "server.pem", "server.key")
    )
    ca_file.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    certificate_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    key_file.chmod(0o600)
    return ca_file, certificate_file, key_file


def write_passwords(path: Path, *accounts: Account) -> None:
    for index, (user, password) in enumerate(accounts):
        create = ["-c"] if index == 0 else []
        subprocess.run(  # noqa: S603 - the broker's own tool, arguments of the tests'
            [str(MOSQUITTO_PASSWD), "-b", *create, str(path), user, password],
            check=True,
            capture_output=True,
        )


def _wait_listening(process: "subprocess.Popen[bytes]", port: int, log: Path) -> None:
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"mosquitto stopped at start:\n{log.read_text()}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    pytest.fail(f"mosquitto did not listen within {START_SECONDS} s:\n{log.read_text()}")


@pytest.fixture(scope="session")
def secured_mosquitto(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Broker]:
    """A Mosquitto of the tests' own: one TLS listener on 127.0.0.1, no client certificates
    asked, no anonymous clients, the hub's and a radio's accounts."""
    if not MOSQUITTO.exists():
        pytest.skip(f"{MOSQUITTO} is not installed (apt-get install mosquitto)")
    directory = tmp_path_factory.mktemp("mosquitto")
    ca_file, certificate_file, key_file = write_certificates(directory)
    passwords = directory / "passwords"
    write_passwords(passwords, HUB_ACCOUNT, RADIO_ACCOUNT)
    port = free_port()
    config = directory / "mosquitto.conf"
    config.write_text(
        # Run as root, Mosquitto would become the user `mosquitto`, who cannot read tmp_path.
        f"user {getpass.getuser()}\n"
        "per_listener_settings false\n"
        "allow_anonymous false\n"
        f"password_file {passwords}\n"
        "persistence false\n"
        "log_dest stderr\n"
        "log_type all\n"
        f"listener {port} 127.0.0.1\n"
        f"cafile {ca_file}\n"
        f"certfile {certificate_file}\n"
        f"keyfile {key_file}\n"
        "require_certificate false\n"
    )
    log = directory / "mosquitto.log"
    with log.open("wb") as output:
        process = subprocess.Popen(  # noqa: S603 - the system's broker, a config of the tests'
            [str(MOSQUITTO), "-c", str(config)], stdout=output, stderr=subprocess.STDOUT
        )
    try:
        _wait_listening(process, port, log)
        yield Broker(
            "127.0.0.1",
            port,
            tls=True,
            ca_file=ca_file,
            hub_account=HUB_ACCOUNT,
            radio_account=RADIO_ACCOUNT,
        )
    finally:
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
