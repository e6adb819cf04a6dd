"""endpoint playlist versions in their own narrow table

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-25 21:40:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "endpoint_playlists",
        sa.Column("endpoint_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["endpoint_id"],
            ["endpoints.id"],
            name=op.f("fk_endpoint_playlists_endpoint_id_endpoints"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("endpoint_id", name=op.f("pk_endpoint_playlists")),
    )
    with op.batch_alter_table("endpoint_playlists", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_endpoint_playlists_changed_at"), ["changed_at"], unique=False
        )
    op.execute(
        "INSERT INTO endpoint_playlists (endpoint_id, version, changed_at) "
        "SELECT id, playlist_version, playlist_changed_at FROM endpoints"
    )
    with op.batch_alter_table("endpoints", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_endpoints_playlist_changed_at"))
        batch_op.drop_column("playlist_changed_at")
        batch_op.drop_column("playlist_version")


def downgrade() -> None:
    with op.batch_alter_table("endpoints", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("playlist_version", sa.Integer(), nullable=False, server_default="1")
        )
        batch_op.add_column(
            sa.Column(
                "playlist_changed_at",
                sa.DateTime(timezone=True),
                nullable=False,
                server_default=sa.func.current_timestamp(),
            )
        )
        batch_op.create_index(
            batch_op.f("ix_endpoints_playlist_changed_at"), ["playlist_changed_at"], unique=False
        )
    op.execute(
        "UPDATE endpoints SET playlist_version = (SELECT version FROM endpoint_playlists "
        "WHERE endpoint_playlists.endpoint_id = endpoints.id), playlist_changed_at = "
        "(SELECT changed_at FROM endpoint_playlists WHERE endpoint_playlists.endpoint_id = "
        "endpoints.id) WHERE id IN (SELECT endpoint_id FROM endpoint_playlists)"
    )
    with op.batch_alter_table("endpoint_playlists", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_endpoint_playlists_changed_at"))
    op.drop_table("endpoint_playlists")
