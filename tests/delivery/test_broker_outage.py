"""The database is the truth: with Kafka configured and the broker away, `nguon serve` serves
(polls, bulletins, CAP alerts), says on /readyz that the bus is degraded, keeps the events in
the outbox and lets them flow once the broker comes; both processes stop promptly on SIGTERM
whatever the broker does."""

import asyncio
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from httpx import AsyncClient

from nguon.dispatch.endpoints import DEVICE_PLAYLIST_PATH
from nguon.identity.roles import Role
from tests.bulletins.test_workflow import text_bulletin
from tests.central.simulator import CentralSystem, Info, in_hours, message
from tests.conftest import AN_GIANG, MakeKey, free_port
from tests.dispatch.test_deliveries import publish
from tests.processes import ApiProcess, Process, kafka_environment
from tests.push.test_sse import WAIT_SECONDS, Hub, listening, parties
from tests.tansu import Broker

__all__ = ["parties"]

# What SIGTERM may take, in every state of the broker (what an orchestrator allows before it
# kills, with room to spare).
STOP_SECONDS = 10


@pytest.fixture
def broker() -> Iterator[Broker]:
    """A port for the broker, which the test starts (or not) when it wants."""
    broker = Broker()
    yield broker
    broker.stop()


@pytest.fixture
def processes(
    database_url: str, broker: Broker, tmp_path: Path, parties: dict[str, Any]
) -> Iterator[tuple[ApiProcess, Process]]:
    """`nguon serve` and `nguon worker` on the broker's port, not yet started."""
    api = ApiProcess(free_port(), kafka_environment(database_url, broker, tmp_path / "api"))
    worker = Process(["worker"], kafka_environment(database_url, broker, tmp_path / "worker"))
    yield api, worker
    api.stop()
    worker.stop()


def stop_both(api: Process, worker: Process) -> None:
    """SIGTERM both at once; each must be gone within STOP_SECONDS."""
    for process in (api, worker):
        assert process.process is not None
        process.process.terminate()
    for process in (api, worker):
        assert process.process is not None
        # uvicorn, once it has shut down, raises the signal it caught again and so ends by it.
        assert process.process.wait(timeout=STOP_SECONDS) in (0, -signal.SIGTERM)


async def readiness(http: AsyncClient) -> dict[str, Any]:
    response = await http.get("/readyz")
    assert response.status_code == 200, response.text
    ready: dict[str, Any] = response.json()
    return ready


def bus_check(ready: dict[str, Any]) -> dict[str, Any]:
    [check] = [check for check in ready["checks"] if check["name"] == "bus"]
    return check


async def until_ready(http: AsyncClient, seconds: float = 30) -> dict[str, Any]:
    """/readyz once the bus is up and the outbox relayed."""
    async with asyncio.timeout(seconds):
        while True:
            ready = await readiness(http)
            if ready["status"] == "ready" and "outbox: 0 events" in bus_check(ready)["detail"]:
                return ready
            await asyncio.sleep(0.2)


async def test_the_api_serves_while_the_broker_is_away_and_its_events_flow_when_it_comes(
    processes: tuple[ApiProcess, Process],
    broker: Broker,
    parties: dict[str, Any],
    make_key: MakeKey,
) -> None:
    central_key = (await make_key("central-system", Role.central, AN_GIANG))["X-Api-Key"]
    api, worker = processes
    api.start()  # returns once /healthz answers
    worker.start()
    async with AsyncClient(base_url=api.base_url, timeout=WAIT_SECONDS) as http:
        assert (await http.get("/healthz")).status_code == 200
        degraded = await readiness(http)
        assert degraded["status"] == "degraded"
        bus = bus_check(degraded)
        assert not bus["ok"]
        assert not bus["required"]
        assert f"kafka at {broker.bootstrap} unreachable" in bus["detail"]

        poll = await http.get(DEVICE_PLAYLIST_PATH, headers=parties["radio_a"])
        assert poll.status_code == 200, poll.text
        await publish(http, parties, text_bulletin(parties["a"], title="Trong lúc mất Kafka"))
        alert = message(infos=(Info(expires=in_hours(1), geocodes=(parties["a"],)),))
        taken = await CentralSystem(http, central_key).send(alert)
        assert taken.status_code == 201, taken.text
        waiting = bus_check(await readiness(http))["detail"]
        assert "outbox: 0 events" not in waiting, waiting

        broker.start()
        # The worker's relay publishes what waited; the API process's bus connects.
        await until_ready(http)

        # The API process's event streams follow the broker that came: a device hears news.
        async with listening(Hub(None, http), parties["radio_a"]) as events:
            await asyncio.sleep(2)  # the broadcast consumer joins the topic from its end
            bulletin_id = await publish(http, parties, text_bulletin(parties["a"]))
            heard = await events.message()
            assert (heard.event, heard.data["bulletin"]["id"]) == ("publication", bulletin_id)

    broker.stop()  # lost mid-run
    await asyncio.sleep(1)
    stop_both(api, worker)


@pytest.mark.parametrize("broker_up", [False, True], ids=["broker-never-came", "broker-up"])
async def test_serve_and_worker_stop_on_sigterm(
    processes: tuple[ApiProcess, Process], broker: Broker, broker_up: bool
) -> None:
    if broker_up:
        broker.start()
    api, worker = processes
    api.start()
    worker.start()
    async with AsyncClient(base_url=api.base_url, timeout=WAIT_SECONDS) as http:
        if broker_up:
            await until_ready(http)
        else:
            assert (await readiness(http))["status"] == "degraded"
    stop_both(api, worker)
