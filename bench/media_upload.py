"""Uploading a large file through the hub to S3, against putting it into S3 directly.

Starts a real S3 API server (moto) and the hub (uvicorn, its own process, media on that
server), makes a valid MP4 padded to the wanted size, then:

- baseline: the minio client's `fput_object` of the file straight into the S3 server;
- hub: `POST /api/v1/media` of the same file over HTTP (the hub identifies, checks and stores it).

Prints both times, the hub's throughput as a ratio of the baseline, and the hub process's peak
memory growth during the upload (peak RSS minus RSS before it).
Run: `.venv/bin/python bench/media_upload.py [megabytes]` (default 500).
"""

import asyncio
import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
from minio import Minio
from moto.server import ThreadedMotoServer

from nguon.kit.migrate import upgrade

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "tests" / "fixtures" / "media" / "clip.mp4"
SECRET = "benchmark-secret-of-sufficient-length"
PASSWORD = "benchmark-password"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def padded_mp4(target: Path, megabytes: int) -> None:
    """The sample clip followed by one `free` box: a valid MP4 of the wanted size."""
    sample = SAMPLE.read_bytes()
    padding = megabytes * 2**20 - len(sample) - 8
    block = os.urandom(2**20)
    with target.open("wb") as out:
        out.write(sample)
        out.write(padding.to_bytes(4, "big") if padding + 8 < 2**32 else b"\x00\x00\x00\x01")
        out.write(b"free")
        written = 0
        while written < padding:
            chunk = block[: min(len(block), padding - written)]
            out.write(chunk)
            written += len(chunk)


def rss_kib(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"{field} not in /proc/{pid}/status")


def reset_peak(pid: int) -> None:
    Path(f"/proc/{pid}/clear_refs").write_text("5")  # peak RSS starts again from now


def main(megabytes: int) -> None:
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # the S3 server's request lines
    s3_port, hub_port = free_port(), free_port()
    s3 = ThreadedMotoServer(ip_address="127.0.0.1", port=s3_port, verbose=False)
    s3.start()
    scratch = Path(tempfile.mkdtemp(prefix="nguon-bench-"))
    hub = None
    try:
        source = scratch / "big.mp4"
        padded_mp4(source, megabytes)
        size = source.stat().st_size

        client = Minio(
            f"127.0.0.1:{s3_port}", "testing", "testing", secure=False, region="us-east-1"
        )
        client.make_bucket("baseline")
        started = time.perf_counter()
        client.fput_object("baseline", "big.mp4", str(source), "video/mp4")
        baseline = time.perf_counter() - started
        client.remove_object("baseline", "big.mp4")

        environment = {
            **os.environ,
            "NGUON_DATA_DIR": str(scratch / "hub"),
            "NGUON_SECRET_KEY": SECRET,
            "NGUON_S3_ENDPOINT": f"127.0.0.1:{s3_port}",
            "NGUON_S3_ACCESS_KEY": "testing",
            "NGUON_S3_SECRET_KEY": "testing",
            "NGUON_S3_SECURE": "false",
            "NGUON_LOG_LEVEL": "warning",
        }
        database = f"sqlite+aiosqlite:///{scratch / 'hub' / 'nguon.db'}"
        upgrade(database)
        nguon = [sys.executable, "-m", "nguon"]
        subprocess.run(  # noqa: S603
            [*nguon, "areas", "import", "--current", "--province", "91"],
            env=environment, check=True, capture_output=True,
        )  # fmt: skip
        subprocess.run(  # noqa: S603
            [*nguon, "users", "create", "uploader", "--role", "publisher", "--area", "91",
             "--password", PASSWORD],
            env=environment, check=True, capture_output=True,
        )  # fmt: skip
        hub = subprocess.Popen(  # noqa: S603
            [*nguon, "serve", "--port", str(hub_port)], env=environment
        )
        base = f"http://127.0.0.1:{hub_port}"
        asyncio.run(wait_ready(base))
        token = httpx.post(
            f"{base}/api/v1/auth/token", data={"username": "uploader", "password": PASSWORD}
        ).json()["access_token"]
        before = rss_kib(hub.pid, "VmRSS")
        reset_peak(hub.pid)
        started = time.perf_counter()
        with source.open("rb") as handle:
            response = httpx.post(
                f"{base}/api/v1/media",
                files={"file": ("big.mp4", handle, "video/mp4")},
                headers={"Authorization": f"Bearer {token}"},
                timeout=600,
            )
        through_hub = time.perf_counter() - started
        peak = rss_kib(hub.pid, "VmHWM")
        if response.status_code != 201:
            raise SystemExit(f"upload failed: {response.status_code} {response.text}")
    finally:
        if hub is not None:
            hub.send_signal(signal.SIGINT)
            hub.wait(timeout=30)
        s3.stop()
        shutil.rmtree(scratch, ignore_errors=True)

    mib = size / 2**20
    print(f"file: {mib:.0f} MiB MP4; S3 API server: moto, local")
    print(f"direct fput_object:        {baseline:7.2f} s  {mib / baseline:7.1f} MiB/s")
    print(f"through the hub:           {through_hub:7.2f} s  {mib / through_hub:7.1f} MiB/s")
    print(f"hub throughput / direct:   {baseline / through_hub:7.2f}   (target at least 0.80)")
    print(f"hub peak memory growth:    {(peak - before) / 1024:7.1f} MiB (target under 64 MiB)")


async def wait_ready(base: str) -> None:
    async with httpx.AsyncClient() as http:
        for _ in range(100):
            try:
                if (await http.get(f"{base}/readyz")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.2)
    raise SystemExit("the hub did not become ready")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 500)
