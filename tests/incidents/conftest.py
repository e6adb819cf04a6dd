"""Fixtures of the incident tests: the department's system, a real HTTP server that checks
the hub's signatures (`tests.gateway`)."""

from collections.abc import AsyncIterator
from typing import Any

import pytest
from pydantic import SecretStr

from nguon.kit.settings import Settings
from tests.gateway import Gateway

DEPARTMENT_SECRET = "secret-the-department-shares-with-the-hub"


@pytest.fixture
async def department() -> AsyncIterator[Gateway]:
    receiver = Gateway(repeat_header="x-nguon-notice")
    receiver.secret = DEPARTMENT_SECRET
    await receiver.start()
    try:
        yield receiver
    finally:
        await receiver.stop()


def notifying(settings: Settings, department: Gateway, **changes: Any) -> Settings:
    return settings.model_copy(
        update={
            "incident_webhook_url": department.url,
            "incident_webhook_secret": SecretStr(DEPARTMENT_SECRET),
            "incident_retry_seconds": 0.2,
            "incident_retry_max_seconds": 1,
            **changes,
        }
    )
