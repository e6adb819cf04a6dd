"""when deliveries first reached and were confirmed by their endpoint; exercise bulletins

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-25 22:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.add_column(sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("acked_at", sa.DateTime(timezone=True), nullable=True))
    # Deliveries that moved on before this revision: their last change is the best estimate.
    op.execute(
        "UPDATE deliveries SET delivered_at = updated_at "
        "WHERE status IN ('sent', 'acked', 'played')"
    )
    op.execute("UPDATE deliveries SET acked_at = updated_at WHERE status IN ('acked', 'played')")
    with op.batch_alter_table("bulletins", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("exercise", sa.Boolean(), nullable=False, server_default=sa.false())
        )


def downgrade() -> None:
    with op.batch_alter_table("bulletins", schema=None) as batch_op:
        batch_op.drop_column("exercise")
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.drop_column("acked_at")
        batch_op.drop_column("delivered_at")
