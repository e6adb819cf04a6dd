"""Both storage backends keep the same contract (S3 is a real S3 API server, moto)."""

import asyncio
from datetime import timedelta
from pathlib import Path

import httpx
import pytest

from nguon.kit.s3 import S3Storage
from nguon.kit.settings import Settings
from nguon.kit.storage import (
    GrowingFile,
    LocalFile,
    LocalStorage,
    ObjectStorage,
    Redirect,
    StorageError,
    create_storage,
)
from tests.conftest import with_s3

CONTENT = b"\x00\x01 bulletin audio \xff" * 1000
ESCAPING_KEYS = ["../x", "/etc/passwd", "a/../../b", "A B", "media//x", ""]


@pytest.fixture(params=["local", "s3"])
async def storage(
    request: pytest.FixtureRequest, settings: Settings, s3_server: str
) -> ObjectStorage:
    chosen = with_s3(settings, s3_server) if request.param == "s3" else settings
    backend = create_storage(chosen)
    await backend.ensure_ready()
    return backend


def a_file(tmp_path: Path, content: bytes = CONTENT) -> Path:
    path = tmp_path / "source.bin"
    path.write_bytes(content)
    return path


async def read_back(storage: ObjectStorage, key: str, content_type: str) -> bytes:
    """The object's bytes as a device gets them: from the file, or through the presigned URL."""
    delivery = await storage.delivery(key, content_type, "x.bin", timedelta(minutes=5))
    if isinstance(delivery, LocalFile):
        return delivery.path.read_bytes()
    async with httpx.AsyncClient() as http:
        fetched = await http.get(delivery.url)
    assert fetched.status_code == 200, fetched.text
    return fetched.content


async def test_put_exists_delete(storage: ObjectStorage, tmp_path: Path) -> None:
    source = a_file(tmp_path)
    key = "media/abc123/original.mp3"
    assert not await storage.exists(key)
    await storage.put_file(key, source, "audio/mpeg")
    assert await storage.exists(key)
    assert await read_back(storage, key, "audio/mpeg") == CONTENT
    await storage.delete(key)
    assert not await storage.exists(key)
    await storage.delete(key)  # deleting what is gone is no error


async def test_put_replaces_the_object(storage: ObjectStorage, tmp_path: Path) -> None:
    key = "media/abc123/thumb.jpg"
    await storage.put_file(key, a_file(tmp_path, b"first"), "image/jpeg")
    await storage.put_file(key, a_file(tmp_path, b"second"), "image/jpeg")
    assert await read_back(storage, key, "image/jpeg") == b"second"


async def test_put_growing_stores_what_arrives_meanwhile(
    storage: ObjectStorage, tmp_path: Path
) -> None:
    key = "media/g1/original.mp3"
    growing = GrowingFile(tmp_path / "upload")
    storing = asyncio.create_task(storage.put_growing(key, growing, "audio/mpeg"))
    for start in range(0, len(CONTENT), 4096):
        growing.append(CONTENT[start : start + 4096])
        await asyncio.sleep(0)
    growing.finish()
    await storing
    assert await read_back(storage, key, "audio/mpeg") == CONTENT


async def test_an_abandoned_upload_is_not_stored(storage: ObjectStorage, tmp_path: Path) -> None:
    key = "media/g2/original.mp3"
    growing = GrowingFile(tmp_path / "upload")
    storing = asyncio.create_task(storage.put_growing(key, growing, "audio/mpeg"))
    growing.append(CONTENT)
    growing.abandon()
    with pytest.raises(StorageError, match="abandoned"):
        await storing
    assert not await storage.exists(key)


