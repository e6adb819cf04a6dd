"""A vendor's gateway for the tests: a real HTTP server that takes the hub's webhooks.

It keeps every notification it is sent, applies each once (by `X-Nguon-Notification`, as the
documented scheme asks of a gateway), and can be taken down and brought back on its port."""

import asyncio
import json
from collections import Counter, defaultdict
from typing import Any

import uvicorn

from tests.conftest import free_port


class Gateway:
    def __init__(self) -> None:
        self.port = free_port()
        self.received: Counter[str] = Counter()  # notification id -> how often it came
        self.applied: dict[str, list[dict[str, Any]]] = defaultdict(list)  # by endpoint
        self.answer = 200
        self._server: uvicorn.Server | None = None
        self._task: asyncio.Task[None] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        headers = dict(scope["headers"])
        notification_id = headers.get(b"x-nguon-notification", b"").decode()
        if self.answer < 300:
            if notification_id not in self.received:
                notification = json.loads(body)
                self.applied[notification["endpoint"]].append(notification)
            self.received[notification_id] += 1
        await send({"type": "http.response.start", "status": self.answer, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    async def start(self) -> None:
        config = uvicorn.Config(
            self, host="127.0.0.1", port=self.port, log_level="warning", lifespan="off"
        )
        self._server = uvicorn.Server(config)
        self._task = asyncio.create_task(self._server.serve())
        while True:
            if self._server.started:
                return
            await asyncio.sleep(0.01)

    async def stop(self) -> None:
        if self._server is not None and self._task is not None:
            self._server.should_exit = True
            await self._task
            self._server = self._task = None
