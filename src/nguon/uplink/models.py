from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Enum, ForeignKey, Index, Integer, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from nguon.kit.db import Base, UTCDateTime, utcnow


class UplinkKind(StrEnum):
    bulletin = "bulletin"  # a province bulletin marked for sharing went on air or off it
    report = "report"  # a day's statistics of the province


class UplinkStatus(StrEnum):
    pending = "pending"  # to be sent, or sent and to be retried
    sent = "sent"  # the central system answered 2xx
    failed = "failed"  # the central system refused it for good (a 4xx that means "never")


class UplinkMessage(Base):
    """What goes up to the central system, written in the transaction that causes it (the
    uplink's outbox) and retried until the central system takes it."""

    __tablename__ = "uplink_messages"
    __table_args__ = (
        # Each thing goes up once: a bulletin's revision, a day's report of an area.
        UniqueConstraint("kind", "subject"),
        # The sender's queue: only the messages still to be sent, by when they are due.
        Index(
            "ix_uplink_messages_due",
            "next_attempt_at",
            postgresql_where=text("status = 'pending'"),
            sqlite_where=text("status = 'pending'"),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[UplinkKind] = mapped_column(
        Enum(UplinkKind, native_enum=False, length=16, create_constraint=True, name="uplink_kind")
    )
    subject: Mapped[str] = mapped_column(String(100))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[UplinkStatus] = mapped_column(
        Enum(
            UplinkStatus, native_enum=False, length=16, create_constraint=True, name="uplink_status"
        )
    )
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_error: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class UplinkAttempt(Base):
    """One POST of a message to the central system, whatever came of it."""

    __tablename__ = "uplink_attempts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    message_id: Mapped[int] = mapped_column(
        ForeignKey("uplink_messages.id", ondelete="CASCADE"), index=True
    )
    attempted_at: Mapped[datetime] = mapped_column(UTCDateTime())
    status_code: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(String(500))
    duration_ms: Mapped[int] = mapped_column(Integer)
