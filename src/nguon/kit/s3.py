"""S3-compatible object storage (MinIO, AWS S3) through the `minio` client.

The client is synchronous, so every call runs in a worker thread.
"""

import asyncio
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import BinaryIO, TypeVar, cast
from urllib.parse import urlsplit

import urllib3
from minio import Minio
from minio.error import MinioException, S3Error

from nguon.kit.settings import Settings
from nguon.kit.storage import GrowingFile, LocalFile, Redirect, StorageError, check_key

PART_SIZE = 8 * 2**20
_MISSING_OBJECT = {"NoSuchKey", "NoSuchObject"}
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


class S3Storage:
    backend = "s3"

    def __init__(self, client: Minio, presigner: Minio, bucket: str, endpoint: str) -> None:
        self.client = client
        self.presigner = presigner
        self.bucket = bucket
        self.endpoint = endpoint

    @classmethod
    def from_settings(cls, settings: Settings) -> "S3Storage":
        if not settings.s3_endpoint:
            raise StorageError("S3 storage needs NGUON_S3_ENDPOINT")
        client = _client(settings.s3_endpoint, settings.s3_secure, settings)
        presigner = client
        if settings.s3_public_endpoint:
            public = urlsplit(settings.s3_public_endpoint)
            presigner = _client(public.netloc, public.scheme == "https", settings)
        return cls(client, presigner, settings.s3_bucket, settings.s3_endpoint)

    async def _call(self, what: str, function: Callable[..., T], *args: object) -> T:
        try:
            return await asyncio.to_thread(function, *args)
        except (MinioException, urllib3.exceptions.HTTPError, OSError) as exc:
            raise StorageError(f"S3 at {self.endpoint}: {what} failed: {exc}") from exc

    async def ensure_ready(self) -> None:
        if not await self._call("bucket lookup", self.client.bucket_exists, self.bucket):
            await self._call("bucket creation", self.client.make_bucket, self.bucket)

    async def check(self) -> str:
        if not await self._call("bucket lookup", self.client.bucket_exists, self.bucket):
            raise StorageError(f"S3 at {self.endpoint}: bucket {self.bucket} does not exist")
        return f"s3 bucket {self.bucket} at {self.endpoint}"

    async def put_file(self, key: str, source: Path, content_type: str) -> None:
        def upload() -> None:
            self.client.fput_object(
                self.bucket, check_key(key), str(source), content_type, part_size=PART_SIZE
            )

        await self._call(f"upload of {key}", upload)

    async def put_growing(self, key: str, source: GrowingFile, content_type: str) -> None:
        def upload() -> None:
            reader = source.reader()
            try:
                # Unknown length: the client sends PART_SIZE parts as they fill.
                self.client.put_object(
                    self.bucket,
                    check_key(key),
                    cast(BinaryIO, reader),
                    -1,
                    content_type,
                    part_size=PART_SIZE,
                )
            finally:
                reader.close()

        await self._call(f"upload of {key}", upload)

    async def delete(self, key: str) -> None:
        # S3 deletes are idempotent: a missing object is no error.
        await self._call(f"delete of {key}", self.client.remove_object, self.bucket, check_key(key))

    async def exists(self, key: str) -> bool:
        try:
            await asyncio.to_thread(self.client.stat_object, self.bucket, check_key(key))
        except S3Error as exc:
            if exc.code in _MISSING_OBJECT:
                return False
            raise StorageError(f"S3 at {self.endpoint}: lookup of {key} failed: {exc}") from exc
        except (MinioException, urllib3.exceptions.HTTPError, OSError) as exc:
            raise StorageError(f"S3 at {self.endpoint}: lookup of {key} failed: {exc}") from exc
        return True

    async def delivery(
        self, key: str, content_type: str, filename: str, expires: timedelta
    ) -> Redirect | LocalFile:
        headers: dict[str, str | list[str] | tuple[str]] = {
            "response-content-type": content_type,
            "response-content-disposition": f'inline; filename="{filename}"',
        }

        def presign() -> str:
            return self.presigner.presigned_get_object(
                self.bucket, check_key(key), expires=expires, response_headers=headers
            )

        return Redirect(await self._call(f"presigning of {key}", presign))
