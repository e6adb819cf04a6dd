"""Both storage backends keep the same contract (S3 is a real S3 API server, moto)."""

from datetime import timedelta
from pathlib import Path

import httpx
import pytest

from nguon.kit.s3 import S3Storage
from nguon.kit.settings import Settings
from nguon.kit.storage import (
    LocalFile,
    LocalStorage,
    ObjectStorage,
    Redirect,
    StorageError,
    create_storage,
)
from tests.conftest import with_s3


@pytest.fixture(params=["local", "s3"])
async def storage(
    request: pytest.FixtureRequest, settings: Settings, s3_server: str
) -> ObjectStorage:
    chosen = with_s3(settings, s3_server) if request.param == "s3" else settings
    backend = create_storage(chosen)
    await backend.ensure_ready()
    return backend


def a_file(tmp_path: Path, content: bytes = b"\x00\x01 bulletin audio \xff" * 1000) -> Path:
    path = tmp_path / "source.bin"
    path.write_bytes(content)
    return path


async def test_put_exists_delete(storage: ObjectStorage, tmp_path: Path) -> None:
    source = a_file(tmp_path)
    key = "media/abc123/original.mp3"
    assert not await storage.exists(key)
    await storage.put_file(key, source, "audio/mpeg")
    assert await storage.exists(key)
    await storage.delete(key)
    assert not await storage.exists(key)
    await storage.delete(key)  # deleting what is gone is no error


@pytest.mark.parametrize("key", ["../x", "/etc/passwd", "a/../../b", "A B", "media//x", ""])
async def test_keys_cannot_escape(storage: ObjectStorage, tmp_path: Path, key: str) -> None:
    with pytest.raises(StorageError):
        await storage.put_file(key, a_file(tmp_path), "audio/mpeg")


async def test_check_says_where(storage: ObjectStorage) -> None:
    detail = await storage.check()
    assert detail.startswith("local disk" if isinstance(storage, LocalStorage) else "s3 bucket")


async def test_delivery_gives_the_exact_bytes(storage: ObjectStorage, tmp_path: Path) -> None:
    source = a_file(tmp_path)
    await storage.put_file("media/d1/original.png", source, "image/png")
    delivery = await storage.delivery(
        "media/d1/original.png", "image/png", "d1.png", timedelta(minutes=5)
    )
    if isinstance(delivery, LocalFile):
        assert delivery.path.read_bytes() == source.read_bytes()
        assert delivery.path.is_relative_to(storage.root)  # type: ignore[attr-defined]
        return
    assert isinstance(delivery, Redirect)
    async with httpx.AsyncClient() as http:
        fetched = await http.get(delivery.url)
    assert fetched.status_code == 200
    assert fetched.content == source.read_bytes()
    assert fetched.headers["content-type"] == "image/png"


async def test_presigned_urls_name_the_public_endpoint(settings: Settings, s3_server: str) -> None:
    public = with_s3(settings, s3_server).model_copy(
        update={"s3_public_endpoint": "https://media.example.gov.vn"}
    )
    storage = S3Storage.from_settings(public)
    delivery = await storage.delivery(
        "media/x/original.mp3", "audio/mpeg", "x.mp3", timedelta(seconds=60)
    )
    assert isinstance(delivery, Redirect)
    assert delivery.url.startswith("https://media.example.gov.vn/")
    assert "X-Amz-Expires=" in delivery.url


async def test_unreachable_s3_is_reported(settings: Settings) -> None:
    storage = S3Storage.from_settings(with_s3(settings, "127.0.0.1:1"))
    with pytest.raises(StorageError, match=r"127\.0\.0\.1:1"):
        await storage.check()


def test_backend_is_chosen_by_settings(settings: Settings) -> None:
    assert isinstance(create_storage(settings), LocalStorage)
    assert isinstance(create_storage(with_s3(settings, "127.0.0.1:9")), S3Storage)
