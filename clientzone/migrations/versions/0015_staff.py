"""support staff: staff members and roles, TOTP second factor, recovery codes,
the append-only staff audit log, the session's second-factor time, and
indexes for support's customer search, case assignment for the staff desk

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-01
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
        "staff_members",
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("role", sa.String(32), nullable=False),
        sa.Column("disabled", sa.Boolean(), nullable=False),
        sa.Column("totp_secret", sa.String(64), nullable=True),
        sa.Column("totp_confirmed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("totp_last_step", sa.BigInteger(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name="fk_staff_members_user_id_users",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", name="pk_staff_members"),
    )
    op.create_table(
        "staff_recovery_codes",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("code_hash", sa.String(64), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name="fk_staff_recovery_codes_user_id_users",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_staff_recovery_codes"),
        sa.UniqueConstraint("code_hash", name="uq_staff_recovery_codes_code_hash"),
    )
    op.create_index("ix_staff_recovery_codes_user_id", "staff_recovery_codes", ["user_id"])
    op.create_table(
        "staff_audit_log",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("staff_user_id", sa.Uuid(), nullable=True),
        sa.Column("staff_email", sa.String(254), nullable=False),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("account_id", sa.Uuid(), nullable=True),
        sa.Column("target", sa.String(254), nullable=True),
        sa.Column("reason", sa.String(500), nullable=True),
        sa.Column("case_number", sa.String(40), nullable=True),
        sa.Column("ip", sa.String(45), nullable=True),
        sa.Column("user_agent", sa.String(400), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["staff_user_id"],
            ["users.id"],
            name="fk_staff_audit_log_staff_user_id_users",
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name="fk_staff_audit_log_account_id_accounts",
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_staff_audit_log"),
    )
    op.create_index(
        "ix_staff_audit_log_staff_user_id_id", "staff_audit_log", ["staff_user_id", "id"]
    )
    op.create_index("ix_staff_audit_log_account_id_id", "staff_audit_log", ["account_id", "id"])
    for column in ("email", "tax_id", "phone", "mobile_phone"):
        op.create_index(f"ix_accounts_{column}", "accounts", [column])
    for column in ("email", "phone"):
        op.create_index(f"ix_contacts_{column}", "contacts", [column])
    with op.batch_alter_table("cases") as batch:
        batch.add_column(sa.Column("assignee_id", sa.Uuid(), nullable=True))
        batch.create_foreign_key(
            "fk_cases_assignee_id_users", "users", ["assignee_id"], ["id"], ondelete="SET NULL"
        )
    op.create_index("ix_cases_status_updated_at_id", "cases", ["status", "updated_at", "id"])
    op.create_index(
        "ix_cases_assignee_id_updated_at_id", "cases", ["assignee_id", "updated_at", "id"]
    )
    with op.batch_alter_table("invitations") as batch:
        batch.add_column(
            sa.Column("as_owner", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    with op.batch_alter_table("sessions") as batch:
        batch.add_column(sa.Column("second_factor_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("invitations") as batch:
        batch.drop_column("as_owner")
    op.drop_index("ix_cases_assignee_id_updated_at_id", table_name="cases")
    op.drop_index("ix_cases_status_updated_at_id", table_name="cases")
    with op.batch_alter_table("cases") as batch:
        batch.drop_constraint("fk_cases_assignee_id_users", type_="foreignkey")
        batch.drop_column("assignee_id")
    for column in ("email", "phone"):
        op.drop_index(f"ix_contacts_{column}", table_name="contacts")
    for column in ("email", "tax_id", "phone", "mobile_phone"):
        op.drop_index(f"ix_accounts_{column}", table_name="accounts")
    with op.batch_alter_table("sessions") as batch:
        batch.drop_column("second_factor_at")
    op.drop_index("ix_staff_audit_log_account_id_id", table_name="staff_audit_log")
    op.drop_index("ix_staff_audit_log_staff_user_id_id", table_name="staff_audit_log")
    op.drop_table("staff_audit_log")
    op.drop_index("ix_staff_recovery_codes_user_id", table_name="staff_recovery_codes")
    op.drop_table("staff_recovery_codes")
    op.drop_table("staff_members")
