"""The audio an incoming CAP alert carries in its `resource`s, brought into media storage.

Only resources whose `mimeType` is audio/* are taken: radios play them, and the info's text
already reaches displays. Every other resource (images, documents, maps) is ignored.

The bytes come inline from `derefUri` (base64), or are fetched from `uri` over HTTP(S) from a
host in `central_resource_hosts` only, and never from another host a redirect names: the hub
must not be a way for a message to reach whatever the hub's network reaches. Each resource is
held to the audio size limit (and to its declared `size`), to its `digest` (CAP 1.2: the SHA-1
of the content) and to being audio by its bytes. All resources of a message are fetched and
checked into a working directory before any is stored, so that a refusal stores nothing.
"""

import asyncio
import base64
import binascii
import hashlib
import tempfile
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

import httpx

from nguon.central.cap import CapInfo, CapResource
from nguon.central.refusals import (
    ResourceDigestMismatch,
    ResourceHostNotAllowed,
    ResourceInvalid,
    ResourceTooLarge,
    ResourceUnavailable,
)
from nguon.identity.principal import Principal
from nguon.kit.errors import NguonError
from nguon.media.inspect import SNIFF_BYTES, identify
from nguon.media.kinds import MediaKind
from nguon.media.models import MediaObject
from nguon.media.service import COPY_CHUNK, Ingested, MediaService

HTTP_SCHEMES = frozenset({"http", "https"})


def audio_resources(info: CapInfo) -> list[tuple[int, CapResource]]:
    """The info's audio resources, each with its place among all the info's resources."""
    return [
        (number, resource)
        for number, resource in enumerate(info.resources)
        if resource.mime_type.split(";", 1)[0].strip().lower().startswith("audio/")
    ]


@dataclass(frozen=True, slots=True)
class TakenAudio:
    media_ids: list[list[str]]  # per info, in the order of the message
    created: list[MediaObject]  # stored by this message, not found stored before


@dataclass(frozen=True, slots=True)
class _Fetched:
    where: str  # "info[0].resource[1]": how refusals name the resource to its sender
    path: Path
    filename: str | None


