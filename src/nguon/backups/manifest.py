"""What a backup holds: the manifest, written last, so a backup without one is incomplete."""

import hashlib
from datetime import datetime
from pathlib import Path
from typing import Literal

from pydantic import BaseModel

MANIFEST = "manifest.json"
# Parts of a backup: the database dump, and every media object under its own key.
OBJECT_PREFIX = "objects/"
DATABASE_PARTS = {"postgresql": "database.pgdump", "sqlite": "database.sqlite3"}


class Part(BaseModel):
    name: str
    size: int
    sha256: str


class Manifest(BaseModel):
    backup_id: str
    created_at: datetime
    hub_version: str
    alembic_revision: str | None
    database_backend: Literal["postgresql", "sqlite"]
    parts: list[Part]

    @property
    def size(self) -> int:
        return sum(part.size for part in self.parts)

    @property
    def database_part(self) -> Part:
        name = DATABASE_PARTS[self.database_backend]
        return next(part for part in self.parts if part.name == name)

    @property
    def object_parts(self) -> list[Part]:
        return [part for part in self.parts if part.name.startswith(OBJECT_PREFIX)]


def digest(path: Path) -> Part:
    """The part a file makes: its size and SHA-256, read in chunks (dumps can be large)."""
    with path.open("rb") as source:
        sha256 = hashlib.file_digest(source, "sha256").hexdigest()
    return Part(name=path.name, size=path.stat().st_size, sha256=sha256)
