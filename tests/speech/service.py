"""A provider's speech service, in the test: answers `POST /speak` as the README says one
does, and keeps what it was sent."""

import asyncio
import io
import json
import math
import struct
import wave
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

TOKEN = "speech-token-123"


def tone_wav(seconds: float = 2.0, rate: int = 16_000) -> bytes:
    """A 440 Hz tone, with pauses, as 16-bit mono WAV: sound a loudness meter can gate."""
    frames = bytearray()
    for n in range(int(seconds * rate)):
        audible = (n // (rate // 4)) % 2 == 0
        sample = int(8000 * math.sin(2 * math.pi * 440 * n / rate)) if audible else 0
        frames += struct.pack("<h", sample)
    out = io.BytesIO()
    with wave.open(out, "wb") as writer:
        writer.setnchannels(1)
        writer.setsampwidth(2)
        writer.setframerate(rate)
        writer.writeframes(bytes(frames))
    return out.getvalue()


@dataclass
class SpeechProvider:
    """Speaks `vi`; answers 422 for any other language, 500 while `failing`, after
    `slow_seconds`."""

    failing: bool = False
    slow_seconds: float = 0
    received: list[dict[str, Any]] = field(default_factory=list)

    async def speak(self, request: Request) -> Response:
        body = json.loads(await request.body())
        self.received.append(
            {
                "body": body,
                "authorization": request.headers.get("authorization"),
                "content_type": request.headers.get("content-type"),
            }
        )
        if request.headers.get("authorization") != f"Bearer {TOKEN}":
            return JSONResponse({"error": "unauthorised"}, status_code=401)
        await asyncio.sleep(self.slow_seconds)
        if self.failing:
            return JSONResponse({"error": "synthesiser crashed"}, status_code=500)
        if body["language"].split("-")[0] != "vi":
            return JSONResponse({"error": f"no voice for {body['language']}"}, status_code=422)
        return Response(tone_wav(), media_type="audio/wav")

    def app(self) -> Starlette:
        return Starlette(routes=[Route("/speak", self.speak, methods=["POST"])])
