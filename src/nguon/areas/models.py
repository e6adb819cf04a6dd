from datetime import date

from sqlalchemy import Date, Enum, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from nguon.areas.levels import AreaLevel
from nguon.kit.db import Base


class Area(Base):
    """An administrative unit during its validity period.

    `path` lists the ids from the national root down to this unit ("/1/7/93/"), so subtree and
    ancestor questions are a prefix match at any depth.
    """

    __tablename__ = "areas"
    __table_args__ = (
        Index("ix_areas_code_valid_from", "code", "valid_from"),
        # Subtree queries are prefix matches on the path.
        Index("ix_areas_path", "path", postgresql_ops={"path": "varchar_pattern_ops"}),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(200))
    level: Mapped[AreaLevel] = mapped_column(
        Enum(AreaLevel, native_enum=False, length=16, create_constraint=True, name="area_level")
    )
    parent_id: Mapped[int | None] = mapped_column(
        ForeignKey("areas.id", ondelete="RESTRICT"), index=True
    )
    path: Mapped[str] = mapped_column(String(400))
    valid_from: Mapped[date | None] = mapped_column(Date)
    valid_until: Mapped[date | None] = mapped_column(Date)

    @property
    def ancestor_ids(self) -> list[int]:
        """Ids from the root down to the parent."""
        return [int(part) for part in self.path.strip("/").split("/")[:-1]]