@pytest.mark.parametrize("key", ESCAPING_KEYS)
async def test_keys_cannot_escape(storage: ObjectStorage, tmp_path: Path, key: str) -> None:
    with pytest.raises(StorageError, match="invalid object key"):
        await storage.put_file(key, a_file(tmp_path), "audio/mpeg")
    with pytest.raises(StorageError, match="invalid object key"):
        await storage.exists(key)
    with pytest.raises(StorageError, match="invalid object key"):
        await storage.delete(key)
    with pytest.raises(StorageError, match="invalid object key"):
        await storage.delivery(key, "audio/mpeg", "x.mp3", timedelta(minutes=1))


async def test_check_says_where(storage: ObjectStorage) -> None:
    detail = await storage.check()
    assert detail.startswith("local disk" if isinstance(storage, LocalStorage) else "s3 bucket")


async def test_delivery_gives_the_exact_bytes(
    storage: ObjectStorage, tmp_path: Path, s3_server: str
) -> None:
    source = a_file(tmp_path)
    await storage.put_file("media/d1/original.png", source, "image/png")
    delivery = await storage.delivery(
        "media/d1/original.png", "image/png", "d1.png", timedelta(minutes=5)
    )
    if isinstance(delivery, LocalFile):
        assert isinstance(storage, LocalStorage)
        assert delivery.path.is_relative_to(storage.root)
        assert delivery.path.read_bytes() == CONTENT
        assert delivery.content_type == "image/png"
        return
    assert isinstance(delivery, Redirect)
    assert delivery.url.startswith(f"http://{s3_server}/")  # with_s3 sets the public endpoint
    async with httpx.AsyncClient() as http:
        fetched = await http.get(delivery.url)
    assert fetched.status_code == 200
    assert fetched.content == CONTENT
    assert fetched.headers["content-type"] == "image/png"
    assert fetched.headers["content-disposition"] == 'inline; filename="d1.png"'


async def test_presigned_urls_name_the_public_endpoint(settings: Settings, s3_server: str) -> None:
    public = with_s3(settings, s3_server).model_copy(
        update={"s3_public_endpoint": "https://media.example.gov.vn"}
    )
    storage = S3Storage.from_settings(public)
    # No server answers at that name: presigning must not need one.
    delivery = await storage.delivery(
        "media/x/original.mp3", "audio/mpeg", "x.mp3", timedelta(seconds=60)
    )
    assert isinstance(delivery, Redirect)
    assert delivery.url.startswith("https://media.example.gov.vn/")
    assert "X-Amz-Expires=60" in delivery.url


async def test_unreachable_s3_is_reported(settings: Settings) -> None:
    storage = S3Storage.from_settings(with_s3(settings, "127.0.0.1:1"))
    with pytest.raises(StorageError, match=r"127\.0\.0\.1:1.*cannot reach the server"):
        await storage.check()


async def test_a_missing_bucket_is_reported(settings: Settings, s3_server: str) -> None:
    chosen = with_s3(settings, s3_server)
    storage = S3Storage.from_settings(chosen)
    with pytest.raises(StorageError, match=f"bucket {chosen.s3_bucket} does not exist"):
        await storage.check()
    await storage.ensure_ready()
    assert await storage.check() == f"s3 bucket {chosen.s3_bucket} at {s3_server}"


@pytest.mark.parametrize(
    "update",
    [
        {"s3_endpoint": "http://minio:9000"},
        {"s3_bucket": "Media_Bucket"},
        {"s3_public_endpoint": "localhost:9000"},
        {"s3_public_endpoint": "https://media.example.gov.vn/s3"},
        {"s3_public_endpoint": "http://localhost:port"},
    ],
)
def test_bad_s3_settings_are_named(settings: Settings, update: dict[str, str]) -> None:
    chosen = with_s3(settings, "127.0.0.1:9").model_copy(update=update)
    with pytest.raises(StorageError, match="NGUON_S3_"):
        S3Storage.from_settings(chosen)


def test_backend_is_chosen_by_settings(settings: Settings) -> None:
    assert isinstance(create_storage(settings), LocalStorage)
    assert isinstance(create_storage(with_s3(settings, "127.0.0.1:9")), S3Storage)
