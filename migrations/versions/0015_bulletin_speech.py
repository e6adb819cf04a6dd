"""Bulletin speech: the spoken rendition of text bulletins for radio

Revision ID: 0015
Revises: 0013
Create Date: 2026-12-04 01:31:35.538393
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "bulletin_speech",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("bulletin_id", sa.String(length=32), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("language", sa.String(length=35), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "ready",
                "no_voice",
                "failed",
                name="speech_status",
                native_enum=False,
                create_constraint=True,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("detail", sa.String(length=1000), nullable=False),
        sa.Column("engine", sa.String(length=32), nullable=False),
        sa.Column("voice", sa.String(length=100), nullable=True),
        sa.Column("text_sha256", sa.String(length=64), nullable=False),
        sa.Column("media_id", sa.String(length=32), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["bulletin_id"],
            ["bulletins.id"],
            name=op.f("fk_bulletin_speech_bulletin_id_bulletins"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["media_id"],
            ["media.id"],
            name=op.f("fk_bulletin_speech_media_id_media"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bulletin_speech")),
        sa.UniqueConstraint(
            "bulletin_id",
            "revision",
            "language",
            name=op.f("uq_bulletin_speech_bulletin_id_revision_language"),
        ),
    )
    with op.batch_alter_table("bulletin_speech") as batch_op:
        batch_op.create_index(
            "ix_bulletin_speech_spoken", ["text_sha256", "language", "engine", "voice"]
        )


def downgrade() -> None:
    with op.batch_alter_table("bulletin_speech") as batch_op:
        batch_op.drop_index("ix_bulletin_speech_spoken")
    op.drop_table("bulletin_speech")
