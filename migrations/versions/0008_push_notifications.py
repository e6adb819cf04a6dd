"""push notifications and attempts, endpoint push secret generation

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-25 19:52:43.198331
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "push_notifications",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("endpoint_id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.BigInteger(), nullable=False),
        sa.Column("dedupe_key", sa.String(length=200), nullable=False),
        sa.Column(
            "type",
            sa.Enum(
                "emergency",
                "publication",
                "revocation",
                "expiry",
                "playlist",
                name="notification_type",
                native_enum=False,
                create_constraint=True,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "pending",
                "delivered",
                "failed",
                "expired",
                name="notification_status",
                native_enum=False,
                create_constraint=True,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_error", sa.String(length=500), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["endpoint_id"],
            ["endpoints.id"],
            name=op.f("fk_push_notifications_endpoint_id_endpoints"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_push_notifications")),
        sa.UniqueConstraint("dedupe_key", name=op.f("uq_push_notifications_dedupe_key")),
    )
    with op.batch_alter_table("push_notifications", schema=None) as batch_op:
        batch_op.create_index(
            "ix_push_notifications_due",
            ["next_attempt_at"],
            unique=False,
            postgresql_where=sa.text("status = 'pending'"),
            sqlite_where=sa.text("status = 'pending'"),
        )
        batch_op.create_index(
            batch_op.f("ix_push_notifications_endpoint_id"), ["endpoint_id"], unique=False
        )

    op.create_table(
        "push_attempts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("notification_id", sa.Integer(), nullable=False),
        sa.Column("attempted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("error", sa.String(length=500), nullable=True),
        sa.Column("duration_ms", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["notification_id"],
            ["push_notifications.id"],
            name=op.f("fk_push_attempts_notification_id_push_notifications"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_push_attempts")),
    )
    with op.batch_alter_table("push_attempts", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_push_attempts_notification_id"), ["notification_id"], unique=False
        )

    # Existing endpoints start at generation 0: the secret they would have had all along.
    with op.batch_alter_table("endpoints", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("push_secret_generation", sa.Integer(), nullable=False, server_default="0")
        )


def downgrade() -> None:
    with op.batch_alter_table("endpoints", schema=None) as batch_op:
        batch_op.drop_column("push_secret_generation")

    with op.batch_alter_table("push_attempts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_push_attempts_notification_id"))

    op.drop_table("push_attempts")
    with op.batch_alter_table("push_notifications", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_push_notifications_endpoint_id"))
        batch_op.drop_index(
            "ix_push_notifications_due",
            postgresql_where=sa.text("status = 'pending'"),
            sqlite_where=sa.text("status = 'pending'"),
        )

    op.drop_table("push_notifications")
