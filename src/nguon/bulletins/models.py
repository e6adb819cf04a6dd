from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Enum, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from nguon.areas.levels import AreaLevel
from nguon.bulletins.enums import BulletinKind, BulletinStatus, Category, Priority
from nguon.kit.db import Base, UTCDateTime, utcnow


def _enum(enum: type, name: str) -> Enum:
    return Enum(enum, native_enum=False, length=32, create_constraint=True, name=name)


class Bulletin(Base):
    """A bulletin: its working content (the latest revision) and where it stands.

    When a published bulletin is edited the working content moves ahead to a new revision while
    `on_air_revision` keeps naming the approved snapshot that endpoints play until then.
    """

    __tablename__ = "bulletins"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    title: Mapped[str] = mapped_column(String(300))
    kind: Mapped[BulletinKind] = mapped_column(_enum(BulletinKind, "bulletin_kind"))
    body: Mapped[str | None] = mapped_column(Text)
    language: Mapped[str] = mapped_column(String(35), index=True)
    category: Mapped[Category] = mapped_column(_enum(Category, "bulletin_category"))
    priority: Mapped[Priority] = mapped_column(_enum(Priority, "bulletin_priority"))
    sensitive: Mapped[bool] = mapped_column(Boolean)
    valid_from: Mapped[datetime] = mapped_column(UTCDateTime())
    valid_until: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    schedule: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    contributor: Mapped[str | None] = mapped_column(String(200))
    # A CAP Test or Exercise from the central system: it flows end to end, marked so on every
    # endpoint, and is never counted with real alerts.
    exercise: Mapped[bool] = mapped_column(Boolean, default=False)
    # A province bulletin the central source system is also sent (each revision on air, and
    # its withdrawal).
    share_with_central: Mapped[bool] = mapped_column(Boolean, default=False)
    # An ad hoc or important-event posting: e-boards play it at its times even with their
    # windows closed (002 Điều 10.2, 001 Điều 8.2); set by editors only.
    outside_windows: Mapped[bool] = mapped_column(Boolean, default=False)
    # An editor sent it to appraisal: approval waits for it, as for a sensitive bulletin.
    appraisal_requested: Mapped[bool] = mapped_column(Boolean, default=False)
    translation_of: Mapped[str | None] = mapped_column(
        ForeignKey("bulletins.id", ondelete="SET NULL"), index=True
    )
    targets: Mapped[list[str]] = mapped_column(JSON)
    media: Mapped[list[str]] = mapped_column(JSON)
    # Subtitle files for its video(s): [{"media": id, "language": tag, "video": id or null}].
    subtitles: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)

    status: Mapped[BulletinStatus] = mapped_column(
        _enum(BulletinStatus, "bulletin_status"), index=True
    )
    level: Mapped[AreaLevel] = mapped_column(_enum(AreaLevel, "bulletin_level"))
    origin_area_id: Mapped[int] = mapped_column(ForeignKey("areas.id", ondelete="RESTRICT"))
    # The origin area's code and path, kept here so that answers and scope filters need no join.
    origin_area_code: Mapped[str] = mapped_column(String(16))
    origin_area_path: Mapped[str] = mapped_column(String(400), index=True)
    revision: Mapped[int] = mapped_column(Integer)
    on_air_revision: Mapped[int | None] = mapped_column(Integer)
    search_text: Mapped[str] = mapped_column(Text)

    created_by: Mapped[str] = mapped_column(String(200))
    appraised_by: Mapped[str | None] = mapped_column(String(200))
    decided_by: Mapped[str | None] = mapped_column(String(200))
    reason: Mapped[str | None] = mapped_column(String(1000))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


class BulletinRevision(Base):
    """The content of a revision as approved: what endpoints play."""

    __tablename__ = "bulletin_revisions"
    __table_args__ = (UniqueConstraint("bulletin_id", "number"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    bulletin_id: Mapped[str] = mapped_column(ForeignKey("bulletins.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    content: Mapped[dict[str, Any]] = mapped_column(JSON)
    approved_by: Mapped[str] = mapped_column(String(200))
    approved_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
