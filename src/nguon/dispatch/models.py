from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Enum, ForeignKey, Integer, String, UniqueConstraint, func
from sqlalchemy.orm import Mapped, mapped_column

from nguon.kit.db import Base, UTCDateTime, utcnow


class DeliveryStatus(StrEnum):
    pending = "pending"  # recorded; the endpoint has not fetched it yet
    sent = "sent"
    acked = "acked"
    played = "played"
    failed = "failed"
    expired = "expired"
    revoked = "revoked"


# Deliveries that have ended: nothing plays them any more.
ENDED = (DeliveryStatus.revoked, DeliveryStatus.expired)


class Delivery(Base):
    """One bulletin for one endpoint: recorded in the transaction that puts the bulletin on air."""

    __tablename__ = "deliveries"
    __table_args__ = (UniqueConstraint("bulletin_id", "endpoint_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    bulletin_id: Mapped[str] = mapped_column(ForeignKey("bulletins.id", ondelete="CASCADE"))
    endpoint_id: Mapped[int] = mapped_column(
        ForeignKey("endpoints.id", ondelete="CASCADE"), index=True
    )
    revision: Mapped[int] = mapped_column(Integer)
    status: Mapped[DeliveryStatus] = mapped_column(
        Enum(
            DeliveryStatus,
            native_enum=False,
            length=16,
            create_constraint=True,
            name="delivery_status",
        ),
        index=True,
    )
    detail: Mapped[str | None] = mapped_column(String(500))
    # When the endpoint was last told of this delivery, and how often it has been told again;
    # the reconciler tells it once more when it stays unacknowledged (with backoff).
    driven_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    drives: Mapped[int] = mapped_column(Integer, default=0)
    # When the endpoint first had it (fetched in its playlist, or taken by its gateway) and
    # first confirmed it (a heartbeat on its playlist version, a gateway's 2xx, a play report):
    # how long an emergency took to reach everyone is measured from these.
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    acked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


# Deliveries the endpoint has not confirmed yet: the reconciler's concern.
UNACKNOWLEDGED = (DeliveryStatus.pending, DeliveryStatus.sent)
DELIVERED = frozenset({DeliveryStatus.sent, DeliveryStatus.acked, DeliveryStatus.played})
ACKNOWLEDGED = frozenset({DeliveryStatus.acked, DeliveryStatus.played})


def moving_to(status: DeliveryStatus, now: datetime) -> dict[str, Any]:
    """Column values of deliveries moving on to `status` in a bulk UPDATE: the first time
    each reached its endpoint, and was confirmed, is kept rather than moved."""
    values: dict[str, Any] = {"status": status, "updated_at": now}
    if status in DELIVERED:
        values["delivered_at"] = func.coalesce(Delivery.delivered_at, now)
    if status in ACKNOWLEDGED:
        values["acked_at"] = func.coalesce(Delivery.acked_at, now)
    return values


def move_to(delivery: Delivery, status: DeliveryStatus, now: datetime) -> None:
    """`moving_to` for one loaded delivery."""
    delivery.status = status
    if status in DELIVERED and delivery.delivered_at is None:
        delivery.delivered_at = now
    if status in ACKNOWLEDGED and delivery.acked_at is None:
        delivery.acked_at = now


class PlayOutcome(StrEnum):
    played = "played"  # played to the end
    interrupted = "interrupted"  # started, cut short (an emergency, a power cut)
    failed = "failed"  # could not be played (missing media, a device fault)


class Play(Base):
    """An as-run record from a device: proof that a bulletin played, kept for inspection."""

    __tablename__ = "plays"
    __table_args__ = (UniqueConstraint("endpoint_id", "client_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    endpoint_id: Mapped[int] = mapped_column(ForeignKey("endpoints.id", ondelete="CASCADE"))
    # The device's own id for the record, so that a backlog re-sent after an outage counts once.
    client_id: Mapped[str] = mapped_column(String(100))
    bulletin_id: Mapped[str] = mapped_column(
        ForeignKey("bulletins.id", ondelete="CASCADE"), index=True
    )
    revision: Mapped[int] = mapped_column(Integer)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    ended_at: Mapped[datetime] = mapped_column(UTCDateTime())
    outcome: Mapped[PlayOutcome] = mapped_column(
        Enum(PlayOutcome, native_enum=False, length=16, create_constraint=True, name="play_outcome")
    )
    received_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
