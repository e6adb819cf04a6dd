"""Broadcast rules per province and endpoint profile: operating hours;
bulletins posted outside e-board windows, and sent to appraisal by an editor

Revision ID: 0019
Revises: 0015
Create Date: 2026-12-04 02:30:00.000000
"""

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The rules the seeded regulations set, as (province, profile, daily, morning, afternoon).
SEEDED = [
    # An Giang (000 and 004, Điều 4.3): border-gate clusters operate a full 8 h a day,
    # 07:00-11:00 and 14:00-18:00.
    ("91", "border_gate", 8.0, 4.0, 4.0),
    # Lai Châu (001 Điều 8.1): public displays (Điều 2.1: border-gate clusters and e-boards)
    # at least 6 h a day, 3 h in the morning and 3 h in the afternoon.
    ("12", "border_gate", 6.0, 3.0, 3.0),
    ("12", "eboard", 6.0, 3.0, 3.0),
]


def upgrade() -> None:
    rules = op.create_table(
        "broadcast_rules",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("province_code", sa.String(length=16), nullable=False),
        sa.Column(
            "profile",
            sa.Enum(
                "radio",
                "eboard",
                "border_gate",
                name="endpoint_profile",
                native_enum=False,
                create_constraint=True,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("daily_hours", sa.Float(), nullable=True),
        sa.Column("morning_hours", sa.Float(), nullable=True),
        sa.Column("afternoon_hours", sa.Float(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_broadcast_rules")),
        sa.UniqueConstraint(
            "province_code", "profile", name=op.f("uq_broadcast_rules_province_code_profile")
        ),
    )
    seeded_at = datetime.now(UTC)
    op.execute(
        rules.insert().values(
            [
                {
                    "province_code": province,
                    "profile": profile,
                    "daily_hours": daily,
                    "morning_hours": morning,
                    "afternoon_hours": afternoon,
                    "updated_at": seeded_at,
                }
                for province, profile, daily, morning, afternoon in SEEDED
            ]
        )
    )

    with op.batch_alter_table("bulletins") as batch_op:
        for column in ("outside_windows", "appraisal_requested"):
            batch_op.add_column(
                sa.Column(column, sa.Boolean(), nullable=False, server_default=sa.false())
            )
    with op.batch_alter_table("bulletins") as batch_op:
        for column in ("outside_windows", "appraisal_requested"):
            batch_op.alter_column(column, server_default=None)


def downgrade() -> None:
    with op.batch_alter_table("bulletins") as batch_op:
        batch_op.drop_column("appraisal_requested")
        batch_op.drop_column("outside_windows")
    op.drop_table("broadcast_rules")
