from datetime import datetime

from sqlalchemy import BigInteger, Enum, Float, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from nguon.kit.db import Base, UTCDateTime, utcnow
from nguon.media.kinds import MediaKind


class MediaObject(Base):
    """An uploaded file, stored once per content (sha256), with its renditions."""

    __tablename__ = "media"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64), unique=True)
    size: Mapped[int] = mapped_column(BigInteger)
    content_type: Mapped[str] = mapped_column(String(100))
    kind: Mapped[MediaKind] = mapped_column(
        Enum(MediaKind, native_enum=False, length=16, create_constraint=True, name="media_kind")
    )
    duration_s: Mapped[float | None] = mapped_column(Float)
    width: Mapped[int | None] = mapped_column(Integer)
    height: Mapped[int | None] = mapped_column(Integer)
    original_name: Mapped[str | None] = mapped_column(String(255))
    storage_key: Mapped[str] = mapped_column(String(200))
    uploaded_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    renditions: Mapped[list["MediaRendition"]] = relationship(
        lazy="raise", cascade="all, delete-orphan", order_by="MediaRendition.name"
    )
    subtitle_tracks: Mapped[list["MediaSubtitleTrack"]] = relationship(
        lazy="raise", cascade="all, delete-orphan", order_by="MediaSubtitleTrack.stream_index"
    )


class MediaRendition(Base):
    """A derived file: the broadcast MP3 of an audio upload, the thumbnail of an image."""

    __tablename__ = "media_renditions"
    __table_args__ = (UniqueConstraint("media_id", "name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    media_id: Mapped[str] = mapped_column(ForeignKey("media.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(32))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    storage_key: Mapped[str] = mapped_column(String(200))
    duration_s: Mapped[float | None] = mapped_column(Float)
    width: Mapped[int | None] = mapped_column(Integer)
    height: Mapped[int | None] = mapped_column(Integer)


class MediaSubtitleTrack(Base):
    """A subtitle stream inside an uploaded video, found at upload: a display selects it by
    its stream index."""

    __tablename__ = "media_subtitle_tracks"
    __table_args__ = (UniqueConstraint("media_id", "stream_index"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    media_id: Mapped[str] = mapped_column(ForeignKey("media.id", ondelete="CASCADE"), index=True)
    stream_index: Mapped[int] = mapped_column(Integer)
    codec: Mapped[str] = mapped_column(String(32))
    # As the container names it (ISO 639-2 in MP4 and Matroska: `vie`, `eng`); None for none.
    language: Mapped[str | None] = mapped_column(String(35))
