import hashlib
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, BigInteger, Enum, ForeignKey, Index, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column

from nguon.dispatch.events import EndpointEventType
from nguon.kit.db import Base, UTCDateTime, utcnow


class NotificationStatus(StrEnum):
    pending = "pending"  # to be sent, or sent and to be retried
    delivered = "delivered"  # the gateway answered 2xx
    failed = "failed"  # the gateway refused it (4xx), or the endpoint no longer takes pushes
    expired = "expired"  # what it announced ended before the gateway took it


class Notification(Base):
    """One endpoint event for one endpoint with a push URL, retried until the gateway takes it."""

    __tablename__ = "push_notifications"
    __table_args__ = (
        # The pusher's queue: only the notifications still to be sent, by when they are due.
        Index(
            "ix_push_notifications_due",
            "next_attempt_at",
            postgresql_where=text("status = 'pending'"),
            sqlite_where=text("status = 'pending'"),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    endpoint_id: Mapped[int] = mapped_column(
        ForeignKey("endpoints.id", ondelete="CASCADE"), index=True
    )
    event_id: Mapped[int] = mapped_column(BigInteger)
    # What the notification announces, so that the same thing announced again (the reconciler
    # re-driving a delivery) is not a second notification.
    dedupe_key: Mapped[str] = mapped_column(String(200), unique=True)
    type: Mapped[EndpointEventType] = mapped_column(
        Enum(
            EndpointEventType,
            native_enum=False,
            length=16,
            create_constraint=True,
            name="notification_type",
        )
    )
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[NotificationStatus] = mapped_column(
        Enum(
            NotificationStatus,
            native_enum=False,
            length=16,
            create_constraint=True,
            name="notification_status",
        )
    )
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_error: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    @property
    def public_id(self) -> str:
        """The id gateways see: the same on every retry, and derived from what is announced
        rather than from a row number that a restored database could give out again."""
        return hashlib.sha256(self.dedupe_key.encode()).hexdigest()[:32]


class NotificationAttempt(Base):
    """One POST of a notification and what came of it."""

    __tablename__ = "push_attempts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    notification_id: Mapped[int] = mapped_column(
        ForeignKey("push_notifications.id", ondelete="CASCADE"), index=True
    )
    attempted_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    status_code: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(String(500))
    duration_ms: Mapped[int] = mapped_column(Integer)
