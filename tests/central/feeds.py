"""Messages as real feeds write them (tests/fixtures/cap/), moved to the present.

The fixtures were written as if it were FEED_NOW; `feed` moves every CAP time in one by the
same amount (references included, since they quote `sent`), so that each message keeps the
spacing its feed gave it: a warning sent three hours before its Cancel, a Cancel that expires as
it is sent.
"""

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tests.central.simulator import VIETNAM

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "cap"
FEED_NOW = datetime(2026, 11, 25, 22, 30, tzinfo=VIETNAM)
_CAP_TIME = re.compile(rb"\d\d\d\d-\d\d-\d\dT\d\d:\d\d:\d\d[-+]\d\d:\d\d")


def to_now() -> timedelta:
    """How far the fixtures' times move so that FEED_NOW is now (whole seconds, as CAP's)."""
    return timedelta(seconds=int((datetime.now(UTC) - FEED_NOW).total_seconds()))


def feed(name: str, moved: timedelta) -> bytes:
    """The fixture `name` with every CAP time moved by `moved`, each in its own offset."""

    def move(found: re.Match[bytes]) -> bytes:
        written = datetime.fromisoformat(found.group().decode())
        return (written + moved).isoformat(timespec="seconds").encode()

    return _CAP_TIME.sub(move, (FIXTURES / name).read_bytes())
