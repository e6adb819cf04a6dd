"""Periodic reports: each province's periods and deadlines, the narrative people write, and
the reminders before each deadline

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-04 03:00:00.000000
"""

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# (province, period, starts the year before, start month/day, end month/day (included),
#  units before month/day, department before month/day, outline)
SEEDED = [
    # Đắk Nông 002 Điều 18, the default: units before 20/6 and 20/12, the department before
    # 30/6 and 30/12, half-yearly.
    ("default", "H1", False, 1, 1, 6, 30, 6, 20, 6, 30, "default"),
    ("default", "H2", False, 7, 1, 12, 31, 12, 20, 12, 30, "default"),
    # An Giang 000/004 Điều 15: the same days.
    ("91", "H1", False, 1, 1, 6, 30, 6, 20, 6, 30, "default"),
    ("91", "H2", False, 7, 1, 12, 31, 12, 20, 12, 30, "default"),
    # Lai Châu 001 Điều 14: yearly, figures from 15/12 of the year before to 14/12, units
    # before 15/12, the department before 20/12; the narrative follows its outline.
    ("12", "Y", True, 12, 15, 12, 14, 12, 15, 12, 20, "lai_chau_2024"),
]


def upgrade() -> None:
    schedules = op.create_table(
        "report_schedules",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("province_code", sa.String(length=16), nullable=False),
        sa.Column("period", sa.String(length=8), nullable=False),
        sa.Column("starts_previous_year", sa.Boolean(), nullable=False),
        sa.Column("starts_month", sa.Integer(), nullable=False),
        sa.Column("starts_day", sa.Integer(), nullable=False),
        sa.Column("ends_month", sa.Integer(), nullable=False),
        sa.Column("ends_day", sa.Integer(), nullable=False),
        sa.Column("units_due_month", sa.Integer(), nullable=False),
        sa.Column("units_due_day", sa.Integer(), nullable=False),
        sa.Column("department_due_month", sa.Integer(), nullable=False),
        sa.Column("department_due_day", sa.Integer(), nullable=False),
        sa.Column("outline", sa.String(length=32), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_report_schedules")),
        sa.UniqueConstraint(
            "province_code", "period", name=op.f("uq_report_schedules_province_code_period")
        ),
    )
    seeded_at = datetime.now(UTC)
    op.execute(
        schedules.insert().values(
            [
                {
                    "province_code": province,
                    "period": period,
                    "starts_previous_year": previous,
                    "starts_month": starts_month,
                    "starts_day": starts_day,
                    "ends_month": ends_month,
                    "ends_day": ends_day,
                    "units_due_month": units_month,
                    "units_due_day": units_day,
                    "department_due_month": department_month,
                    "department_due_day": department_day,
                    "outline": outline,
                    "updated_at": seeded_at,
                }
                for (
                    province,
                    period,
                    previous,
                    starts_month,
                    starts_day,
                    ends_month,
                    ends_day,
                    units_month,
                    units_day,
                    department_month,
                    department_day,
                    outline,
                ) in SEEDED
            ]
        )
    )
    op.create_table(
        "report_narratives",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("area_code", sa.String(length=16), nullable=False),
        sa.Column("period", sa.String(length=16), nullable=False),
        sa.Column("sections", sa.JSON(), nullable=False),
        sa.Column("updated_by", sa.String(length=200), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_report_narratives")),
        sa.UniqueConstraint(
            "area_code", "period", name=op.f("uq_report_narratives_area_code_period")
        ),
    )
    op.create_table(
        "report_reminders",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("area_code", sa.String(length=16), nullable=False),
        sa.Column("period", sa.String(length=16), nullable=False),
        sa.Column("due_before", sa.Date(), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "pending",
                "sent",
                "failed",
                name="report_reminder_status",
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
        sa.PrimaryKeyConstraint("id", name=op.f("pk_report_reminders")),
        sa.UniqueConstraint(
            "area_code", "period", name=op.f("uq_report_reminders_area_code_period")
        ),
    )
    with op.batch_alter_table("report_reminders") as batch_op:
        batch_op.create_index(
            "ix_report_reminders_due",
            ["next_attempt_at"],
            unique=False,
            postgresql_where=sa.text("status = 'pending'"),
            sqlite_where=sa.text("status = 'pending'"),
        )


def downgrade() -> None:
    op.drop_table("report_reminders")
    op.drop_table("report_narratives")
    op.drop_table("report_schedules")
