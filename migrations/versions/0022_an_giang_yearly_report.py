"""An Giang's December report covers the year

000/004 Điều 15.1 asks An Giang's units for "báo cáo 6 tháng đầu năm" before 20/6 and
"báo cáo năm" before 20/12: the second report is the year's, from 1/1, not the second half's.
The narratives and reminders already kept for An Giang's `-H2` periods move to `-Y`.

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-04 19:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0022"
down_revision: str | None = "0021"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

AN_GIANG = "91"
# The codes of An Giang's areas, the province itself included: subtree queries match the path.
RENAME = """
    UPDATE {table} SET period = substr(period, 1, 5) || :new
    WHERE period LIKE '%-' || :old AND area_code IN (
        SELECT area.code FROM areas AS area JOIN areas AS province
        ON area.path LIKE province.path || '%'
        WHERE province.code = :province AND province.level = 'province'
    )
"""
SCHEDULE = """
    UPDATE report_schedules SET period = :new, starts_month = :month, starts_day = 1
    WHERE province_code = :province AND period = :old
"""
KEPT_PER_AREA = ("report_narratives", "report_reminders")


def _move(old: str, new: str, starts_month: int) -> None:
    bind = op.get_bind()
    names = {"old": old, "new": new, "province": AN_GIANG}
    bind.execute(sa.text(SCHEDULE), {**names, "month": starts_month})
    for table in KEPT_PER_AREA:
        bind.execute(sa.text(RENAME.format(table=table)), names)


def upgrade() -> None:
    _move("H2", "Y", starts_month=1)


def downgrade() -> None:
    _move("Y", "H2", starts_month=7)
