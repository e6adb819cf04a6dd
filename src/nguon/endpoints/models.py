from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import JSON, Boolean, Date, Enum, Float, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from nguon.endpoints.windows import DisplayProfile, EndpointKind, Windows
from nguon.kit.db import Base, UTCDateTime, utcnow


class Endpoint(Base):
    """A terminal the hub feeds: a commune's IP radio or a public display."""

    __tablename__ = "endpoints"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[EndpointKind] = mapped_column(
        Enum(
            EndpointKind, native_enum=False, length=16, create_constraint=True, name="endpoint_kind"
        )
    )
    profile: Mapped[DisplayProfile | None] = mapped_column(
        Enum(
            DisplayProfile,
            native_enum=False,
            length=16,
            create_constraint=True,
            name="display_profile",
        )
    )
    area_id: Mapped[int] = mapped_column(ForeignKey("areas.id", ondelete="RESTRICT"), index=True)
    area_code: Mapped[str] = mapped_column(String(16))
    # The commune's path, so that "endpoints below this area" needs no join.
    area_path: Mapped[str] = mapped_column(String(400), index=True)
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    languages: Mapped[list[str]] = mapped_column(JSON)
    windows: Mapped[Windows] = mapped_column(JSON)
    push_url: Mapped[str | None] = mapped_column(String(500))
    push_secret_generation: Mapped[int] = mapped_column(Integer, default=0)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    # The person on the spot the department calls about it (An Giang 004 Điều 7.4).
    focal_name: Mapped[str | None] = mapped_column(String(200))
    focal_phone: Mapped[str | None] = mapped_column(String(32))
    focal_organisation: Mapped[str | None] = mapped_column(String(200))
    # Switched off from the hub (a `switch_off` command): it plays only emergencies. Apart
    # from `enabled`, which takes an endpoint out of service altogether (nguon.commands.service).
    switched_off: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
    playlist: Mapped["EndpointPlaylist"] = relationship(
        lazy="joined", innerjoin=True, cascade="all, delete-orphan", passive_deletes=True
    )

    @property
    def playlist_version(self) -> int:
        return self.playlist.version


class EndpointPlaylist(Base):
    """An endpoint's playlist version, bumped whenever what it plays may have changed; its
    playlist ETag carries it, so a heartbeat that reports an older one tells the hub the device
    is stale. Apart from the registry: a province-wide bulletin moves thousands of versions in
    its approval's transaction, and narrow rows update several times faster than wide ones."""

    __tablename__ = "endpoint_playlists"

    endpoint_id: Mapped[int] = mapped_column(
        ForeignKey("endpoints.id", ondelete="CASCADE"), primary_key=True
    )
    version: Mapped[int] = mapped_column(Integer, default=1)
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)


class EndpointHeartbeat(Base):
    """The last word from a device: kept apart from the registry, which changes rarely."""

    __tablename__ = "endpoint_heartbeats"

    endpoint_id: Mapped[int] = mapped_column(
        ForeignKey("endpoints.id", ondelete="CASCADE"), primary_key=True
    )
    received_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    status: Mapped[str] = mapped_column(String(16))
    volume: Mapped[int | None] = mapped_column(Integer)
    current_bulletin_id: Mapped[str | None] = mapped_column(String(32))
    playlist_etag: Mapped[str | None] = mapped_column(String(100))
    # The playlist version read from the ETag the device holds; None when it holds none we gave.
    held_version: Mapped[int | None] = mapped_column(Integer)
    message: Mapped[str | None] = mapped_column(String(500))


class EndpointUptime(Base):
    """How long an endpoint was heard from in one hour (UTC): heartbeats compacted, so that
    uptime over any period is a sum of a few rows per endpoint and day."""

    __tablename__ = "endpoint_uptime"

    endpoint_id: Mapped[int] = mapped_column(
        ForeignKey("endpoints.id", ondelete="CASCADE"), primary_key=True
    )
    hour: Mapped[datetime] = mapped_column(UTCDateTime(), primary_key=True, index=True)
    seconds_online: Mapped[int] = mapped_column(Integer, default=0)


class MaintenanceKind(StrEnum):
    maintenance = "maintenance"
    inspection = "inspection"
    repair = "repair"


class MaintenanceRecord(Base):
    """Maintenance, inspection or repair of an endpoint (An Giang 004 Điều 4.1c, 6.8; Lai Châu
    001 Điều 11.1a)."""

    __tablename__ = "endpoint_maintenance"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    endpoint_id: Mapped[int] = mapped_column(
        ForeignKey("endpoints.id", ondelete="CASCADE"), index=True
    )
    day: Mapped[date] = mapped_column(Date)
    kind: Mapped[MaintenanceKind] = mapped_column(
        Enum(
            MaintenanceKind,
            native_enum=False,
            length=16,
            create_constraint=True,
            name="maintenance_kind",
        )
    )
    performed_by: Mapped[str] = mapped_column(String(200))
    notes: Mapped[str] = mapped_column(Text, default="")
    outcome: Mapped[str] = mapped_column(String(500), default="")
    recorded_by: Mapped[str] = mapped_column(String(200))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
