"""Streaming the one file of a `multipart/form-data` request, as its bytes arrive.

Starlette's form parsing spools the whole file before the endpoint runs; an upload that is passed
on to storage while it arrives needs the bytes as they come.
"""

from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.requests import Request

from nguon.kit.errors import InvalidInput, MalformedBody
from nguon.kit.schemas import NUL

_Event = tuple[str, bytes]
# What a stored file name may hold (the media table's column).
FILENAME_MAX_CHARACTERS = 255
# Room in a part's header line for a file name well past that, so that it is refused by its
# length, in words, rather than as a header the parser cannot take.
HEADER_MAX_BYTES = 16 * 1024


@dataclass
class _Collector:
    events: list[_Event] = field(default_factory=list)
    header_name: bytes = b""
    header_value: bytes = b""

    def callbacks(self) -> dict[str, object]:
        def data(kind: str):  # type: ignore[no-untyped-def]
            def collect(chunk: bytes, start: int, end: int) -> None:
                self.events.append((kind, chunk[start:end]))

            return collect

        def note(kind: str):  # type: ignore[no-untyped-def]
            return lambda: self.events.append((kind, b""))

        return {
            "on_part_begin": note("part_begin"),
            "on_part_data": data("data"),
            "on_part_end": note("part_end"),
            "on_header_field": data("header_field"),
            "on_header_value": data("header_value"),
            "on_header_end": note("header_end"),
            "on_headers_finished": note("headers_done"),
            "on_end": note("end"),
        }


class FileUpload:
    """The single file field `name` of a multipart request: its filename, then its bytes."""

    def __init__(self, request: Request, name: str) -> None:
        content_type, options = parse_options_header(request.headers.get("content-type", ""))
        if content_type != b"multipart/form-data" or b"boundary" not in options:
            raise InvalidInput(f"Send the file as multipart/form-data in a field named {name!r}.")
        self.name = name
        self.filename: str | None = None
        self._collector = _Collector()
        self._parser = MultipartParser(
            options[b"boundary"],
            self._collector.callbacks(),  # type: ignore[arg-type]
            max_header_size=HEADER_MAX_BYTES,
        )
        self._stream = request.stream()
        self._pending: list[_Event] = []
        self._headers: dict[bytes, bytes] = {}

    async def _next_event(self) -> _Event:
        while not self._pending:
            try:
                chunk = await self._stream.__anext__()
            except StopAsyncIteration as exc:
                raise InvalidInput("The multipart body ends before its closing boundary.") from exc
            try:
                self._parser.write(chunk)
            except MultipartParseError as exc:
                raise MalformedBody(
                    f"The multipart body is malformed ({exc}): send the file as "
                    "multipart/form-data framed by the boundary its Content-Type header names, "
                    "with part headers "
                    f"of at most {HEADER_MAX_BYTES} bytes, each ended by CRLF."
                ) from exc
            self._pending, self._collector.events = self._collector.events, []
        return self._pending.pop(0)

    async def start(self) -> None:
        """Read up to the file's first bytes: its part headers say its field and name."""
        while True:
            kind, value = await self._next_event()
            if kind == "header_field":
                self._collector.header_name += value
            elif kind == "header_value":
                self._collector.header_value += value
            elif kind == "header_end":
                self._headers[self._collector.header_name.lower()] = self._collector.header_value
                self._collector.header_name = self._collector.header_value = b""
            elif kind == "headers_done":
                break
            elif kind == "end":
                raise InvalidInput(f"The form has no field {self.name!r}.")
        _disposition, params = parse_options_header(self._headers.get(b"content-disposition", b""))
        if params.get(b"name", b"").decode(errors="replace") != self.name:
            raise InvalidInput(f"The form must have exactly one field, {self.name!r}, a file.")
        raw = params.get(b"filename")
        self.filename = raw.decode(errors="replace") if raw is not None else None
        if self.filename is not None and len(self.filename) > FILENAME_MAX_CHARACTERS:
            raise InvalidInput(
                f"The file name has {len(self.filename)} characters; it may have at most "
                f"{FILENAME_MAX_CHARACTERS}."
            )
        if self.filename is not None and NUL in self.filename:
            raise InvalidInput("The file name must not contain the NUL character (\\x00).")

    async def chunks(self) -> AsyncIterator[bytes]:
        """The file's bytes; the body must end after it (one field only)."""
        while True:
            kind, value = await self._next_event()
            if kind == "data":
                if value:
                    yield value
            elif kind == "part_end":
                break
        while True:
            kind, _value = await self._next_event()
            if kind == "end":
                return
            if kind == "part_begin":
                raise InvalidInput(f"The form must have exactly one field, {self.name!r}, a file.")
