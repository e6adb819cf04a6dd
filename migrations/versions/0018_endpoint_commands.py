"""Endpoint commands, and the switch of an endpoint switched off from the hub

Revision ID: 0018
Revises: 0015
Create Date: 2026-12-04 02:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "endpoint_commands",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("public_id", sa.String(length=32), nullable=False),
        sa.Column("endpoint_id", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "switch_on",
                "switch_off",
                "volume",
                "restart",
                "fetch_now",
                name="command_kind",
                native_enum=False,
                create_constraint=True,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("volume", sa.Integer(), nullable=True),
        sa.Column(
            "status",
            sa.Enum(
                "pending",
                "sent",
                "acked",
                "failed",
                "expired",
                name="command_status",
                native_enum=False,
                create_constraint=True,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("issued_by", sa.String(length=200), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("answered_over", sa.String(length=16), nullable=True),
        sa.Column("detail", sa.String(length=500), nullable=True),
        sa.Column("last_error", sa.String(length=500), nullable=True),
        sa.ForeignKeyConstraint(
            ["endpoint_id"],
            ["endpoints.id"],
            name=op.f("fk_endpoint_commands_endpoint_id_endpoints"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_endpoint_commands")),
        sa.UniqueConstraint("public_id", name=op.f("uq_endpoint_commands_public_id")),
    )
    with op.batch_alter_table("endpoint_commands", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_endpoint_commands_endpoint_id"), ["endpoint_id"], unique=False
        )
        batch_op.create_index(
            "ix_endpoint_commands_due",
            ["next_attempt_at"],
            unique=False,
            postgresql_where=sa.text("status IN ('pending', 'sent')"),
            sqlite_where=sa.text("status IN ('pending', 'sent')"),
        )
    with op.batch_alter_table("endpoints", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("switched_off", sa.Boolean(), nullable=False, server_default=sa.false())
        )


def downgrade() -> None:
    with op.batch_alter_table("endpoints", schema=None) as batch_op:
        batch_op.drop_column("switched_off")
    with op.batch_alter_table("endpoint_commands", schema=None) as batch_op:
        batch_op.drop_index("ix_endpoint_commands_due")
        batch_op.drop_index(batch_op.f("ix_endpoint_commands_endpoint_id"))
    op.drop_table("endpoint_commands")
