"""endpoint heartbeats, plays, chair orders, programme entries

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-25 19:01:50.229943
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "commune_orders",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("area_id", sa.Integer(), nullable=False),
        sa.Column("bulletin_id", sa.String(length=32), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("set_by", sa.String(length=200), nullable=False),
        sa.Column("set_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["area_id"],
            ["areas.id"],
            name=op.f("fk_commune_orders_area_id_areas"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["bulletin_id"],
            ["bulletins.id"],
            name=op.f("fk_commune_orders_bulletin_id_bulletins"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_commune_orders")),
        sa.UniqueConstraint(
            "area_id", "bulletin_id", name=op.f("uq_commune_orders_area_id_bulletin_id")
        ),
    )
    with op.batch_alter_table("commune_orders", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_commune_orders_bulletin_id"), ["bulletin_id"], unique=False
        )

    op.create_table(
        "endpoint_heartbeats",
        sa.Column("endpoint_id", sa.Integer(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("volume", sa.Integer(), nullable=True),
        sa.Column("current_bulletin_id", sa.String(length=32), nullable=True),
        sa.Column("playlist_etag", sa.String(length=100), nullable=True),
        sa.Column("held_version", sa.Integer(), nullable=True),
        sa.Column("message", sa.String(length=500), nullable=True),
        sa.ForeignKeyConstraint(
            ["endpoint_id"],
            ["endpoints.id"],
            name=op.f("fk_endpoint_heartbeats_endpoint_id_endpoints"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("endpoint_id", name=op.f("pk_endpoint_heartbeats")),
    )
    with op.batch_alter_table("endpoint_heartbeats", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_endpoint_heartbeats_received_at"), ["received_at"], unique=False
        )

    op.create_table(
        "plays",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("endpoint_id", sa.Integer(), nullable=False),
        sa.Column("client_id", sa.String(length=100), nullable=False),
        sa.Column("bulletin_id", sa.String(length=32), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "outcome",
            sa.Enum(
                "played",
                "interrupted",
                "failed",
                name="play_outcome",
                native_enum=False,
                create_constraint=True,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["bulletin_id"],
            ["bulletins.id"],
            name=op.f("fk_plays_bulletin_id_bulletins"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["endpoint_id"],
            ["endpoints.id"],
            name=op.f("fk_plays_endpoint_id_endpoints"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_plays")),
        sa.UniqueConstraint(
            "endpoint_id", "client_id", name=op.f("uq_plays_endpoint_id_client_id")
        ),
    )
    with op.batch_alter_table("plays", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_plays_bulletin_id"), ["bulletin_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_plays_started_at"), ["started_at"], unique=False)

    op.create_table(
        "programme_entries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("area_id", sa.Integer(), nullable=False),
        sa.Column("bulletin_id", sa.String(length=32), nullable=False),
        sa.Column("slot", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["area_id"],
            ["areas.id"],
            name=op.f("fk_programme_entries_area_id_areas"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["bulletin_id"],
            ["bulletins.id"],
            name=op.f("fk_programme_entries_bulletin_id_bulletins"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_programme_entries")),
        sa.UniqueConstraint(
            "area_id",
            "bulletin_id",
            "slot",
            name=op.f("uq_programme_entries_area_id_bulletin_id_slot"),
        ),
    )
    with op.batch_alter_table("programme_entries", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_programme_entries_bulletin_id"), ["bulletin_id"], unique=False
        )

    with op.batch_alter_table("endpoints", schema=None) as batch_op:
        # Endpoints registered before this revision start at version 1, changed now.
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


def downgrade() -> None:
    with op.batch_alter_table("endpoints", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_endpoints_playlist_changed_at"))
        batch_op.drop_column("playlist_changed_at")
        batch_op.drop_column("playlist_version")

    with op.batch_alter_table("programme_entries", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_programme_entries_bulletin_id"))

    op.drop_table("programme_entries")
    with op.batch_alter_table("plays", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_plays_started_at"))
        batch_op.drop_index(batch_op.f("ix_plays_bulletin_id"))

    op.drop_table("plays")
    with op.batch_alter_table("endpoint_heartbeats", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_endpoint_heartbeats_received_at"))

    op.drop_table("endpoint_heartbeats")
    with op.batch_alter_table("commune_orders", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_commune_orders_bulletin_id"))

    op.drop_table("commune_orders")
