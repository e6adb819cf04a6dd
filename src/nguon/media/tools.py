"""ffmpeg and ffprobe, when the machine has them."""

import asyncio
import json
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

TOOL_TIMEOUT_SECONDS = 300


class ToolFailed(Exception):
    def __init__(self, tool: str, message: str) -> None:
        super().__init__(f"{tool}: {message}")
        self.message = message


@dataclass(frozen=True, slots=True)
class MediaTools:
    ffmpeg: str | None
    ffprobe: str | None

    @classmethod
    def find(cls, ffmpeg: str, ffprobe: str) -> "MediaTools":
        return cls(shutil.which(ffmpeg), shutil.which(ffprobe))

    def status(self) -> str:
        if self.ffmpeg and self.ffprobe:
            return "ffmpeg and ffprobe present: broadcast renditions and full media checks"
        return (
            "ffmpeg missing: audio is kept as uploaded (no broadcast rendition) and media are "
            "checked by their headers only; install the ffmpeg package"
        )

    async def probe(self, path: Path) -> dict[str, Any]:
        assert self.ffprobe
        output = await _run(
            self.ffprobe,
            "-v",
            "error",
            "-print_format",
            "json",
            "-show_format",
            "-show_streams",
            str(path),
        )
        return dict(json.loads(output or "{}"))

    async def decoded_seconds(self, path: Path) -> float:
        """Decode the first audio stream to nothing; how many seconds really decode."""
        assert self.ffmpeg
        output = await _run(
            self.ffmpeg,
            "-nostdin",
            "-v",
            "error",
            "-i",
            str(path),
            "-map",
            "0:a:0",
            "-f",
            "null",
            "-progress",
            "pipe:1",
            "-",
        )
        decoded_us = [
            int(value)
            for line in output.splitlines()
            if line.startswith("out_time_us=") and (value := line.split("=", 1)[1]).isdigit()
        ]
        return (decoded_us[-1] if decoded_us else 0) / 1_000_000

    async def convert(self, *arguments: str) -> None:
        assert self.ffmpeg
        await _run(self.ffmpeg, "-nostdin", "-v", "error", "-y", *arguments)


async def _run(*command: str) -> str:
    process = await asyncio.create_subprocess_exec(
        *command, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    try:
        stdout, stderr = await asyncio.wait_for(process.communicate(), TOOL_TIMEOUT_SECONDS)
    except TimeoutError as exc:
        process.kill()
        await process.wait()
        raise ToolFailed(Path(command[0]).name, "took too long") from exc
    if process.returncode != 0:
        message = stderr.decode(errors="replace").strip().splitlines()
        raise ToolFailed(Path(command[0]).name, message[-1] if message else "failed")
    return stdout.decode(errors="replace")
