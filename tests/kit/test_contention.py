"""Concurrent writers against a served hub: no 500, no wedge, every request audited.

The hub is served by uvicorn on a local port and driven over real connections, so that the
requests compete for the connection pool and the database's locks as they do in production.
"""

import asyncio
import itertools
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from nguon.areas.sources import AreaRecord
from nguon.audit.models import AuditRecord
from nguon.audit.service import AuditService
from nguon.bulletins.models import Bulletin
from nguon.endpoints.models import Endpoint
from nguon.identity.roles import Role
from tests.bulletins.test_workflow import text_bulletin
from tests.central.simulator import CentralSystem, Info, in_hours, message
from tests.conftest import (
    AN_GIANG,
    MakeEndpoint,
    MakeKey,
    MakeUser,
    communes_of,
    free_port,
)
from tests.serving import serving

# Generous: a wedged hub answers nothing for minutes, a working one within a second.
ANSWER_SECONDS = 60
_request_numbers = itertools.count(1)
# Hours to expiry of the alerts sent one after another: refused (expired) and accepted in turn.
ALTERNATING_ALERTS = (-1, 1) * 10 + (-1, -1, 2)


@pytest.fixture
async def served(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """A client of the app served by uvicorn, with a connection per concurrent request."""
    port = free_port()
    limits = httpx.Limits(max_connections=200, max_keepalive_connections=200)
    async with (
        serving(app, port),
        httpx.AsyncClient(
            base_url=f"http://127.0.0.1:{port}", timeout=ANSWER_SECONDS, limits=limits
        ) as http,
    ):
        yield http


class Sent:
    """The requests sent, each with its own request id, and their answers."""

    def __init__(self, http: httpx.AsyncClient) -> None:
        self.http = http
        self.answers: dict[str, httpx.Response] = {}

    async def __call__(self, method: str, path: str, **options: Any) -> httpx.Response:
        request_id = f"burst-{next(_request_numbers)}-{uuid.uuid4().hex[:8]}"
        headers = {**options.pop("headers", {}), "X-Request-Id": request_id}
        response = await self.http.request(method, path, headers=headers, **options)
        self.answers[request_id] = response
        return response

    def server_errors(self) -> list[str]:
        return [
            f"{answer.request.method} {answer.request.url.path}: {answer.status_code} "
            f"{answer.text[:200]}"
            for answer in self.answers.values()
            if answer.status_code >= 500
        ]


async def audited_request_ids(sessionmaker: async_sessionmaker[AsyncSession]) -> list[str]:
    async with sessionmaker() as session:
        found = await session.scalars(
            select(AuditRecord.request_id).where(AuditRecord.request_id.like("burst-%"))
        )
        return [request_id for request_id in found if request_id is not None]


async def chain_breaks(sessionmaker: async_sessionmaker[AsyncSession]) -> list[Any]:
    async with sessionmaker() as session:
        _checked, breaks = await AuditService(session).verify()
    return breaks


async def assert_every_request_audited_once(
    sent: Sent, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    audited = await audited_request_ids(sessionmaker)
    assert sorted(audited) == sorted(sent.answers), "audit records do not match the requests"
    assert await chain_breaks(sessionmaker) == []


async def assert_ready(http: httpx.AsyncClient) -> None:
    ready = await http.get("/readyz")
    assert ready.status_code == 200, ready.text


@pytest.fixture
async def people(
    make_user: MakeUser,
    make_endpoint: MakeEndpoint,
    make_key: MakeKey,
    areas: list[AreaRecord],
) -> dict[str, Any]:
    communes = communes_of(areas, AN_GIANG)
    return {
        "admin": await make_user("burst.admin", Role.admin, AN_GIANG),
        "publisher": await make_user("burst.publisher", Role.publisher, AN_GIANG),
        "radio": await make_endpoint("BURST-RADIO", "radio", communes[0]),
        "board": await make_endpoint("BURST-BOARD", "display", communes[1], profile="eboard"),
        "central": (await make_key("burst-central", Role.central, AN_GIANG))["X-Api-Key"],
        "communes": communes,
    }


async def test_concurrent_writers_are_answered_audited_and_leave_the_hub_ready(
    served: httpx.AsyncClient,
    people: dict[str, Any],
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    send = Sent(served)
    admin, publisher = people["admin"], people["publisher"]
    central = CentralSystem(served, people["central"])
    same_key = {**publisher, "Idempotency-Key": "burst-retried-bulletin"}
    retried = text_bulletin(AN_GIANG, title="Một bản tin gửi lại nhiều lần")
    heartbeat = {"status": "idle", "volume": 50, "playlist_etag": None}

    def alert(expires_in_hours: float) -> Callable[[], Awaitable[httpx.Response]]:
        body = message(infos=(Info(expires=in_hours(expires_in_hours)),)).xml()
        headers = central.headers(body)
        return lambda: send("POST", "/api/v1/central/alerts", content=body, headers=headers)

    burst: list[Callable[[], Awaitable[httpx.Response]]] = [
        *[lambda: send("POST", "/api/v1/bulletins", json=retried, headers=same_key)] * 20,
        *[
            lambda n=n: send(
                "POST", "/api/v1/bulletins", json=text_bulletin(AN_GIANG, title=f"Tin {n}"),
                headers=publisher,
            )
            for n in range(5)
        ],
        *[lambda: send("POST", "/api/v1/endpoints/BURST-RADIO/key", headers=admin)] * 3,
        *[
            lambda n=n: send(
                "POST", "/api/v1/endpoints",
                json={"code": f"ANON-{n}", "name": "x", "kind": "radio", "area": AN_GIANG},
            )
            for n in range(3)
        ],
        *[
            lambda n=n: send(
                "POST", "/api/v1/endpoints", headers=admin,
                json={
                    "code": f"BURST-NEW-{n}", "name": f"Loa {n}", "kind": "radio",
                    "area": people["communes"][n],
                },
            )
            for n in range(3)
        ],
        *[
            lambda n=n: send(
                "PATCH", "/api/v1/endpoints/BURST-BOARD", json={"name": f"Bảng {n}"},
                headers=admin,
            )
            for n in range(3)
        ],
        *[
            lambda: send(
                "POST", "/api/v1/bulletins", json={"title": "thiếu nội dung"}, headers=publisher
            )
        ] * 3,
        *[
            lambda: send(
                "POST", "/api/v1/auth/token",
                data={"username": "burst.admin", "password": "not-the-password"},
            )
        ] * 3,
        *[
            lambda device=device: send(
                "POST", "/api/v1/device/heartbeat", json=heartbeat, headers=device
            )
            for device in (people["radio"], people["board"])
        ],
        alert(-1),  # refused: already expired
        alert(-1),
        alert(1),
        alert(2),
    ]  # fmt: skip
    await asyncio.gather(*(request() for request in burst))

    assert send.server_errors() == []
    retries = [a for a in send.answers.values() if a.request.headers.get("Idempotency-Key")]
    assert {answer.status_code for answer in retries} <= {201, 409}
    created = [answer.json() for answer in retries if answer.status_code == 201]
    assert created
    assert all(body == created[0] for body in created)
    assert all(
        answer.headers["content-type"] == "application/problem+json"
        for answer in retries
        if answer.status_code == 409
    )
    async with sessionmaker() as session:
        stored = await session.scalar(
            select(func.count()).select_from(Bulletin).where(Bulletin.title == retried["title"])
        )
    assert stored == 1
    await assert_ready(served)
    await assert_every_request_audited_once(send, sessionmaker)


async def test_a_refused_alert_and_the_next_on_the_same_connection_are_both_audited(
    app: FastAPI, people: dict[str, Any], sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    port = free_port()
    one_connection = httpx.Limits(max_connections=1, max_keepalive_connections=1)
    async with (
        serving(app, port),
        httpx.AsyncClient(
            base_url=f"http://127.0.0.1:{port}", timeout=ANSWER_SECONDS, limits=one_connection
        ) as http,
    ):
        send = Sent(http)
        central = CentralSystem(http, people["central"])
        answers = []
        for expires_in_hours in ALTERNATING_ALERTS:
            body = message(infos=(Info(expires=in_hours(expires_in_hours)),)).xml()
            answers.append(
                await send(
                    "POST", "/api/v1/central/alerts", content=body, headers=central.headers(body)
                )
            )
        assert [answer.status_code for answer in answers] == [
            422 if expires_in_hours < 0 else 201 for expires_in_hours in ALTERNATING_ALERTS
        ]
        await assert_ready(http)
    await assert_every_request_audited_once(send, sessionmaker)


async def test_creates_racing_for_one_code_give_one_endpoint_and_conflicts(
    served: httpx.AsyncClient,
    people: dict[str, Any],
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    """Each request checks that the code is free before it writes; when they all check before
    any has written, the database's unique key decides, and the losers are told so (409)."""
    send = Sent(served)
    body = {"code": "RACED-CODE", "name": "Loa", "kind": "radio", "area": people["communes"][2]}
    answers = await asyncio.gather(
        *(send("POST", "/api/v1/endpoints", json=body, headers=people["admin"]) for _ in range(8))
    )

    assert send.server_errors() == []
    assert sorted(answer.status_code for answer in answers) == [201] + [409] * 7
    assert all(
        answer.headers["content-type"] == "application/problem+json"
        for answer in answers
        if answer.status_code == 409
    )
    async with sessionmaker() as session:
        stored = await session.scalar(
            select(func.count()).select_from(Endpoint).where(Endpoint.code == "RACED-CODE")
        )
    assert stored == 1
    await assert_ready(served)
    await assert_every_request_audited_once(send, sessionmaker)
