"""bulletins, revisions, idempotent requests

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24 09:49:00.237018
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "idempotent_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("principal", sa.String(length=200), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("route", sa.String(length=200), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("status", sa.Integer(), nullable=False),
        sa.Column("response", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_idempotent_requests")),
        sa.UniqueConstraint("principal", "key", name=op.f("uq_idempotent_requests_principal_key")),
    )
    with op.batch_alter_table("idempotent_requests", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_idempotent_requests_created_at"), ["created_at"], unique=False
        )

    op.create_table(
        "bulletins",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "text",
                "audio",
                "image",
                "infographic",
                "video",
                name="bulletin_kind",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("body", sa.Text(), nullable=True),
        sa.Column("language", sa.String(length=35), nullable=False),
        sa.Column(
            "category",
            sa.Enum(
                "policy_and_law",
                "local_programmes",
                "economy_science",
                "security_order",
                "disaster_fire_epidemic",
                "good_examples",
                "crime_prevention",
                "products_services",
                "access_to_information",
                "foreign_affairs_border",
                "advertising",
                name="bulletin_category",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column(
            "priority",
            sa.Enum(
                "emergency",
                "priority",
                "normal",
                name="bulletin_priority",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("sensitive", sa.Boolean(), nullable=False),
        sa.Column("valid_from", sa.DateTime(timezone=True), nullable=False),
        sa.Column("valid_until", sa.DateTime(timezone=True), nullable=False),
        sa.Column("schedule", sa.JSON(), nullable=True),
        sa.Column("contributor", sa.String(length=200), nullable=True),
        sa.Column("translation_of", sa.String(length=32), nullable=True),
        sa.Column("targets", sa.JSON(), nullable=False),
        sa.Column("media", sa.JSON(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "draft",
                "submitted",
                "appraised",
                "published",
                "scheduled",
                "rejected",
                "revoked",
                "expired",
                name="bulletin_status",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column(
            "level",
            sa.Enum(
                "central",
                "province",
                "district",
                "commune",
                name="bulletin_level",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("origin_area_id", sa.Integer(), nullable=False),
        sa.Column("origin_area_code", sa.String(length=16), nullable=False),
        sa.Column("origin_area_path", sa.String(length=400), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("on_air_revision", sa.Integer(), nullable=True),
        sa.Column("search_text", sa.Text(), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("appraised_by", sa.String(length=200), nullable=True),
        sa.Column("decided_by", sa.String(length=200), nullable=True),
        sa.Column("reason", sa.String(length=1000), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["origin_area_id"],
            ["areas.id"],
            name=op.f("fk_bulletins_origin_area_id_areas"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["translation_of"],
            ["bulletins.id"],
            name=op.f("fk_bulletins_translation_of_bulletins"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bulletins")),
    )
    with op.batch_alter_table("bulletins", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_bulletins_created_at"), ["created_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_bulletins_language"), ["language"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_bulletins_origin_area_path"), ["origin_area_path"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_bulletins_status"), ["status"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_bulletins_translation_of"), ["translation_of"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_bulletins_valid_until"), ["valid_until"], unique=False)

    op.create_table(
        "bulletin_revisions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("bulletin_id", sa.String(length=32), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("content", sa.JSON(), nullable=False),
        sa.Column("approved_by", sa.String(length=200), nullable=False),
        sa.Column("approved_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["bulletin_id"],
            ["bulletins.id"],
            name=op.f("fk_bulletin_revisions_bulletin_id_bulletins"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bulletin_revisions")),
        sa.UniqueConstraint(
            "bulletin_id", "number", name=op.f("uq_bulletin_revisions_bulletin_id_number")
        ),
    )


def downgrade() -> None:
    op.drop_table("bulletin_revisions")
    with op.batch_alter_table("bulletins", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_bulletins_valid_until"))
        batch_op.drop_index(batch_op.f("ix_bulletins_translation_of"))
        batch_op.drop_index(batch_op.f("ix_bulletins_status"))
        batch_op.drop_index(batch_op.f("ix_bulletins_origin_area_path"))
        batch_op.drop_index(batch_op.f("ix_bulletins_language"))
        batch_op.drop_index(batch_op.f("ix_bulletins_created_at"))

    op.drop_table("bulletins")
    with op.batch_alter_table("idempotent_requests", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_idempotent_requests_created_at"))

    op.drop_table("idempotent_requests")
