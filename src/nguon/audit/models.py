from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, Enum, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from nguon.kit.db import Base, UTCDateTime

# SQLite only autoincrements an INTEGER PRIMARY KEY.
ID_TYPE = BigInteger().with_variant(Integer(), "sqlite")


class AuditRecord(Base):
    """One state-changing action. Append-only: each record carries the keyed hash (HMAC) of the
    one before it, so an edited or deleted record breaks the chain at that point, and nobody
    without the hub's secret can write a chain that verifies."""

    __tablename__ = "audit_records"

    id: Mapped[int] = mapped_column(ID_TYPE, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    actor: Mapped[str] = mapped_column(String(200), index=True)
    actor_area_path: Mapped[str | None] = mapped_column(String(400))
    action: Mapped[str] = mapped_column(String(200), index=True)
    target: Mapped[str | None] = mapped_column(String(500))
    outcome: Mapped[str] = mapped_column(String(16))
    status: Mapped[int | None] = mapped_column(Integer)
    request_id: Mapped[str | None] = mapped_column(String(64))
    client: Mapped[str | None] = mapped_column(String(64))
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class AuditCheckpoint(Base):
    """How far the chain reached at some moment, under the hub's key: a chain that ends before
    its newest checkpoint lost its newest records. No foreign key: deleting the records it
    names must leave it behind as evidence."""

    __tablename__ = "audit_checkpoints"

    id: Mapped[int] = mapped_column(ID_TYPE, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    record_id: Mapped[int] = mapped_column(BigInteger)
    record_hash: Mapped[str] = mapped_column(String(64))
    mac: Mapped[str] = mapped_column(String(64))


class AuditCheckStatus(StrEnum):
    running = "running"
    intact = "intact"
    broken = "broken"
    failed = "failed"  # the check itself could not finish (the database went away, a crash)


class AuditCheck(Base):
    """One verification of the whole chain, by a worker's schedule or `nguon audit verify`.
    The newest row tells every worker whether a check is due, so a hub with many workers
    walks the chain once an interval, not once per worker; a running row whose lease ran out
    belongs to a process that stopped."""

    __tablename__ = "audit_checks"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    trigger: Mapped[str] = mapped_column(String(32))  # "schedule" or "cli"
    status: Mapped[AuditCheckStatus] = mapped_column(
        Enum(
            AuditCheckStatus,
            native_enum=False,
            length=16,
            create_constraint=True,
            name="audit_check_status",
        )
    )
    started_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    lease_until: Mapped[datetime] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    records: Mapped[int | None] = mapped_column(BigInteger)
    breaks: Mapped[int | None] = mapped_column(Integer)
    detail: Mapped[str | None] = mapped_column(String(1000))
