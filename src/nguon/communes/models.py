from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from nguon.kit.db import Base, UTCDateTime, utcnow


class ChairOrder(Base):
    """The commune chair's place for a priority bulletin that collides with the commune's own
    priority items (Decision 002, Điều 8.2)."""

    __tablename__ = "commune_orders"
    __table_args__ = (UniqueConstraint("area_id", "bulletin_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    area_id: Mapped[int] = mapped_column(ForeignKey("areas.id", ondelete="CASCADE"))
    bulletin_id: Mapped[str] = mapped_column(
        ForeignKey("bulletins.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(Integer)
    set_by: Mapped[str] = mapped_column(String(200))
    set_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class ProgrammeEntry(Base):
    """A normal bulletin the commune chair put into the radio programme at a time (Điều 8.3)."""

    __tablename__ = "programme_entries"
    __table_args__ = (UniqueConstraint("area_id", "bulletin_id", "slot"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    area_id: Mapped[int] = mapped_column(ForeignKey("areas.id", ondelete="CASCADE"))
    bulletin_id: Mapped[str] = mapped_column(
        ForeignKey("bulletins.id", ondelete="CASCADE"), index=True
    )
    slot: Mapped[datetime] = mapped_column(UTCDateTime())
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
