"""An error nothing handles is a 500 problem, audited, and the connection stays usable."""

import asyncio
import json

import h11
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from nguon.app import create_app
from nguon.audit.models import AuditRecord
from nguon.kit.settings import Settings
from tests.conftest import free_port
from tests.serving import serving


class Broken(Exception):
    """What a defect somewhere in a route would raise."""


async def exchange(
    connection: h11.Connection,
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
    method: str,
    target: str,
) -> tuple[h11.Response, bytes]:
    """One request and its whole answer over an open connection."""
    headers = [("Host", "hub.test"), ("Content-Length", "0")]
    writer.write(connection.send(h11.Request(method=method, target=target, headers=headers)))
    writer.write(connection.send(h11.EndOfMessage()))
    await writer.drain()
    response: h11.Response | None = None
    body = b""
    while True:
        event = connection.next_event()
        if event is h11.NEED_DATA:
            data = await reader.read(65536)
            connection.receive_data(data)
            continue
        if isinstance(event, h11.Response):
            response = event
        elif isinstance(event, h11.Data):
            body += event.data
        elif isinstance(event, h11.EndOfMessage):
            assert response is not None
            return response, body
        elif isinstance(event, h11.ConnectionClosed):
            raise AssertionError(f"the hub closed the connection during {method} {target}")


async def test_an_unexpected_error_keeps_the_connection_and_is_audited(
    settings: Settings, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    app = create_app(settings)

    async def broken_route() -> None:
        raise Broken("a defect")

    app.add_api_route("/test/broken", broken_route, methods=["POST"])
    port = free_port()
    async with serving(app, port):
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        connection = h11.Connection(h11.CLIENT)
        try:
            failed, body = await exchange(connection, reader, writer, "POST", "/test/broken")
            connection.start_next_cycle()
            healthy, _ = await exchange(connection, reader, writer, "GET", "/healthz")
        finally:
            writer.close()
            await writer.wait_closed()
    assert failed.status_code == 500
    headers = {name.decode(): value.decode() for name, value in failed.headers}
    assert headers["content-type"] == "application/problem+json"
    problem = json.loads(body)
    assert problem["detail"] == (
        "The hub failed to handle this request; it has been logged under this request id."
    )
    assert problem["request_id"] == headers["x-request-id"]
    assert healthy.status_code == 200
    async with sessionmaker() as session:
        audited = (await session.scalars(select(AuditRecord))).all()
    assert [(row.action, row.status, row.request_id) for row in audited] == [
        ("POST /test/broken", 500, problem["request_id"])
    ]
    await app.state.engine.dispose()
