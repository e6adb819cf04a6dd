from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    Enum,
    Index,
    Integer,
    String,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from nguon.kit.db import Base, UTCDateTime, utcnow
from nguon.kit.notices import NoticeStatus

# The schedule of provinces whose regulation sets none of their own (002 Điều 18).
DEFAULT_PROVINCE = "default"


class ReportSchedule(Base):
    """One periodic report of a province's year: the days its figures cover and the days its
    units and its department report before. Kept as data, per province: the regulations set
    different ones (002 Điều 18, 000/004 Điều 15 half-yearly; 001 Điều 14 yearly)."""

    __tablename__ = "report_schedules"
    __table_args__ = (UniqueConstraint("province_code", "period"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # A province's code, or DEFAULT_PROVINCE; a province with rows of its own uses only those.
    province_code: Mapped[str] = mapped_column(String(16))
    # The period id's suffix: `2026-H1`, `2026-H2`, `2026-Y`.
    period: Mapped[str] = mapped_column(String(8))
    # The first day of the figures, in the report's year or (Lai Châu) the year before.
    starts_previous_year: Mapped[bool] = mapped_column(Boolean)
    starts_month: Mapped[int] = mapped_column(Integer)
    starts_day: Mapped[int] = mapped_column(Integer)
    # The last day of the figures, included, in the report's year.
    ends_month: Mapped[int] = mapped_column(Integer)
    ends_day: Mapped[int] = mapped_column(Integer)
    # Communes and districts report before this day of the report's year ("trước ngày 20/6").
    units_due_month: Mapped[int] = mapped_column(Integer)
    units_due_day: Mapped[int] = mapped_column(Integer)
    # The department (the province) reports before this day.
    department_due_month: Mapped[int] = mapped_column(Integer)
    department_due_day: Mapped[int] = mapped_column(Integer)
    # Which outline the narrative follows (`nguon.reports.outlines`).
    outline: Mapped[str] = mapped_column(String(32))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


class ReportNarrative(Base):
    """What a person writes into an area's report for a period: its outline's sections."""

    __tablename__ = "report_narratives"
    __table_args__ = (UniqueConstraint("area_code", "period"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    area_code: Mapped[str] = mapped_column(String(16))
    period: Mapped[str] = mapped_column(String(16))
    sections: Mapped[dict[str, str]] = mapped_column(JSON)
    updated_by: Mapped[str] = mapped_column(String(200))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


class ReportReminder(Base):
    """An area reminded of a report due soon: written once per area and period by the worker,
    and sent to the department's webhook as the incident notices are (`nguon.kit.notices`)."""

    __tablename__ = "report_reminders"
    __table_args__ = (
        UniqueConstraint("area_code", "period"),
        Index(
            "ix_report_reminders_due",
            "next_attempt_at",
            postgresql_where=text("status = 'pending'"),
            sqlite_where=text("status = 'pending'"),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    area_code: Mapped[str] = mapped_column(String(16))
    period: Mapped[str] = mapped_column(String(16))
    due_before: Mapped[date] = mapped_column(Date)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[NoticeStatus] = mapped_column(
        Enum(
            NoticeStatus,
            native_enum=False,
            length=16,
            create_constraint=True,
            name="report_reminder_status",
        )
    )
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_error: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
