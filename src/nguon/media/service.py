"""Taking uploads in: identify, check, derive renditions, store once per content."""

import asyncio
import hashlib
import tempfile
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from nguon.dispatch.repository import DeliveryRepository
from nguon.identity.principal import Principal
from nguon.kit.errors import NotFound
from nguon.kit.settings import Settings
from nguon.kit.storage import GrowingFile, LocalFile, ObjectStorage, Redirect
from nguon.media import subtitles
from nguon.media.inspect import SNIFF_BYTES, Sniffed, check_size, identify, inspect
from nguon.media.kinds import MediaKind
from nguon.media.models import MediaObject, MediaRendition, MediaSubtitleTrack
from nguon.media.renditions import ORIGINAL, RenditionFile, broadcast_audio, image_thumbnail
from nguon.media.repository import MediaRepository

COPY_CHUNK = 1024 * 1024


@dataclass(frozen=True, slots=True)
class Ingested:
    media: MediaObject
    created: bool


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(COPY_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


class MediaService:
    def __init__(
        self,
        session: AsyncSession,
        storage: ObjectStorage,
        settings: Settings,
    ) -> None:
        self.session = session
        self.repository = MediaRepository(session)
        self.storage = storage
        self.settings = settings

    async def ingest(
        self, actor: Principal, chunks: AsyncIterator[bytes], filename: str | None
    ) -> Ingested:
        """Store an upload, or find the same content stored before. The bytes travel on to
        storage while they arrive; anything refused is removed again, so it leaves nothing
        behind in storage or the database."""
        self.settings.data_dir.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(prefix="upload-", dir=self.settings.data_dir) as work:
            workdir = Path(work)
            received = _Upload(self, GrowingFile(workdir / "original"), filename, uuid.uuid4().hex)
            try:
                async for chunk in chunks:
                    received.take(chunk)
                await received.complete()
                existing = await self.repository.by_sha256(received.sha256)
                if existing is not None:
                    await received.discard()
                    return Ingested(existing, created=False)
                return await self._keep(actor, received, workdir)
            except BaseException:
                await received.discard()
                raise

    async def _keep(self, actor: Principal, received: "_Upload", workdir: Path) -> Ingested:
        sniffed = received.sniffed
        assert sniffed is not None
        assert received.key is not None
        facts = await inspect(received.file.path, sniffed, self.settings)
        derived = await self._renditions(sniffed.kind, received.file.path, workdir)
        if sniffed.kind is MediaKind.subtitle:
            derived += await subtitles.renditions(received.file.path, sniffed.extension, workdir)
        tracks = await subtitles.embedded_tracks(received.file.path, sniffed.kind)
        media = MediaObject(
            id=received.media_id,
            sha256=received.sha256,
            size=received.size,
            content_type=sniffed.content_type,
            kind=sniffed.kind,
            duration_s=facts.duration_s,
            width=facts.width,
            height=facts.height,
            original_name=(received.filename or "")[:255] or None,
            storage_key=received.key,
            uploaded_by=actor.label,
        )
        media.renditions = [await self._rendition(media.id, item) for item in derived]
        media.subtitle_tracks = [
            MediaSubtitleTrack(stream_index=t.stream_index, codec=t.codec, language=t.language)
            for t in tracks
        ]
        for rendition, item in zip(media.renditions, derived, strict=True):
            received.stored.append(rendition.storage_key)
            await self.storage.put_file(rendition.storage_key, item.path, item.content_type)
        return await self._record(media, received)

    async def _renditions(
        self, kind: MediaKind, source: Path, workdir: Path
    ) -> list[RenditionFile]:
        if kind is MediaKind.audio:
            return [await broadcast_audio(source, workdir, self.settings)]
        if kind is MediaKind.image:
            return [await image_thumbnail(source, workdir, self.settings)]
        return []

    async def _rendition(self, media_id: str, item: RenditionFile) -> MediaRendition:
        extension = item.path.suffix
        return MediaRendition(
            name=item.name,
            content_type=item.content_type,
            size=item.path.stat().st_size,
            sha256=await asyncio.to_thread(file_sha256, item.path),
            storage_key=f"media/{media_id}/{item.name}{extension}",
            duration_s=item.duration_s,
            width=item.width,
            height=item.height,
        )

    async def _record(self, media: MediaObject, received: "_Upload") -> Ingested:
        kept = await self._add_or_theirs(media)
        if kept is not media:
            await received.discard()
            return Ingested(kept, created=False)
        return Ingested(media, created=True)

    async def _add_or_theirs(self, media: MediaObject) -> MediaObject:
        """Add the media's row; when the same content arrived at the same moment through
        another request, theirs instead (the caller removes the files it stored)."""
        try:
            async with self.session.begin_nested():
                await self.repository.add(media)
        except IntegrityError:
            existing = await self.repository.by_sha256(media.sha256)
            if existing is None:
                raise
            return existing
        return media

    async def keep_file(
        self, path: Path, content_type: str, kind: MediaKind, *, duration_s: float, made_by: str
    ) -> MediaObject:
        """Store a file the hub made itself (a bulletin's speech) as media, once per content:
        the same bytes stored before are the media already kept."""
        sha256 = await asyncio.to_thread(file_sha256, path)
        if (stored := await self.repository.by_sha256(sha256)) is not None:
            return stored
        media_id = uuid.uuid4().hex
        media = MediaObject(
            id=media_id,
            sha256=sha256,
            size=(await asyncio.to_thread(path.stat)).st_size,
            content_type=content_type,
            kind=kind,
            duration_s=duration_s,
            storage_key=f"media/{media_id}/original{path.suffix}",
            uploaded_by=made_by,
        )
        media.renditions = []
        await self.storage.put_file(media.storage_key, path, content_type)
        kept = await self._add_or_theirs(media)
        if kept is not media:
            await self.storage.delete(media.storage_key)
        return kept

    async def discard(self, media: MediaObject) -> None:
        """Remove the files of media that `ingest` created in a transaction being undone: its
        rows go with the transaction, files in storage would stay."""
        for key in (media.storage_key, *(r.storage_key for r in media.renditions)):
            await self.storage.delete(key)

    async def get(self, actor: Principal, media_id: str) -> MediaObject:
        """An endpoint's key reads only the media of what it was given to play; people and
        systems read any (media carry no area: the bulletins that use them do)."""
        media = await self.repository.get(media_id)
        if media is None or (
            actor.endpoint_id is not None
            and not await DeliveryRepository(self.session).plays_media(actor.endpoint_id, media_id)
        ):
            raise NotFound(f"No media has the id {media_id!r} for {actor.label}.")
        return media

    async def delivery(
        self, actor: Principal, media_id: str, rendition: str
    ) -> Redirect | LocalFile:
        media = await self.get(actor, media_id)
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


class _Upload:
    """One upload as it arrives: hashed, identified from its first bytes, size-checked, and
    sent on to storage as soon as its type is known."""

    def __init__(
        self, service: MediaService, file: GrowingFile, filename: str | None, media_id: str
    ) -> None:
        self.service = service
        self.file = file
        self.filename = filename
        self.media_id = media_id
        self.size = 0
        self.head = b""
        self.sniffed: Sniffed | None = None
        self.key: str | None = None
        self.stored: list[str] = []
        self._digest = hashlib.sha256()
        self._upload: asyncio.Task[None] | None = None

    @property
    def sha256(self) -> str:
        return self._digest.hexdigest()

    def take(self, chunk: bytes) -> None:
        self.file.append(chunk)
        self._digest.update(chunk)
        self.size += len(chunk)
        if self.sniffed is None:
            self.head += chunk[: SNIFF_BYTES - len(self.head)]
            if len(self.head) >= SNIFF_BYTES:
                self._identify()
        else:
            check_size(self.sniffed, self.size, self.service.settings)

    def _identify(self) -> None:
        sniffed = identify(self.head, self.filename)
        check_size(sniffed, self.size, self.service.settings)
        self.sniffed = sniffed
        self.key = f"media/{self.media_id}/original.{sniffed.extension}"
        self.stored.append(self.key)
        self._upload = asyncio.create_task(
            self.service.storage.put_growing(self.key, self.file, sniffed.content_type)
        )

    async def complete(self) -> None:
        """The last byte has arrived: wait until storage holds all of them."""
        if self.sniffed is None:
            self._identify()
        self.file.finish()
        assert self._upload is not None
        await self._upload

    async def discard(self) -> None:
        """Stop the transfer and remove whatever was stored."""
        self.file.abandon()
        if self._upload is not None:
            await asyncio.gather(self._upload, return_exceptions=True)
        for key in self.stored:
            await self.service.storage.delete(key)
        self.stored.clear()
