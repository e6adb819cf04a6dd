"""The hub's own watch in the production shape: `nguon worker` apart from the API, on Kafka,
opens the incident of a silent endpoint and checks the audit chain (Đắk Nông 002 Điều 14.8,
16.5)."""

import asyncio
from pathlib import Path

from httpx import AsyncClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from nguon.audit.models import AuditCheck, AuditCheckStatus, AuditRecord
from nguon.incidents.models import Incident
from tests.conftest import MakeEndpoint
from tests.endpoints.test_heartbeat import beat
from tests.incidents.test_auto_open import commune, silence
from tests.processes import Process, kafka_environment
from tests.tansu import Broker, tansu

__all__ = ["commune", "tansu"]

WAIT_SECONDS = 60


async def test_a_worker_apart_opens_incidents_and_checks_the_chain(
    client: AsyncClient,
    sessionmaker: async_sessionmaker[AsyncSession],
    make_endpoint: MakeEndpoint,
    commune: str,
    database_url: str,
    tansu: Broker,
    tmp_path: Path,
) -> None:
    """With Kafka, the API processes leave the watch to the workers: a worker must write the
    audited incident and the audit check itself."""
    device = await make_endpoint("WK-RADIO", "radio", commune)
    await beat(client, device)
    await silence(sessionmaker, "WK-RADIO", 3600)
    environment = kafka_environment(
        database_url,
        tansu,
        tmp_path / "worker",
        incident_offline_seconds="600",
        reconcile_seconds="1",
        audit_check_seconds="2",
    )
    worker = Process(["worker"], environment)
    worker.start()
    try:
        async with asyncio.timeout(WAIT_SECONDS):
            while True:
                async with sessionmaker() as session:
                    incident = await session.scalar(select(Incident))
                    check = await session.scalar(
                        select(AuditCheck).where(AuditCheck.status != AuditCheckStatus.running)
                    )
                if incident is not None and check is not None:
                    break
                await asyncio.sleep(0.2)
    finally:
        worker.stop()
    assert "WK-RADIO" in incident.title
    assert (check.status, check.trigger) == (AuditCheckStatus.intact, "schedule")
    async with sessionmaker() as session:
        opened = await session.scalar(
            select(AuditRecord).where(AuditRecord.action == "incidents open")
        )
    assert opened is not None
    assert opened.actor == "system:incidents"