class AudioResources:
    def __init__(self, media: MediaService) -> None:
        self.media = media
        self.settings = media.settings

    async def take(self, actor: Principal, infos: Sequence[CapInfo]) -> TakenAudio:
        """The audio of each info, stored; a refusal of any resource leaves none stored."""
        wanted = [audio_resources(info) for info in infos]
        if not any(wanted):
            return TakenAudio([[] for _info in infos], [])
        self.settings.data_dir.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(prefix="cap-", dir=self.settings.data_dir) as work:
            fetched = [
                [
                    await self._fetch(Path(work), f"info[{index}].resource[{number}]", resource)
                    for number, resource in resources
                ]
                for index, resources in enumerate(wanted)
            ]
            media_ids: list[list[str]] = []
            created: list[MediaObject] = []
            try:
                for items in fetched:
                    ids: list[str] = []
                    for item in items:
                        ingested = await self._store(actor, item)
                        ids.append(ingested.media.id)
                        if ingested.created:
                            created.append(ingested.media)
                    # The same audio twice in one info plays once.
                    media_ids.append(list(dict.fromkeys(ids)))
            except BaseException:
                await self.discard(created)
                raise
        return TakenAudio(media_ids, created)

    async def discard(self, created: Sequence[MediaObject]) -> None:
        """Remove media `take` stored, for a message refused after it: the rows go with the
        refused transaction, the files in storage would stay."""
        for media in created:
            await self.media.discard(media)

    async def _store(self, actor: Principal, fetched: _Fetched) -> Ingested:
        try:
            return await self.media.ingest(actor, _chunks(fetched.path), fetched.filename)
        except NguonError as error:
            raise ResourceInvalid(f"{fetched.where}: {error.detail}") from error

    async def _fetch(self, workdir: Path, where: str, resource: CapResource) -> _Fetched:
        limit = self.settings.media_max_audio_bytes
        if resource.size is not None and resource.size > limit:
            raise ResourceTooLarge(
                f"{where}: its size, {resource.size} bytes, is over {limit} bytes, the most "
                "audio takes."
            )
        filename = None
        with _Spool(workdir / where, where, limit, resource.size) as spool:
            if resource.deref_uri is not None:
                spool.take(_decoded(resource.deref_uri, where))
            elif resource.uri is not None:
                url = await self._download(resource.uri, where, spool)
                filename = url.path.rsplit("/", 1)[-1] or None
            else:
                raise ResourceInvalid(f"{where}: send the audio in derefUri or point at it by uri.")
        if resource.digest is not None and resource.digest.strip().lower() != spool.sha1:
            raise ResourceDigestMismatch(
                f"{where}: the content's SHA-1 is {spool.sha1}, not the digest "
                f"{resource.digest.strip()}; it was changed or cut short on the way."
            )
        try:
            sniffed = identify(spool.head, filename)
        except NguonError as error:
            raise ResourceInvalid(f"{where}: {error.detail}") from error
        if sniffed.kind is not MediaKind.audio:
            raise ResourceInvalid(
                f"{where}: its mimeType is {resource.mime_type} but its content is "
                f"{sniffed.content_type}."
            )
        return _Fetched(where, spool.path, filename)

    async def _download(self, uri: str, where: str, spool: "_Spool") -> httpx.URL:
        """Stream `uri` into the spool; returns the URL it came from after redirects."""
        try:
            url = httpx.URL(uri)
        except httpx.InvalidURL as error:
            raise ResourceInvalid(f"{where}: uri {uri!r} is not a URL: {error}") from None
        if url.scheme not in HTTP_SCHEMES or not url.host:
            raise ResourceInvalid(
                f"{where}: uri {uri!r} is not an absolute http or https URL; send the audio in "
                "derefUri instead."
            )
        allowed = self.settings.central_resource_host_names
        if url.host not in allowed:
            hosts = ", ".join(sorted(allowed)) or "no host (derefUri only)"
            raise ResourceHostNotAllowed(
                f"{where}: the hub fetches audio from {hosts}, not from {url.host}."
            )

        async def stay_on_host(request: httpx.Request) -> None:
            if request.url.host != url.host:
                raise ResourceHostNotAllowed(
                    f"{where}: {uri} redirects to {request.url.host}; the hub follows redirects "
                    f"on {url.host} only."
                )

        timeout = self.settings.central_resource_timeout_seconds
        try:
            async with (
                asyncio.timeout(timeout),
                httpx.AsyncClient(
                    timeout=timeout,
                    follow_redirects=True,
                    event_hooks={"request": [stay_on_host]},
                ) as client,
                client.stream("GET", url) as response,
            ):
                if not response.is_success:
                    raise ResourceUnavailable(
                        f"{where}: {uri} answered {response.status_code} {response.reason_phrase}."
                    )
                async for chunk in response.aiter_bytes():
                    spool.take(chunk)
                return response.url
        except TimeoutError:
            raise ResourceUnavailable(
                f"{where}: {uri} did not arrive whole within {timeout:g} s."
            ) from None
        except httpx.HTTPError as error:
            raise ResourceUnavailable(f"{where}: {uri} could not be fetched: {error!r}") from None


class _Spool:
    """A resource's bytes on their way to a file: counted against the most it may have,
    digested as CAP digests them, and their head kept to identify them by."""

    def __init__(self, path: Path, where: str, limit: int, declared: int | None) -> None:
        self.path = path
        self.where = where
        self.most = limit if declared is None else declared
        self.over = "the most audio takes" if declared is None else "the size it declares"
        self.size = 0
        self.head = b""
        # CAP 1.2 fixes SHA-1 for `digest`: it tells a changed file, it protects no secret.
        self._sha1 = hashlib.sha1(usedforsecurity=False)
        self._file = path.open("wb")

    @property
    def sha1(self) -> str:
        return self._sha1.hexdigest()

    def take(self, chunk: bytes) -> None:
        self.size += len(chunk)
        if self.size > self.most:
            raise ResourceTooLarge(f"{self.where}: it is over {self.most} bytes, {self.over}.")
        self._file.write(chunk)
        self._sha1.update(chunk)
        self.head += chunk[: SNIFF_BYTES - len(self.head)]

    def __enter__(self) -> "_Spool":
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._file.close()


def _decoded(deref_uri: str, where: str) -> bytes:
    try:
        # XML writers may wrap long base64 text over lines.
        return base64.b64decode("".join(deref_uri.split()), validate=True)
    except binascii.Error as error:
        raise ResourceInvalid(f"{where}: derefUri is not base64: {error}") from None


async def _chunks(path: Path) -> AsyncIterator[bytes]:
    handle = await asyncio.to_thread(path.open, "rb")
    try:
        while chunk := await asyncio.to_thread(handle.read, COPY_CHUNK):
            yield chunk
    finally:
        handle.close()
