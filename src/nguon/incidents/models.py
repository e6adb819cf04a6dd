from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Enum, ForeignKey, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from nguon.kit.db import Base, UTCDateTime, utcnow

# Where it was first defined; kept importable from here.
from nguon.kit.notices import NoticeStatus as NoticeStatus


class IncidentKind(StrEnum):
    power = "power"
    technical = "technical"
    cyber = "cyber"


class Severity(StrEnum):
    low = "low"
    medium = "medium"
    high = "high"
    critical = "critical"


class IncidentStatus(StrEnum):
    open = "open"  # reported, nobody has taken it yet
    acknowledged = "acknowledged"  # someone is on it
    escalated = "escalated"  # passed up (to the department's leaders, the vendor, the police)
    resolved = "resolved"


class TimelineEvent(StrEnum):
    opened = "opened"
    acknowledged = "acknowledged"
    escalated = "escalated"
    resolved = "resolved"
    note = "note"


def _enum(kind: type[StrEnum], name: str) -> Enum:
    return Enum(kind, native_enum=False, length=16, create_constraint=True, name=name)


class Incident(Base):
    """Something that stops or threatens the hub's service, from report to resolution."""

    __tablename__ = "incidents"
    __table_args__ = (
        # One open incident per cause the hub watches (an endpoint offline, a device fault, an
        # account locked, the audit chain broken): a pass that finds it again adds nothing.
        Index(
            "ix_incidents_open_cause",
            "cause",
            unique=True,
            postgresql_where=text("status != 'resolved' AND cause IS NOT NULL"),
            sqlite_where=text("status != 'resolved' AND cause IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[IncidentKind] = mapped_column(_enum(IncidentKind, "incident_kind"))
    severity: Mapped[Severity] = mapped_column(_enum(Severity, "incident_severity"))
    status: Mapped[IncidentStatus] = mapped_column(
        _enum(IncidentStatus, "incident_status"), index=True
    )
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    # The narrowest area holding everything concerned: whose people see and handle it.
    area_code: Mapped[str] = mapped_column(String(16))
    area_path: Mapped[str] = mapped_column(String(400), index=True)
    endpoint_codes: Mapped[list[str]] = mapped_column(JSON)
    area_codes: Mapped[list[str]] = mapped_column(JSON)
    # What the hub opened it for ("offline:<endpoint id>", ...); None when a person did.
    cause: Mapped[str | None] = mapped_column(String(100))
    opened_by: Mapped[str] = mapped_column(String(200))
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
    timeline: Mapped[list["IncidentEntry"]] = relationship(
        lazy="raise", order_by="IncidentEntry.id", cascade="all, delete-orphan"
    )


class IncidentEntry(Base):
    """One step of an incident's timeline: who did what, when, and why."""

    __tablename__ = "incident_entries"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    incident_id: Mapped[int] = mapped_column(
        ForeignKey("incidents.id", ondelete="CASCADE"), index=True
    )
    event: Mapped[TimelineEvent] = mapped_column(_enum(TimelineEvent, "incident_event"))
    actor: Mapped[str] = mapped_column(String(200))
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    note: Mapped[str] = mapped_column(Text, default="")


class IncidentNotice(Base):
    """What the department's system is told: an incident opened or resolved, written in the
    transaction that opens or resolves it and retried until the department takes it."""

    __tablename__ = "incident_notices"
    __table_args__ = (
        # Exactly once per incident opened and once when resolved.
        UniqueConstraint("incident_id", "event"),
        Index(
            "ix_incident_notices_due",
            "next_attempt_at",
            postgresql_where=text("status = 'pending'"),
            sqlite_where=text("status = 'pending'"),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    incident_id: Mapped[int] = mapped_column(
        ForeignKey("incidents.id", ondelete="CASCADE"), index=True
    )
    event: Mapped[TimelineEvent] = mapped_column(_enum(TimelineEvent, "incident_notice_event"))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[NoticeStatus] = mapped_column(_enum(NoticeStatus, "incident_notice_status"))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_error: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
