"""Where backups are kept: `<data_dir>/backups/` or an S3 bucket and prefix, both through the
object storage of `nguon.kit.storage`, so a backup is a set of objects under its id."""

import asyncio
import shutil
from pathlib import Path

from nguon.backups.manifest import MANIFEST, Manifest
from nguon.kit.s3 import S3Storage
from nguon.kit.settings import Settings
from nguon.kit.storage import LocalStorage, ObjectStorage

PART_TYPE = "application/octet-stream"


class BackupStore:
    def __init__(self, storage: ObjectStorage, prefix: str, where: str) -> None:
        self.storage = storage
        self.prefix = prefix
        self.where = where

    @classmethod
    def from_settings(cls, settings: Settings) -> "BackupStore":
        if settings.backup_s3_bucket:
            bucket = settings.model_copy(update={"s3_bucket": settings.backup_s3_bucket})
            storage = S3Storage.from_settings(bucket)
            prefix = f"{settings.backup_s3_prefix}/"
            where = f"s3 bucket {settings.backup_s3_bucket}/{prefix}"
            return cls(storage, prefix, where)
        root = settings.data_dir / "backups"
        return cls(LocalStorage(root), "", str(root))

    def key(self, backup_id: str, name: str) -> str:
        return f"{self.prefix}{backup_id}/{name}"

    async def put(self, backup_id: str, name: str, source: Path) -> None:
        await self.storage.put_file(self.key(backup_id, name), source, PART_TYPE)

    async def get(self, backup_id: str, name: str, target: Path) -> bool:
        """Copy a part into `target`; False when the backup has no such part."""
        key = self.key(backup_id, name)
        if not await self.storage.exists(key):
            return False
        await self.storage.get_file(key, target)
        return True

    async def write_manifest(self, manifest: Manifest, scratch: Path) -> None:
        path = scratch / MANIFEST
        await asyncio.to_thread(path.write_text, manifest.model_dump_json(indent=2))
        await self.put(manifest.backup_id, MANIFEST, path)

    async def manifest(self, backup_id: str, scratch: Path) -> Manifest | None:
        path = scratch / MANIFEST
        if not await self.get(backup_id, MANIFEST, path):
            return None
        return Manifest.model_validate_json(await asyncio.to_thread(path.read_bytes))

    async def backup_ids(self) -> list[str]:
        """Every complete backup (one with a manifest), oldest first: ids sort by time."""
        found = await self.storage.objects(self.prefix)
        ids = {
            stored.key.removeprefix(self.prefix).split("/", 1)[0]
            for stored in found
            if stored.key.endswith(f"/{MANIFEST}")
        }
        return sorted(ids)

    async def delete(self, backup_id: str) -> None:
        for stored in await self.storage.objects(self.key(backup_id, "")):
            await self.storage.delete(stored.key)
        if isinstance(self.storage, LocalStorage):  # and the directories the parts were in
            await asyncio.to_thread(
                shutil.rmtree, self.storage.path_of(backup_id), ignore_errors=True
            )
