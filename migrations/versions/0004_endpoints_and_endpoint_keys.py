"""endpoints and endpoint keys

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-24 10:11:12.250784
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


ROLES = (
    "admin",
    "editor",
    "appraiser",
    "publisher",
    "commune_chair",
    "viewer",
    "central",
    "integration",
)
WITH_ENDPOINT = (*ROLES, "endpoint")


def _allow_roles(roles: tuple[str, ...]) -> None:
    """The role columns are checked against the list of roles: endpoint keys add one."""
    allowed = ", ".join(f"'{role}'" for role in roles)
    for table in ("users", "api_keys"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_constraint(op.f(f"ck_{table}_role"), type_="check")
            batch_op.create_check_constraint(op.f(f"ck_{table}_role"), f"role IN ({allowed})")


def upgrade() -> None:
    op.create_table(
        "endpoints",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "radio",
                "display",
                name="endpoint_kind",
                native_enum=False,
                create_constraint=True,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column(
            "profile",
            sa.Enum(
                "eboard",
                "border_gate",
                name="display_profile",
                native_enum=False,
                create_constraint=True,
                length=16,
            ),
            nullable=True,
        ),
        sa.Column("area_id", sa.Integer(), nullable=False),
        sa.Column("area_code", sa.String(length=16), nullable=False),
        sa.Column("area_path", sa.String(length=400), nullable=False),
        sa.Column("latitude", sa.Float(), nullable=True),
        sa.Column("longitude", sa.Float(), nullable=True),
        sa.Column("languages", sa.JSON(), nullable=False),
        sa.Column("windows", sa.JSON(), nullable=False),
        sa.Column("push_url", sa.String(length=500), nullable=True),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["area_id"], ["areas.id"], name=op.f("fk_endpoints_area_id_areas"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_endpoints")),
        sa.UniqueConstraint("code", name=op.f("uq_endpoints_code")),
    )
    with op.batch_alter_table("endpoints", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_endpoints_area_id"), ["area_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_endpoints_area_path"), ["area_path"], unique=False)

    with op.batch_alter_table("api_keys", schema=None) as batch_op:
        batch_op.add_column(sa.Column("endpoint_id", sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f("ix_api_keys_endpoint_id"), ["endpoint_id"], unique=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_api_keys_endpoint_id_endpoints"),
            "endpoints",
            ["endpoint_id"],
            ["id"],
            ondelete="CASCADE",
        )
    _allow_roles(WITH_ENDPOINT)


def downgrade() -> None:
    _allow_roles(ROLES)
    with op.batch_alter_table("api_keys", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_api_keys_endpoint_id_endpoints"), type_="foreignkey"
        )
        batch_op.drop_index(batch_op.f("ix_api_keys_endpoint_id"))
        batch_op.drop_column("endpoint_id")

    with op.batch_alter_table("endpoints", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_endpoints_area_path"))
        batch_op.drop_index(batch_op.f("ix_endpoints_area_id"))

    op.drop_table("endpoints")
