"""The hub's own commands as separate processes, on the test's database and broker: what an
operator runs with Kafka (`nguon serve` API processes and `nguon worker` workers)."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.conftest import TEST_SECRET
from tests.tansu import Broker

NGUON = str(Path(sys.executable).parent / "nguon")


def hub_environment(database_url: str, data_dir: Path, **settings: str) -> dict[str, str]:
    """Settings of a hub process on the test database; `settings` as NGUON_* names."""
    return {
        **os.environ,
        "NGUON_DATABASE_URL": database_url,
        "NGUON_SECRET_KEY": TEST_SECRET,
        "NGUON_DATA_DIR": str(data_dir),
        **{f"NGUON_{name.upper()}": value for name, value in settings.items()},
    }


def kafka_environment(
    database_url: str, broker: Broker, data_dir: Path, **settings: str
) -> dict[str, str]:
    """Settings of a process on the test database and broker; `settings` as NGUON_* names."""
    on_kafka = {
        "kafka_bootstrap": broker.bootstrap,
        "kafka_idempotent_producer": "false",  # Tansu has none
        "kafka_partitions": "4",
        "log_level": "warning",
    }
    return hub_environment(database_url, data_dir, **{**on_kafka, **settings})


class Process:
    def __init__(self, arguments: list[str], environment: dict[str, str]) -> None:
        self.command = [NGUON, *arguments]
        self.environment = environment
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(self.command, env=self.environment)  # noqa: S603

    def kill(self) -> None:
        """SIGKILL: no cleanup, no offsets committed, claims left hanging."""
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:  # deaf to SIGTERM: leave nothing running
                self.kill()
                raise


class ApiProcess(Process):
    """`nguon serve` on a port of its own; `start` returns once it answers."""

    def __init__(self, port: int, environment: dict[str, str]) -> None:
        super().__init__(["serve", "--port", str(port)], environment)
        self.base_url = f"http://127.0.0.1:{port}"

    def start(self) -> None:
        super().start()
        assert self.process is not None
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if (code := self.process.poll()) is not None:  # say so now, not after the deadline
                raise RuntimeError(f"nguon serve stopped before it answered (exit code {code})")
            try:
                httpx.get(f"{self.base_url}/healthz", timeout=1)
                return
            except httpx.TransportError:
                time.sleep(0.1)
        raise RuntimeError("nguon serve did not come up")
