"""What `nguon serve` tells the person who runs it: where it serves, and log lines a person can
read at a terminal, JSON for a collector otherwise (NGUON_LOG_JSON forces either)."""

import json
import os
import pty
import re
import select
import subprocess
import time
from pathlib import Path

import httpx
import pytest

from tests.conftest import free_port
from tests.processes import NGUON, hub_environment

# ANSI colour codes, which the readable form uses on a terminal.
COLOUR = re.compile(r"\x1b\[[0-9;]*m")
# How long a test waits for the output it expects before it fails (an upper bound).
WAIT_SECONDS = 30


def serve_and_request(environment: dict[str, str], *, terminal: bool) -> tuple[str, str, str]:
    """Run `nguon serve`, ask it for /healthz once it says where it serves, stop it; returns
    its base URL as it was asked for, and what it wrote to stdout and to stderr (one stream
    when it ran on a terminal)."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    command = [NGUON, "serve", "--port", str(port)]
    if terminal:
        controller, attached = pty.openpty()
        process = subprocess.Popen(  # noqa: S603 - the hub's own command
            command, env=environment, stdout=attached, stderr=attached, stdin=attached
        )
        os.close(attached)
        output = _read_terminal(process, controller, base)
        os.close(controller)
        return base, output, output
    process = subprocess.Popen(  # noqa: S603 - the hub's own command
        command, env=environment, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    try:
        _until_healthy(base)
        process.terminate()
        stdout, stderr = process.communicate(timeout=WAIT_SECONDS)
    finally:
        process.kill()
        process.wait()
    return base, stdout.decode(), stderr.decode()


def _until_healthy(base: str) -> None:
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        try:
            httpx.get(f"{base}/healthz", timeout=1)
            return
        except httpx.TransportError:
            time.sleep(0.1)
    raise AssertionError("nguon serve did not come up")


def _read_terminal(process: subprocess.Popen[bytes], controller: int, base: str) -> str:
    """What the terminal showed, up to the log line of a /healthz asked once the server said
    where it serves."""
    output = ""
    asked = False
    deadline = time.monotonic() + WAIT_SECONDS
    try:
        while time.monotonic() < deadline:
            if not asked and "nguon serving on" in output:
                httpx.get(f"{base}/healthz", timeout=WAIT_SECONDS)
                asked = True
            readable, _, _ = select.select([controller], [], [], 0.2)
            if readable:
                output += os.read(controller, 65_536).decode(errors="replace")
            if asked and request_lines(output) and output.endswith("\n"):
                return COLOUR.sub("", output)
        raise AssertionError(f"the terminal showed {output!r}")
    finally:
        process.terminate()
        try:
            process.wait(timeout=WAIT_SECONDS)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def request_lines(output: str) -> list[str]:
    return [line for line in output.splitlines() if "request" in line and "/healthz" in line]


@pytest.mark.usefixtures("engine")  # the database, migrated
@pytest.mark.parametrize(
    ("terminal", "setting", "as_json"),
    [(False, None, True), (True, None, False), (True, "true", True), (False, "false", False)],
    ids=["auto-pipe", "auto-terminal", "json-forced", "readable-forced"],
)
def test_serve_says_where_it_serves_and_logs_for_whoever_reads(
    database_url: str,
    tmp_path: Path,
    terminal: bool,
    setting: str | None,
    as_json: bool,
) -> None:
    settings = {} if setting is None else {"log_json": setting}
    base, stdout, stderr = serve_and_request(
        hub_environment(database_url, tmp_path, **settings), terminal=terminal
    )
    assert f"nguon serving on {base} (console: {base}/console/, API docs: {base}/docs)" in stderr
    [line] = request_lines(stdout)
    if as_json:
        logged = json.loads(line)
        assert (logged["event"], logged["path"], logged["status"]) == ("request", "/healthz", 200)
    else:
        assert not line.lstrip().startswith("{")
        assert re.search(r"\[info\s*\]\s+request\b", line), line
        assert "path=/healthz" in line
        assert "status=200" in line
