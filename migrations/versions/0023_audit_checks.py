"""Audit checks: each verification of the chain, so that many workers check it once an
interval between them, and /readyz can say when it was last found intact

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-04 19:10:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0023"
down_revision: str | None = "0022"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "audit_checks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("trigger", sa.String(length=32), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "running",
                "intact",
                "broken",
                "failed",
                name="audit_check_status",
                native_enum=False,
                create_constraint=True,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("records", sa.BigInteger(), nullable=True),
        sa.Column("breaks", sa.Integer(), nullable=True),
        sa.Column("detail", sa.String(length=1000), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_checks")),
    )
    with op.batch_alter_table("audit_checks") as batch_op:
        batch_op.create_index(batch_op.f("ix_audit_checks_started_at"), ["started_at"])


def downgrade() -> None:
    with op.batch_alter_table("audit_checks") as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_checks_started_at"))
    op.drop_table("audit_checks")
