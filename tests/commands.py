"""`nguon` commands on the test's database, run inside the test's process: the exit status and
the two streams are what a shell would get, without an interpreter start for each command.
tests/test_cli.py and tests/test_serve.py keep separate processes where the process itself is
what they check."""

import traceback
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from click.testing import Result
from typer.testing import CliRunner

from nguon.cli import app
from nguon.kit.settings import get_settings
from tests.conftest import TEST_SECRET


@dataclass(frozen=True, slots=True)
class Ran:
    returncode: int
    stdout: str
    stderr: str


def nguon(database_url: str, *args: str, environment: Mapping[str, str] | None = None) -> Ran:
    """`environment`: more NGUON_* settings the command is run with (a data directory, S3)."""
    environment = {
        "NGUON_DATABASE_URL": database_url,
        "NGUON_SECRET_KEY": TEST_SECRET,
        **(environment or {}),
    }
    # On a thread of its own: the command runs its own event loop, as it does from a shell,
    # and the test's loop is running on this one.
    with ThreadPoolExecutor(max_workers=1) as thread:
        result = thread.submit(_invoke, list(args), environment).result()
    stderr = result.stderr
    if result.exc_info is not None and not isinstance(result.exception, SystemExit):
        stderr += "".join(traceback.format_exception(*result.exc_info))  # as Python prints it
    return Ran(result.exit_code, result.stdout, stderr)


def _invoke(args: list[str], environment: Mapping[str, str]) -> Result:
    # The settings are read once per process: this command reads its own environment's.
    get_settings.cache_clear()
    try:
        return CliRunner().invoke(app, args, env=environment)
    finally:
        get_settings.cache_clear()
