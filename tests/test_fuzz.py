"""Schemathesis over every operation of the app, on the backend the suite runs on.

Each operation gets `NGUON_FUZZ_EXAMPLES` generated requests (valid ones, invalid ones, and
valid ones aimed at real seeded resources), sent with the credentials of the first role in
`SENDERS` the route's guard admits (an admin, ..., a device's key). Any 5xx, a request the app
raises on, any answer the document does not declare (status, content type,
headers, body schema) fails the test; the failure lists each reproducing request.
"""

import asyncio
import os
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from httpx import AsyncClient
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.python.asgi import shutdown_lifespans
from schemathesis.schemas import APIOperation
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from sqlalchemy.ext.asyncio import AsyncEngine

from nguon.app import create_app
from nguon.areas.sources import AreaRecord
from nguon.identity.access import Access
from nguon.identity.roles import Role
from nguon.kit.settings import Settings
from tests.bulletins.test_workflow import text_bulletin
from tests.conftest import AN_GIANG, MakeEndpoint, MakeKey, MakeUser, communes_of
from tests.test_access import api_routes, guards

# Small enough that every operation on both backends stays within a minute or so on two cores.
EXAMPLES_PER_OPERATION = int(os.environ.get("NGUON_FUZZ_EXAMPLES", "12"))
# The same examples on every run, so that a red run can be repeated; NGUON_FUZZ_RANDOM=1 draws
# new ones each time, to look further.
DERANDOMIZE = os.environ.get("NGUON_FUZZ_RANDOM") != "1"
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
# How long an endless event stream is read before its answer is checked.
STREAM_SECONDS = 0.5
# Who sends an operation's requests: the first of these its guard admits.
SENDERS = (
    Role.admin,
    Role.editor,
    Role.commune_chair,
    Role.appraiser,
    Role.central,
    Role.endpoint,
)


@dataclass
class Seeded:
    """Real resources for the generated requests to reach, and who sends them."""

    credentials: dict[Role, dict[str, str]]
    guards: dict[tuple[str, str], Access]
    path_values: dict[str, dict[str, str]] = field(default_factory=dict)

    def headers_for(self, operation: APIOperation) -> dict[str, str]:
        guard = self.guards.get((operation.method.upper(), operation.path))
        if guard is None:  # a public route
            return {}
        role = next(role for role in SENDERS if guard.admits(role))
        return self.credentials[role]

    def real_path(self, operation: APIOperation) -> dict[str, str] | None:
        """Path values that name seeded resources, for the operations that have them."""
        names = {parameter.name for parameter in operation.path_parameters}
        if not names:
            return None
        family = operation.path.split("/")[3]  # /api/v1/<family>/...
        values = {**self.path_values["*"], **self.path_values.get(family, {})}
        if not names <= values.keys():
            return None
        return {name: values[name] for name in names}


@pytest.fixture
async def seeded(
    app: FastAPI,
    client: AsyncClient,
    areas: list[AreaRecord],
    make_user: MakeUser,
    make_key: MakeKey,
    make_endpoint: MakeEndpoint,
) -> Seeded:
    commune = communes_of(areas, AN_GIANG)[0]
    credentials = {
        Role.admin: await make_user("fuzz-admin", Role.admin, AN_GIANG),
        Role.editor: await make_user("fuzz-editor", Role.editor, AN_GIANG),
        Role.commune_chair: await make_user("fuzz-chair", Role.commune_chair, commune),
        Role.appraiser: await make_user("fuzz-appraiser", Role.appraiser, AN_GIANG),
        Role.central: await make_key("fuzz-central", Role.central, AN_GIANG),
        Role.endpoint: await make_endpoint("fuzz-radio", "radio", commune),
    }
    # Separate targets for the routes that change things, so that the fuzz can neither disable
    # an account it sends with nor rotate the key of its own device.
    await make_user("fuzz-target", Role.publisher, AN_GIANG)
    await make_endpoint("fuzz-display", "display", commune, profile="eboard")
    await make_key("fuzz-key", Role.integration, AN_GIANG)
    keys = (await client.get("/api/v1/keys", headers=credentials[Role.admin])).json()["items"]
    target_key = next(key for key in keys if key["name"] == "fuzz-key")
    created = await client.post(
        "/api/v1/bulletins", json=text_bulletin(commune), headers=credentials[Role.editor]
    )
    assert created.status_code == 201, created.text
    # One on air too, so that the device has events to replay and a playlist to play.
    editor = credentials[Role.editor]
    on_air = await client.post("/api/v1/bulletins", json=text_bulletin(commune), headers=editor)
    for action in ("submit", "approve"):
        acted = await client.post(
            f"/api/v1/bulletins/{on_air.json()['id']}/{action}", headers=editor
        )
        assert acted.status_code == 200, acted.text
    return Seeded(
        credentials=credentials,
        guards={
            (method, route.path): guard
            for route in api_routes(app)
            for guard in guards(route.dependant)
            for method in route.methods
        },
        path_values={
            "*": {"bulletin_id": created.json()["id"], "code": commune},
            "users": {"username": "fuzz-target"},
            "keys": {"key_id": str(target_key["id"])},
            "endpoints": {"code": "fuzz-display"},
        },
    )


