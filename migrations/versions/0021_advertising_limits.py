"""Advertising airtime limits per province and endpoint profile

Revision ID: 0021
Revises: 0019
Create Date: 2026-12-04 03:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0021"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("broadcast_rules") as batch:
        batch.add_column(sa.Column("advertising_minutes", sa.Float(), nullable=True))
        batch.add_column(sa.Column("advertising_percent", sa.Float(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("broadcast_rules") as batch:
        batch.drop_column("advertising_percent")
        batch.drop_column("advertising_minutes")
