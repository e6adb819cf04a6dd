"""Incidents, uptime history, maintenance records, focal persons

Revision ID: 0017
Revises: 0015
Create Date: 2026-12-04 02:16:14.959878
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "incidents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "power",
                "technical",
                "cyber",
                name="incident_kind",
                native_enum=False,
                create_constraint=True,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column(
            "severity",
            sa.Enum(
                "low",
                "medium",
                "high",
                "critical",
                name="incident_severity",
                native_enum=False,
                create_constraint=True,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column(
            "status",
            sa.Enum(
                "open",
                "acknowledged",
                "escalated",
                "resolved",
                name="incident_status",
                native_enum=False,
                create_constraint=True,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("area_code", sa.String(length=16), nullable=False),
        sa.Column("area_path", sa.String(length=400), nullable=False),
        sa.Column("endpoint_codes", sa.JSON(), nullable=False),
        sa.Column("area_codes", sa.JSON(), nullable=False),
        sa.Column("cause", sa.String(length=100), nullable=True),
        sa.Column("opened_by", sa.String(length=200), nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_incidents")),
    )
    with op.batch_alter_table("incidents", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_incidents_area_path"), ["area_path"], unique=False)
        batch_op.create_index(
            "ix_incidents_open_cause",
            ["cause"],
            unique=True,
            postgresql_where=sa.text("status != 'resolved' AND cause IS NOT NULL"),
            sqlite_where=sa.text("status != 'resolved' AND cause IS NOT NULL"),
        )
        batch_op.create_index(batch_op.f("ix_incidents_opened_at"), ["opened_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_incidents_status"), ["status"], unique=False)

    op.create_table(
        "incident_entries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column(
            "event",
            sa.Enum(
                "opened",
                "acknowledged",
                "escalated",
                "resolved",
                "note",
                name="incident_event",
                native_enum=False,
                create_constraint=True,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["incident_id"],
            ["incidents.id"],
            name=op.f("fk_incident_entries_incident_id_incidents"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_incident_entries")),
    )
    with op.batch_alter_table("incident_entries", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_incident_entries_incident_id"), ["incident_id"], unique=False
        )

    op.create_table(
        "incident_notices",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column(
            "event",
            sa.Enum(
                "opened",
                "acknowledged",
                "escalated",
                "resolved",
                "note",
                name="incident_notice_event",
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
                "sent",
                "failed",
                name="incident_notice_status",
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
        sa.ForeignKeyConstraint(
            ["incident_id"],
            ["incidents.id"],
            name=op.f("fk_incident_notices_incident_id_incidents"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_incident_notices")),
        sa.UniqueConstraint(
            "incident_id", "event", name=op.f("uq_incident_notices_incident_id_event")
        ),
    )
    with op.batch_alter_table("incident_notices", schema=None) as batch_op:
        batch_op.create_index(
            "ix_incident_notices_due",
            ["next_attempt_at"],
            unique=False,
            postgresql_where=sa.text("status = 'pending'"),
            sqlite_where=sa.text("status = 'pending'"),
        )
        batch_op.create_index(
            batch_op.f("ix_incident_notices_incident_id"), ["incident_id"], unique=False
        )

    op.create_table(
        "endpoint_maintenance",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("endpoint_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "maintenance",
                "inspection",
                "repair",
                name="maintenance_kind",
                native_enum=False,
                create_constraint=True,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("performed_by", sa.String(length=200), nullable=False),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column("outcome", sa.String(length=500), nullable=False),
        sa.Column("recorded_by", sa.String(length=200), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["endpoint_id"],
            ["endpoints.id"],
            name=op.f("fk_endpoint_maintenance_endpoint_id_endpoints"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_endpoint_maintenance")),
    )
    with op.batch_alter_table("endpoint_maintenance", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_endpoint_maintenance_endpoint_id"), ["endpoint_id"], unique=False
        )

    op.create_table(
        "endpoint_uptime",
        sa.Column("endpoint_id", sa.Integer(), nullable=False),
        sa.Column("hour", sa.DateTime(timezone=True), nullable=False),
        sa.Column("seconds_online", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["endpoint_id"],
            ["endpoints.id"],
            name=op.f("fk_endpoint_uptime_endpoint_id_endpoints"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("endpoint_id", "hour", name=op.f("pk_endpoint_uptime")),
    )
    with op.batch_alter_table("endpoint_uptime", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_endpoint_uptime_hour"), ["hour"], unique=False)

    with op.batch_alter_table("endpoints", schema=None) as batch_op:
        batch_op.add_column(sa.Column("focal_name", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("focal_phone", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("focal_organisation", sa.String(length=200), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("endpoints", schema=None) as batch_op:
        batch_op.drop_column("focal_organisation")
        batch_op.drop_column("focal_phone")
        batch_op.drop_column("focal_name")

    with op.batch_alter_table("endpoint_uptime", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_endpoint_uptime_hour"))

    op.drop_table("endpoint_uptime")
    with op.batch_alter_table("endpoint_maintenance", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_endpoint_maintenance_endpoint_id"))

    op.drop_table("endpoint_maintenance")
    with op.batch_alter_table("incident_notices", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_incident_notices_incident_id"))
        batch_op.drop_index(
            "ix_incident_notices_due",
            postgresql_where=sa.text("status = 'pending'"),
            sqlite_where=sa.text("status = 'pending'"),
        )

    op.drop_table("incident_notices")
    with op.batch_alter_table("incident_entries", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_incident_entries_incident_id"))

    op.drop_table("incident_entries")
    with op.batch_alter_table("incidents", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_incidents_status"))
        batch_op.drop_index(batch_op.f("ix_incidents_opened_at"))
        batch_op.drop_index(
            "ix_incidents_open_cause",
            postgresql_where=sa.text("status != 'resolved' AND cause IS NOT NULL"),
            sqlite_where=sa.text("status != 'resolved' AND cause IS NOT NULL"),
        )
        batch_op.drop_index(batch_op.f("ix_incidents_area_path"))

    op.drop_table("incidents")
