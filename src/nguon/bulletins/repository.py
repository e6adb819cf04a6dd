import base64
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, and_, literal, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from nguon.areas.levels import AreaLevel
from nguon.bulletins.enums import ON_AIR, BulletinKind, BulletinStatus, Category, Priority
from nguon.bulletins.models import Bulletin, BulletinRevision
from nguon.dispatch.repository import given_to_play
from nguon.identity.principal import Principal
from nguon.kit.errors import InvalidInput
from nguon.kit.schemas import pattern
from nguon.kit.text import fold


@dataclass(frozen=True, slots=True)
class BulletinFilter:
    status: BulletinStatus | None = None
    statuses: frozenset[BulletinStatus] | None = None  # any of these
    kind: BulletinKind | None = None
    priority: Priority | None = None
    level: AreaLevel | None = None
    area_path: str | None = None  # origin within this subtree
    language: str | None = None
    category: Category | None = None
    text: str | None = None


# What `encode_cursor` gives: unpadded URL-safe base64.
CURSOR_PATTERN = pattern(r"^[A-Za-z0-9_-]{1,200}$", "a next_cursor from an earlier page")


def encode_cursor(bulletin: Bulletin) -> str:
    raw = json.dumps([bulletin.created_at.isoformat(), bulletin.id])
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        created, bulletin_id = json.loads(raw)
        return datetime.fromisoformat(created), str(bulletin_id)
    except (ValueError, TypeError) as exc:
        raise InvalidInput("The cursor is not one this hub gave out.") from exc


@dataclass(frozen=True, slots=True)
class Viewer:
    """Whose sight a read keeps to: a caller in an area, or an endpoint's key."""

    area_path: str
    endpoint_id: int | None = None

    @classmethod
    def of(cls, principal: Principal) -> "Viewer":
        return cls(principal.area.path, principal.endpoint_id)


def visible_to(viewer: Viewer) -> ColumnElement[bool]:
    """People and systems see the bulletins from their area or below it, and from the areas
    above it. An endpoint sees only what it was given to play, while the working content is
    the approved one: never a draft, nor a bulletin revoked, expired or being edited (it plays
    the approved revision from its playlist meanwhile)."""
    if viewer.endpoint_id is not None:
        return and_(Bulletin.status.in_(ON_AIR), Bulletin.id.in_(given_to_play(viewer.endpoint_id)))
    return or_(
        Bulletin.origin_area_path.startswith(viewer.area_path, autoescape=True),
        literal(viewer.area_path).startswith(Bulletin.origin_area_path),
    )


class BulletinRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(
        self, bulletin_id: str, *, for_update: bool = False, viewer: Viewer | None = None
    ) -> Bulletin | None:
        statement = select(Bulletin).where(Bulletin.id == bulletin_id)
        if viewer is not None:
            statement = statement.where(visible_to(viewer))
        if for_update:
            statement = statement.with_for_update()
        return (await self.session.scalars(statement)).first()

    async def add(self, bulletin: Bulletin) -> None:
        self.session.add(bulletin)
        await self.session.flush()

    async def add_revision(self, revision: BulletinRevision) -> None:
        self.session.add(revision)
        await self.session.flush()

    async def revisions(self, bulletin_ids: Sequence[str]) -> Sequence[BulletinRevision]:
        """Every approved revision of these bulletins, each bulletin's oldest first."""
        result = await self.session.scalars(
            select(BulletinRevision)
            .where(BulletinRevision.bulletin_id.in_(bulletin_ids))
            .order_by(BulletinRevision.bulletin_id, BulletinRevision.number)
        )
        return result.all()

    async def translations(self, original_id: str, viewer: Viewer) -> Sequence[Bulletin]:
        """The bulletins that translate `original_id` and that the viewer may see, oldest first."""
        result = await self.session.scalars(
            select(Bulletin)
            .where(Bulletin.translation_of == original_id, visible_to(viewer))
            .order_by(Bulletin.created_at, Bulletin.id)
        )
        return result.all()

    async def search(
        self, viewer: Viewer, query: BulletinFilter, limit: int, cursor: str | None
    ) -> Sequence[Bulletin]:
        statement = select(Bulletin).where(visible_to(viewer))
        for column, value in (
            (Bulletin.status, query.status),
            (Bulletin.kind, query.kind),
            (Bulletin.priority, query.priority),
            (Bulletin.level, query.level),
            (Bulletin.language, query.language),
            (Bulletin.category, query.category),
        ):
            if value is not None:
                statement = statement.where(column == value)
        if query.statuses is not None:
            statement = statement.where(Bulletin.status.in_(query.statuses))
        if query.area_path:
            statement = statement.where(
                Bulletin.origin_area_path.startswith(query.area_path, autoescape=True)
            )
        for word in fold(query.text or "").split():
            statement = statement.where(Bulletin.search_text.contains(word, autoescape=True))
        if cursor:
            created, last_id = decode_cursor(cursor)
            statement = statement.where(
                or_(
                    Bulletin.created_at < created,
                    and_(Bulletin.created_at == created, Bulletin.id < last_id),
                )
            )
        statement = statement.order_by(Bulletin.created_at.desc(), Bulletin.id.desc()).limit(limit)
        return (await self.session.scalars(statement)).all()

    async def due_for_expiry(self, now: datetime) -> Sequence[Bulletin]:
        result = await self.session.scalars(
            select(Bulletin).where(
                Bulletin.valid_until <= now,
                or_(Bulletin.status.in_(ON_AIR), Bulletin.on_air_revision.is_not(None)),
                Bulletin.status != BulletinStatus.revoked,
            )
        )
        return result.all()

    async def due_for_publication(self, now: datetime) -> Sequence[Bulletin]:
        result = await self.session.scalars(
            select(Bulletin).where(
                Bulletin.status == BulletinStatus.scheduled, Bulletin.valid_from <= now
            )
        )
        return result.all()
