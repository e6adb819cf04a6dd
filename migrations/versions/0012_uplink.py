"""The uplink to the central system: its messages and their attempts; bulletins shared up

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-25 22:57:07.901305
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "uplink_messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "bulletin",
                "report",
                name="uplink_kind",
                native_enum=False,
                create_constraint=True,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("subject", sa.String(length=100), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "pending",
                "sent",
                "failed",
                name="uplink_status",
                native_enum=False,
                create_constraint=True,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_error", sa.String(length=500), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_uplink_messages")),
        sa.UniqueConstraint("kind", "subject", name=op.f("uq_uplink_messages_kind_subject")),
    )
    with op.batch_alter_table("uplink_messages", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_uplink_messages_created_at"), ["created_at"], unique=False
        )
        batch_op.create_index(
            "ix_uplink_messages_due",
            ["next_attempt_at"],
            unique=False,
            postgresql_where=sa.text("status = 'pending'"),
            sqlite_where=sa.text("status = 'pending'"),
        )

    op.create_table(
        "uplink_attempts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("message_id", sa.Integer(), nullable=False),
        sa.Column("attempted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("error", sa.String(length=500), nullable=True),
        sa.Column("duration_ms", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["message_id"],
            ["uplink_messages.id"],
            name=op.f("fk_uplink_attempts_message_id_uplink_messages"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_uplink_attempts")),
    )
    with op.batch_alter_table("uplink_attempts", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_uplink_attempts_message_id"), ["message_id"], unique=False
        )

    with op.batch_alter_table("bulletins", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("share_with_central", sa.Boolean(), nullable=False, server_default=sa.false())
        )


def downgrade() -> None:
    with op.batch_alter_table("bulletins", schema=None) as batch_op:
        batch_op.drop_column("share_with_central")

    with op.batch_alter_table("uplink_attempts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_uplink_attempts_message_id"))

    op.drop_table("uplink_attempts")
    with op.batch_alter_table("uplink_messages", schema=None) as batch_op:
        batch_op.drop_index(
            "ix_uplink_messages_due",
            postgresql_where=sa.text("status = 'pending'"),
            sqlite_where=sa.text("status = 'pending'"),
        )
        batch_op.drop_index(batch_op.f("ix_uplink_messages_created_at"))

    op.drop_table("uplink_messages")
