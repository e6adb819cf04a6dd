"""S3-compatible object storage (MinIO, AWS S3) through the `minio` client.

The client is synchronous, so every call runs in a worker thread.
"""

import asyncio
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import BinaryIO, ParamSpec, TypeVar, cast
from urllib.parse import urlsplit

import urllib3
from minio import Minio
from minio.error import MinioException, S3Error
from minio.helpers import check_bucket_name

from nguon.kit.settings import Settings
from nguon.kit.storage import (
    GrowingFile,
    LocalFile,
    Redirect,
    StorageError,
    StoredObject,
    check_key,
)

# Each part is held in memory while it uploads: 8 MiB keeps a 500 MiB upload under 64 MiB of
# growth (bench/media_upload.py) at no cost in throughput.
PART_SIZE = 8 * 2**20
_MISSING_OBJECT = {"NoSuchKey", "NoSuchObject"}
P = ParamSpec("P")
T = TypeVar("T")


def _client(endpoint: str, secure: bool, settings: Settings) -> Minio:
    return Minio(
        endpoint,
        access_key=settings.s3_access_key.get_secret_value() if settings.s3_access_key else None,
        secret_key=settings.s3_secret_key.get_secret_value() if settings.s3_secret_key else None,
        secure=secure,
        # With the region known the client never asks the server for it, so presigning
        # for the public endpoint needs no connection to it.
        region=settings.s3_region,
        http_client=urllib3.PoolManager(
            timeout=urllib3.Timeout(connect=5, read=60),
            retries=urllib3.Retry(total=2, backoff_factor=0.2),
        ),
    )


def _public_client(url: str, settings: Settings) -> Minio:
    """A client that only presigns, for the base URL devices use (NGUON_S3_PUBLIC_ENDPOINT)."""
    parts = urlsplit(url)
    problem = "it must be a base URL such as https://media.example.org, without a path"
    if parts.scheme in {"http", "https"} and parts.netloc and parts.path in {"", "/"}:
        try:
            return _client(parts.netloc, parts.scheme == "https", settings)
        except ValueError as exc:
            problem = str(exc)
    raise StorageError(f"NGUON_S3_PUBLIC_ENDPOINT {url!r} is not usable: {problem}")


def _reason(exc: Exception) -> str:
    # urllib3 wraps the refused or timed-out connection; its reason is what a person can act on.
    if isinstance(exc, urllib3.exceptions.MaxRetryError) and exc.reason is not None:
        return f"cannot reach the server ({exc.reason})"
    return str(exc)


class S3Storage:
    backend = "s3"

    def __init__(self, client: Minio, presigner: Minio, bucket: str, endpoint: str) -> None:
        self.client = client
        self.presigner = presigner
        self.bucket = bucket
        self.endpoint = endpoint

    @classmethod
    def from_settings(cls, settings: Settings) -> "S3Storage":
        endpoint = settings.s3_endpoint
        if not endpoint:
            raise StorageError("S3 storage needs NGUON_S3_ENDPOINT")
        # minio refuses a bad bucket name or endpoint with a bare ValueError; name the setting.
        try:
            check_bucket_name(settings.s3_bucket, strict=True)
        except ValueError as exc:
            raise StorageError(f"NGUON_S3_BUCKET is not a usable bucket name: {exc}") from exc
        try:
            client = _client(endpoint, settings.s3_secure, settings)
        except ValueError as exc:
            raise StorageError(f"NGUON_S3_ENDPOINT {endpoint!r} is not host:port: {exc}") from exc
        presigner = client
        if settings.s3_public_endpoint:
            presigner = _public_client(settings.s3_public_endpoint, settings)
        return cls(client, presigner, settings.s3_bucket, endpoint)

    async def _call(
        self, what: str, function: Callable[P, T], *args: P.args, **kwargs: P.kwargs
    ) -> T:
        try:
            return await asyncio.to_thread(function, *args, **kwargs)
        except (MinioException, urllib3.exceptions.HTTPError, OSError) as exc:
            raise StorageError(f"S3 at {self.endpoint}: {what} failed: {_reason(exc)}") from exc

    async def ensure_ready(self) -> None:
        if not await self._call("bucket lookup", self.client.bucket_exists, self.bucket):
            await self._call("bucket creation", self.client.make_bucket, self.bucket)

    async def check(self) -> str:
        if not await self._call("bucket lookup", self.client.bucket_exists, self.bucket):
            raise StorageError(f"S3 at {self.endpoint}: bucket {self.bucket} does not exist")
        return f"s3 bucket {self.bucket} at {self.endpoint}"

    async def put_file(self, key: str, source: Path, content_type: str) -> None:
        await self._call(
            f"upload of {key}",
            self.client.fput_object,
            self.bucket,
            check_key(key),
            str(source),
            content_type=content_type,
            part_size=PART_SIZE,
        )

    async def put_growing(self, key: str, source: GrowingFile, content_type: str) -> None:
        name = check_key(key)

        def upload() -> None:
            reader = source.reader()
            try:
                # Unknown length: the client sends PART_SIZE parts as they fill.
                self.client.put_object(
                    self.bucket,
                    name,
                    cast(BinaryIO, reader),
                    -1,
                    content_type,
                    part_size=PART_SIZE,
                )
            finally:
                reader.close()

        await self._call(f"upload of {key}", upload)

    async def get_file(self, key: str, target: Path) -> None:
        await self._call(
            f"download of {key}", self.client.fget_object, self.bucket, check_key(key), str(target)
        )

    async def delete(self, key: str) -> None:
        # S3 deletes are idempotent: a missing object is no error.
        await self._call(f"delete of {key}", self.client.remove_object, self.bucket, check_key(key))

    async def exists(self, key: str) -> bool:
        try:
            await self._call(
                f"lookup of {key}", self.client.stat_object, self.bucket, check_key(key)
            )
        except StorageError as exc:
            if isinstance(exc.__cause__, S3Error) and exc.__cause__.code in _MISSING_OBJECT:
                return False
            raise
        return True

    async def objects(self, prefix: str) -> list[StoredObject]:
        def listing() -> list[StoredObject]:
            found = self.client.list_objects(self.bucket, prefix=prefix, recursive=True)
            return [
                StoredObject(item.object_name, item.last_modified)
                for item in found
                if item.object_name is not None and item.last_modified is not None
            ]

        return await self._call(f"listing of {prefix}", listing)

    async def remove_partials(self, modified_before: datetime) -> list[str]:
        # S3 shows an object only once all of it is stored; the parts of an upload broken off
        # are the bucket's lifecycle rule's to abort (AbortIncompleteMultipartUpload).
        return []

    async def delivery(
        self, key: str, content_type: str, filename: str, expires: timedelta
    ) -> Redirect | LocalFile:
        headers: dict[str, str | list[str] | tuple[str]] = {
            "response-content-type": content_type,
            "response-content-disposition": f'inline; filename="{filename}"',
        }
        url = await self._call(
            f"presigning of {key}",
            self.presigner.presigned_get_object,
            self.bucket,
            check_key(key),
            expires=expires,
            response_headers=headers,
        )
        return Redirect(url)
