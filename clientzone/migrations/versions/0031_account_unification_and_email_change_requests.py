"""account unification codes and login-email changes staff decide

user_tokens gain account_id (the account an UNIFY_ACCOUNT code adds);
email_change_requests hold the changes awaiting staff (EMAIL_CHANGE=staff).

Revision ID: 0031
Revises: 0029
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0031"
down_revision: str | None = "0029"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("user_tokens") as batch:
        batch.add_column(sa.Column("account_id", sa.Uuid(), nullable=True))
        batch.create_foreign_key(
            "fk_user_tokens_account_id_accounts",
            "accounts",
            ["account_id"],
            ["id"],
            ondelete="CASCADE",
        )
    op.create_table(
        "email_change_requests",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("new_email", sa.String(254), nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("reason", sa.String(500), nullable=True),
        sa.Column("decided_by", sa.Uuid(), nullable=True),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("decided_at", TZ, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_email_change_requests"),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name="fk_email_change_requests_user_id_users",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["decided_by"],
            ["users.id"],
            name="fk_email_change_requests_decided_by_users",
            ondelete="SET NULL",
        ),
    )
    op.create_index("ix_email_change_requests_status_id", "email_change_requests", ["status", "id"])
    op.create_index(
        "ix_email_change_requests_user_id_status", "email_change_requests", ["user_id", "status"]
    )


def downgrade() -> None:
    op.drop_index("ix_email_change_requests_user_id_status", "email_change_requests")
    op.drop_index("ix_email_change_requests_status_id", "email_change_requests")
    op.drop_table("email_change_requests")
    with op.batch_alter_table("user_tokens") as batch:
        batch.drop_constraint("fk_user_tokens_account_id_accounts", type_="foreignkey")
        batch.drop_column("account_id")
