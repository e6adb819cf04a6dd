"""Subtitles: the `subtitle` media kind, a video's embedded subtitle streams, and the
subtitle files a bulletin names for its videos

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-04 09:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _allow_media_kinds(*kinds: str) -> None:
    """The kind column is checked against the list of kinds (SQLite rebuilds the table)."""
    allowed = ", ".join(f"'{kind}'" for kind in kinds)
    with op.batch_alter_table("media", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_media_media_kind"), type_="check")
        batch_op.create_check_constraint(op.f("ck_media_media_kind"), f"kind IN ({allowed})")


def upgrade() -> None:
    _allow_media_kinds("audio", "image", "video", "subtitle")
    op.create_table(
        "media_subtitle_tracks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("media_id", sa.String(length=32), nullable=False),
        sa.Column("stream_index", sa.Integer(), nullable=False),
        sa.Column("codec", sa.String(length=32), nullable=False),
        sa.Column("language", sa.String(length=35), nullable=True),
        sa.ForeignKeyConstraint(
            ["media_id"],
            ["media.id"],
            name=op.f("fk_media_subtitle_tracks_media_id_media"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_media_subtitle_tracks")),
        sa.UniqueConstraint(
            "media_id", "stream_index", name=op.f("uq_media_subtitle_tracks_media_id_stream_index")
        ),
    )
    with op.batch_alter_table("media_subtitle_tracks", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_media_subtitle_tracks_media_id"), ["media_id"], unique=False
        )
    with op.batch_alter_table("bulletins", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("subtitles", sa.JSON(), nullable=False, server_default=sa.text("'[]'"))
        )


def downgrade() -> None:
    with op.batch_alter_table("bulletins", schema=None) as batch_op:
        batch_op.drop_column("subtitles")
    with op.batch_alter_table("media_subtitle_tracks", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_media_subtitle_tracks_media_id"))
    op.drop_table("media_subtitle_tracks")
    op.execute("DELETE FROM media WHERE kind = 'subtitle'")
    _allow_media_kinds("audio", "image", "video")
