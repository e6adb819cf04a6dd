"""A receiver of the hub's signed POSTs for the tests: a vendor's webhook gateway, or the
central system's intake of the uplink; a real HTTP server on a local port.

It checks each signature with the secret it was given (when given one), keeps every request,
keeps each message once by the header that names it (`X-Nguon-Notification` for webhooks,
`X-Nguon-Message` for the uplink, as the documented schemes ask of a receiver), answers as it
is told to, and can be taken down and brought back on its port."""

import json
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from dataclasses import dataclass
from typing import Any

import pytest

from nguon.kit.signing import verify
from tests.conftest import free_port
from tests.serving import serving

TOLERANCE_SECONDS = 300


@dataclass(frozen=True, slots=True)
class GatewayRequest:
    path: str
    headers: dict[str, str]
    body: bytes


class Gateway:
    def __init__(self, repeat_header: str = "x-nguon-notification") -> None:
        self.repeat_header = repeat_header
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/hooks/nguon"
        self.secret: str | None = None  # None: signatures are not checked
        self.status = 200
        self.answer = b"ok"
        self.requests: list[GatewayRequest] = []
        self.received: dict[str, dict[str, Any]] = {}  # message id -> message
        self._running: AsyncExitStack | None = None

    async def app(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        assert scope["type"] == "http"
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        headers = {name.decode().lower(): value.decode() for name, value in scope["headers"]}
        self.requests.append(GatewayRequest(scope["path"], headers, body))
        genuine = self.secret is None or verify(
            self.secret,
            headers.get("x-timestamp", ""),
            body,
            headers.get("x-signature", ""),
            TOLERANCE_SECONDS,
        )
        status, answer = (self.status, self.answer) if genuine else (401, b"bad signature")
        if status < 300:
            self.received.setdefault(headers[self.repeat_header], json.loads(body))
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [(b"content-type", b"text/plain")],
            }
        )
        await send({"type": "http.response.body", "body": answer})

    async def start(self) -> None:
        self._running = AsyncExitStack()
        await self._running.enter_async_context(
            serving(self.app, self.port, lifespan="off", interface="asgi3")
        )

    async def stop(self) -> None:
        if self._running is not None:
            await self._running.aclose()
            self._running = None


@pytest.fixture
async def gateway() -> AsyncIterator[Gateway]:
    receiver = Gateway()
    try:
        yield receiver
    finally:
        await receiver.stop()
