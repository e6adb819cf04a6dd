"""Object storage for media: the local disk (embedded default) or an S3 API (MinIO, S3).

Both backends keep objects under keys such as `media/<id>/original`; callers never build paths.
"""

import asyncio
import re
import shutil
import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Protocol

from nguon.kit.settings import Settings

_KEY = re.compile(r"^[a-z0-9][a-z0-9._-]*(/[a-z0-9][a-z0-9._-]*)*$")
# A local object being written; renamed to its key once complete.
PARTIAL_SUFFIX = ".partial"


class StorageError(Exception):
    """The storage backend failed or refused an operation."""


def check_key(key: str) -> str:
    if not _KEY.match(key) or ".." in key:
        raise StorageError(f"invalid object key {key!r}")
    return key


@dataclass(frozen=True, slots=True)
class Redirect:
    """Fetch the object from here (a presigned URL that expires)."""

    url: str


@dataclass(frozen=True, slots=True)
class StoredObject:
    key: str
    modified: datetime


@dataclass(frozen=True, slots=True)
class LocalFile:
    """Stream the object from this file (with HTTP Range support)."""

    path: Path
    content_type: str


class GrowingFile:
    """A file the event loop is still writing while a storage thread already reads it.

    Lets an upload travel on to object storage while it is still arriving.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._out = path.open("wb")
        self._changed = threading.Condition()
        self._written = 0
        self._finished = False
        self._abandoned = False

    def append(self, data: bytes) -> None:
        self._out.write(data)
        self._out.flush()
        with self._changed:
            self._written += len(data)
            self._changed.notify_all()

    def finish(self) -> None:
        self._out.close()
        with self._changed:
            self._finished = True
            self._changed.notify_all()

    def abandon(self) -> None:
        """Make readers fail: the upload is refused or broke off."""
        if not self._out.closed:
            self._out.close()
        with self._changed:
            self._abandoned = True
            self._changed.notify_all()

    def reader(self) -> "GrowingFileReader":
        return GrowingFileReader(self)

    def wait_for_bytes(self, position: int, size: int) -> int:
        """Block until `size` bytes past `position` exist or the file is complete."""
        with self._changed:
            self._changed.wait_for(
                lambda: self._abandoned or self._finished or self._written - position >= size
            )
            if self._abandoned:
                raise StorageError(f"the upload into {self.path.name} was abandoned")
            return min(size, self._written - position)


class GrowingFileReader:
    """File-like `read(n)` over a `GrowingFile`: returns n bytes, fewer only at the end."""

    def __init__(self, source: GrowingFile) -> None:
        self._source = source
        self._handle = source.path.open("rb")
        self._position = 0

    def read(self, size: int = -1) -> bytes:
        wanted = size if size >= 0 else 2**62
        available = self._source.wait_for_bytes(self._position, wanted)
        data = self._handle.read(available)
        self._position += len(data)
        return data

    def close(self) -> None:
        self._handle.close()


class ObjectStorage(Protocol):
    backend: str

    async def ensure_ready(self) -> None:
        """Create what is missing (directory, bucket)."""

    async def check(self) -> str:
        """Raise when the backend cannot be used; else a line for /readyz."""

    async def put_file(self, key: str, source: Path, content_type: str) -> None: ...

    async def put_growing(self, key: str, source: GrowingFile, content_type: str) -> None:
        """Store a file that is still being written; returns once all of it is stored."""

    async def get_file(self, key: str, target: Path) -> None:
        """Copy the object into the file `target` (backups read every object this way)."""

    async def delete(self, key: str) -> None: ...

    async def exists(self, key: str) -> bool: ...

    async def objects(self, prefix: str) -> list[StoredObject]:
        """Every complete object whose key starts with `prefix`."""

    async def remove_partials(self, modified_before: datetime) -> list[str]:
        """Remove the half-written objects a crash left behind, unchanged since the moment
        given (an upload still arriving keeps changing); the keys they were meant for."""

    async def delivery(
        self, key: str, content_type: str, filename: str, expires: timedelta
    ) -> Redirect | LocalFile: ...


class LocalStorage:
    """Objects as files below a root directory; no key ever resolves outside it."""

    backend = "local"

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()

    def path_of(self, key: str) -> Path:
        path = (self.root / check_key(key)).resolve()
        if not path.is_relative_to(self.root):
            raise StorageError(f"object key {key!r} leaves the media root")
        return path

    async def ensure_ready(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)

    async def check(self) -> str:
        probe = self.root / ".ready"
        try:
            await self.ensure_ready()
            await asyncio.to_thread(probe.write_bytes, b"ok")
        except OSError as exc:
            raise StorageError(f"media root {self.root} is not writable: {exc}") from exc
        return f"local disk at {self.root}"

    async def put_file(self, key: str, source: Path, content_type: str) -> None:
        target = self.path_of(key)

        def copy() -> None:
            target.parent.mkdir(parents=True, exist_ok=True)
            partial = target.with_name(target.name + PARTIAL_SUFFIX)
            shutil.copyfile(source, partial)
            partial.replace(target)  # readers never see half an object

        await asyncio.to_thread(copy)

    async def put_growing(self, key: str, source: GrowingFile, content_type: str) -> None:
        target = self.path_of(key)

        def copy() -> None:
            target.parent.mkdir(parents=True, exist_ok=True)
            partial = target.with_name(target.name + PARTIAL_SUFFIX)
            reader = source.reader()
            try:
                with partial.open("wb") as out:
                    shutil.copyfileobj(reader, out, 2**20)
                partial.replace(target)
            finally:
                reader.close()
                partial.unlink(missing_ok=True)

        await asyncio.to_thread(copy)

    async def get_file(self, key: str, target: Path) -> None:
        source = self.path_of(key)
        try:
            await asyncio.to_thread(shutil.copyfile, source, target)
        except FileNotFoundError as exc:
            raise StorageError(f"no object {key!r} in {self.root}") from exc

    async def delete(self, key: str) -> None:
        await asyncio.to_thread(self.path_of(key).unlink, missing_ok=True)

    async def exists(self, key: str) -> bool:
        return self.path_of(key).is_file()

    def _files(self, prefix: str) -> list[tuple[str, Path, datetime]]:
        found = []
        for path in self.root.rglob("*"):
            key = path.relative_to(self.root).as_posix()
            if key.startswith(prefix) and path.is_file():
                modified = datetime.fromtimestamp(path.stat().st_mtime, UTC)
                found.append((key, path, modified))
        return found

    async def objects(self, prefix: str) -> list[StoredObject]:
        files = await asyncio.to_thread(self._files, prefix)
        return [
            StoredObject(key, modified)
            for key, _path, modified in files
            if not key.endswith(PARTIAL_SUFFIX)
        ]

    async def remove_partials(self, modified_before: datetime) -> list[str]:
        def remove() -> list[str]:
            removed = []
            for key, path, modified in self._files(""):
                if key.endswith(PARTIAL_SUFFIX) and modified < modified_before:
                    path.unlink(missing_ok=True)
                    removed.append(key.removesuffix(PARTIAL_SUFFIX))
            return removed

        return await asyncio.to_thread(remove)

    async def delivery(
        self, key: str, content_type: str, filename: str, expires: timedelta
    ) -> Redirect | LocalFile:
        return LocalFile(self.path_of(key), content_type)


def create_storage(settings: Settings) -> ObjectStorage:
    if settings.s3_endpoint:
        from nguon.kit.s3 import S3Storage

        return S3Storage.from_settings(settings)
    return LocalStorage(settings.data_dir / "media")
