from datetime import datetime
from enum import StrEnum

from sqlalchemy import Enum, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from nguon.kit.db import Base, UTCDateTime, utcnow


class SpeechStatus(StrEnum):
    ready = "ready"  # the MP3 is stored; radios get it
    no_voice = "no_voice"  # the engine speaks no such language (or speech is off)
    failed = "failed"  # the engine erred or timed out; making it again may succeed


class BulletinSpeech(Base):
    """The spoken rendition of one revision of a bulletin in one language: the title, then
    the body, read by the speech engine, as a broadcast MP3 stored as media."""

    __tablename__ = "bulletin_speech"
    __table_args__ = (
        UniqueConstraint("bulletin_id", "revision", "language"),
        # What the same text read by the same voice found before: its MP3 is used again.
        Index("ix_bulletin_speech_spoken", "text_sha256", "language", "engine", "voice"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    bulletin_id: Mapped[str] = mapped_column(ForeignKey("bulletins.id", ondelete="CASCADE"))
    revision: Mapped[int] = mapped_column(Integer)
    language: Mapped[str] = mapped_column(String(35))
    status: Mapped[SpeechStatus] = mapped_column(
        Enum(
            SpeechStatus, native_enum=False, length=16, create_constraint=True, name="speech_status"
        )
    )
    detail: Mapped[str] = mapped_column(String(1000))
    engine: Mapped[str] = mapped_column(String(32))
    voice: Mapped[str | None] = mapped_column(String(100))
    text_sha256: Mapped[str] = mapped_column(String(64))
    media_id: Mapped[str | None] = mapped_column(ForeignKey("media.id", ondelete="RESTRICT"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