@pytest.fixture
async def fuzzed_app(settings: Settings, engine: AsyncEngine) -> AsyncIterator[FastAPI]:
    """An app of its own: schemathesis serves it on its own event loop, in its own thread."""
    yield create_app(settings)
    await asyncio.to_thread(shutdown_lifespans)


def cases(operation: APIOperation, seeded: Seeded) -> st.SearchStrategy[Any]:
    strategies = [
        operation.as_strategy(GenerationMode.POSITIVE),
        operation.as_strategy(GenerationMode.NEGATIVE),
    ]
    real = seeded.real_path(operation)
    if real is not None:
        strategies.append(operation.as_strategy(GenerationMode.POSITIVE, path_parameters=real))
    return st.one_of(strategies)


def fuzz(operation: APIOperation, seeded: Seeded) -> list[str]:
    """Send the operation's examples; return each distinct failure with its reproduction."""
    failures: dict[str, str] = {}
    headers = seeded.headers_for(operation)
    # A stream never ends: what it sent within this long is what is checked.
    timeout = STREAM_SECONDS if streams(operation) else None

    @settings(
        max_examples=EXAMPLES_PER_OPERATION,
        deadline=None,
        database=None,
        derandomize=DERANDOMIZE,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=cases(operation, seeded))
    def send(case: schemathesis.Case) -> None:
        try:
            case.call_and_validate(headers=headers, checks=CHECKS, timeout=timeout)
        except FailureGroup as group:
            for failure in group.exceptions:
                failures.setdefault(f"{operation.label}: {failure.title}", str(group))
        except Exception as error:  # the app raised instead of answering: a 500 to a client
            failures.setdefault(
                f"{operation.label}: {type(error).__name__} raised",
                f"{error}\n\nReproduce with:\n\n    {case.as_curl_command(headers=headers)}",
            )

    send()
    return [f"{label}\n{reproduction}" for label, reproduction in failures.items()]


def streams(operation: APIOperation) -> bool:
    content = operation.definition.raw["responses"].get("200", {}).get("content", {})
    return "text/event-stream" in content


def every_operation(app: FastAPI) -> list[APIOperation]:
    schema = schemathesis.openapi.from_dict(app.openapi())
    schema.app = app
    return [result.ok() for result in schema.get_all_operations()]


def run_all(app: FastAPI, seeded: Seeded, report: Callable[[str], None]) -> list[str]:
    failures = []
    for operation in every_operation(app):
        started = time.monotonic()
        found = fuzz(operation, seeded)
        took = time.monotonic() - started
        report(f"{operation.label}: {len(found)} failure(s) in {took:.1f} s")
        failures += found
    return failures


async def test_no_operation_answers_5xx_or_outside_its_document(
    fuzzed_app: FastAPI, seeded: Seeded
) -> None:
    # Off the event loop: schemathesis calls the app synchronously, through its own loop.
    failures = await asyncio.to_thread(run_all, fuzzed_app, seeded, print)
    assert not failures, f"{len(failures)} failure(s):\n\n" + "\n\n".join(failures)
