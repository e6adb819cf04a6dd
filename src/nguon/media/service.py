"""Taking uploads in: identify, check, derive renditions, store once per content."""

import asyncio
import hashlib
import tempfile
import uuid
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import BinaryIO

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from nguon.identity.principal import Principal
from nguon.kit.errors import NotFound
from nguon.kit.settings import Settings
from nguon.kit.storage import LocalFile, ObjectStorage, Redirect
from nguon.media.inspect import SNIFF_BYTES, inspect, sniff
from nguon.media.kinds import MediaKind
from nguon.media.models import MediaObject, MediaRendition
from nguon.media.renditions import ORIGINAL, RenditionFile, broadcast_audio, image_thumbnail
from nguon.media.repository import MediaRepository
from nguon.media.tools import MediaTools

COPY_CHUNK = 1024 * 1024


@dataclass(frozen=True, slots=True)
class Ingested:
    media: MediaObject
    created: bool


@dataclass(frozen=True, slots=True)
class _Received:
    path: Path
    size: int
    sha256: str
    head: bytes


def _receive(upload: BinaryIO, target: Path) -> _Received:
    """Copy the upload to a work file, hashing as it goes; never the whole file in memory."""
    digest = hashlib.sha256()
    size = 0
    head = b""
    with target.open("wb") as out:
        while chunk := upload.read(COPY_CHUNK):
            if len(head) < SNIFF_BYTES:
                head += chunk[: SNIFF_BYTES - len(head)]
            digest.update(chunk)
            size += len(chunk)
            out.write(chunk)
    return _Received(target, size, digest.hexdigest(), head)


def stream_sha256(stream: BinaryIO) -> str:
    digest = hashlib.sha256()
    while chunk := stream.read(COPY_CHUNK):
        digest.update(chunk)
    return digest.hexdigest()


def _file_sha256(path: Path) -> str:
    with path.open("rb") as handle:
        return stream_sha256(handle)


class MediaService:
    def __init__(
        self,
        session: AsyncSession,
        storage: ObjectStorage,
        tools: MediaTools,
        settings: Settings,
    ) -> None:
        self.session = session
        self.repository = MediaRepository(session)
        self.storage = storage
        self.tools = tools
        self.settings = settings

    async def ingest(self, actor: Principal, upload: BinaryIO, filename: str | None) -> Ingested:
        """Store an upload, or find the same content stored before. Anything refused leaves
        nothing behind in storage or the database."""
        self.settings.data_dir.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(prefix="upload-", dir=self.settings.data_dir) as work:
            workdir = Path(work)
            received = await asyncio.to_thread(_receive, upload, workdir / "original")
            sniffed = sniff(received.head, received.size, filename, self.settings)
            existing = await self.repository.by_sha256(received.sha256)
            if existing is not None:
                return Ingested(existing, created=False)
            facts = await inspect(received.path, sniffed, self.tools, self.settings)
            derived = await self._renditions(sniffed.kind, received.path, workdir)
            media_id = uuid.uuid4().hex
            media = MediaObject(
                id=media_id,
                sha256=received.sha256,
                size=received.size,
                content_type=sniffed.content_type,
                kind=sniffed.kind,
                duration_s=facts.duration_s,
                width=facts.width,
                height=facts.height,
                original_name=(filename or "")[:255] or None,
                storage_key=f"media/{media_id}/original.{sniffed.extension}",
                uploaded_by=actor.label,
            )
            media.renditions = [await self._rendition(media_id, item) for item in derived]
            stored = [media.storage_key, *(r.storage_key for r in media.renditions)]
            await self.storage.put_file(media.storage_key, received.path, media.content_type)
            for rendition, item in zip(media.renditions, derived, strict=True):
                await self.storage.put_file(rendition.storage_key, item.path, item.content_type)
            return await self._record(media, stored)

    async def _renditions(
        self, kind: MediaKind, source: Path, workdir: Path
    ) -> list[RenditionFile]:
        if kind is MediaKind.audio:
            broadcast = await broadcast_audio(source, workdir, self.tools, self.settings)
            return [broadcast] if broadcast else []
        if kind is MediaKind.image:
            return [await image_thumbnail(source, workdir, self.settings)]
        return []

    async def _rendition(self, media_id: str, item: RenditionFile) -> MediaRendition:
        duration = None
        if item.content_type.startswith("audio/") and self.tools.ffprobe:
            probe = await self.tools.probe(item.path)
            duration = round(float(probe.get("format", {}).get("duration", 0)), 3) or None
        extension = item.path.suffix
        return MediaRendition(
            name=item.name,
            content_type=item.content_type,
            size=item.path.stat().st_size,
            sha256=await asyncio.to_thread(_file_sha256, item.path),
            storage_key=f"media/{media_id}/{item.name}{extension}",
            duration_s=duration,
            width=item.width,
            height=item.height,
        )

    async def _record(self, media: MediaObject, stored: list[str]) -> Ingested:
        try:
            async with self.session.begin_nested():
                await self.repository.add(media)
        except IntegrityError:
            # The same content arrived at the same time through another request: keep theirs.
            for key in stored:
                await self.storage.delete(key)
            existing = await self.repository.by_sha256(media.sha256)
            if existing is None:
                raise
            return Ingested(existing, created=False)
        return Ingested(media, created=True)

    async def get(self, media_id: str) -> MediaObject:
        media = await self.repository.get(media_id)
        if media is None:
            raise NotFound(f"No media has the id {media_id!r}.")
        return media

    async def delivery(self, media_id: str, rendition: str) -> Redirect | LocalFile:
        media = await self.get(media_id)
        if rendition == ORIGINAL:
            key, content_type, suffix = media.storage_key, media.content_type, ""
        else:
            derived = next((r for r in media.renditions if r.name == rendition), None)
            if derived is None:
                names = ", ".join([ORIGINAL, *(r.name for r in media.renditions)])
                raise NotFound(f"Media {media_id} has no rendition {rendition!r}; it has {names}.")
            key, content_type, suffix = derived.storage_key, derived.content_type, f"-{rendition}"
        filename = f"{media.id}{suffix}.{key.rsplit('.', 1)[-1]}"
        return await self.storage.delivery(
            key, content_type, filename, timedelta(seconds=self.settings.media_url_ttl_seconds)
        )
