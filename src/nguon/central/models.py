"""What the central source system sent: its CAP alerts, and the signatures already used."""

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from nguon.kit.db import Base, UTCDateTime, utcnow


class CentralAlert(Base):
    """One CAP message taken from the central system, and the bulletins it put on air.

    CAP names a message by (sender, identifier, sent), compared as written: the same three
    sent again are a duplicate, and Update and Cancel messages reference their original by
    them. An Update or Cancel never edits the original; it ends the bulletins of the latest
    message of the original's chain (following `ended_by_id`), whichever of it is referenced."""

    __tablename__ = "central_alerts"
    __table_args__ = (UniqueConstraint("sender", "identifier", "sent_text"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    sender: Mapped[str] = mapped_column(String(255))
    identifier: Mapped[str] = mapped_column(String(255))
    sent_text: Mapped[str] = mapped_column(String(40))
    sent: Mapped[datetime] = mapped_column(UTCDateTime())
    msg_type: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16))
    references: Mapped[list[str]] = mapped_column(JSON)  # "sender,identifier,sent" each
    # The latest `expires` of its infos; None when they set none (the hub's default applies).
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    bulletin_ids: Mapped[list[str]] = mapped_column(JSON)
    # Set once a later Update or Cancel ended this alert's bulletins.
    ended_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("central_alerts.id", ondelete="SET NULL")
    )
    key_id: Mapped[int] = mapped_column(Integer)  # the central key that sent it
    received_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class UsedSignature(Base):
    """A signature the hub has accepted: the same one again is a replay. Kept a little longer
    than the timestamp tolerance, after which the timestamp alone refuses it."""

    __tablename__ = "central_signatures"
    __table_args__ = (Index("ix_central_signatures_received_at", "received_at"),)

    signature: Mapped[str] = mapped_column(String(64), primary_key=True)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
