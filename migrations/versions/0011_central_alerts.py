"""CAP alerts from the central system, and the signatures already used

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-25 23:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "central_alerts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("sender", sa.String(length=255), nullable=False),
        sa.Column("identifier", sa.String(length=255), nullable=False),
        sa.Column("sent_text", sa.String(length=40), nullable=False),
        sa.Column("sent", sa.DateTime(timezone=True), nullable=False),
        sa.Column("msg_type", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("references", sa.JSON(), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("bulletin_ids", sa.JSON(), nullable=False),
        sa.Column("ended_by_id", sa.Integer(), nullable=True),
        sa.Column("key_id", sa.Integer(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["ended_by_id"],
            ["central_alerts.id"],
            name=op.f("fk_central_alerts_ended_by_id_central_alerts"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_central_alerts")),
        sa.UniqueConstraint(
            "sender",
            "identifier",
            "sent_text",
            name=op.f("uq_central_alerts_sender_identifier_sent_text"),
        ),
    )
    op.create_table(
        "central_signatures",
        sa.Column("signature", sa.String(length=64), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("signature", name=op.f("pk_central_signatures")),
    )
    with op.batch_alter_table("central_signatures", schema=None) as batch_op:
        batch_op.create_index("ix_central_signatures_received_at", ["received_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("central_signatures", schema=None) as batch_op:
        batch_op.drop_index("ix_central_signatures_received_at")
    op.drop_table("central_signatures")
    op.drop_table("central_alerts")
