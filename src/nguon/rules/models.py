from datetime import datetime

from sqlalchemy import Enum, Float, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from nguon.endpoints.windows import EndpointProfile
from nguon.kit.db import Base, UTCDateTime, utcnow


class BroadcastRule(Base):
    """What one province asks of its endpoints of one profile: the least daily operating
    hours, with the morning's and afternoon's share where its regulation names them, and the
    most advertising a day (minutes, or a percentage of the day's operating time). An empty
    `daily_hours` falls back to the hub's setting, and empty advertising limits to the
    setting's share.

    Keyed by the province's code, not its row: the rules of a regulation hold before the
    province's units are imported, and across a re-import under new validity periods."""

    __tablename__ = "broadcast_rules"
    __table_args__ = (UniqueConstraint("province_code", "profile"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    province_code: Mapped[str] = mapped_column(String(16))
    profile: Mapped[EndpointProfile] = mapped_column(
        Enum(
            EndpointProfile,
            native_enum=False,
            length=16,
            create_constraint=True,
            name="endpoint_profile",
        )
    )
    daily_hours: Mapped[float | None] = mapped_column(Float)
    morning_hours: Mapped[float | None] = mapped_column(Float)
    afternoon_hours: Mapped[float | None] = mapped_column(Float)
    # Advertising airtime a day (001 Điều 8.3: as the law on advertising says), either or both.
    advertising_minutes: Mapped[float | None] = mapped_column(Float)
    advertising_percent: Mapped[float | None] = mapped_column(Float)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
