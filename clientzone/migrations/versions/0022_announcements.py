"""news and announcements: the announcements, their explicit account lists,
and who read which

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0022"
down_revision: str | None = "0021"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "announcements",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("title_es", sa.String(length=200), nullable=False),
        sa.Column("title_en", sa.String(length=200), nullable=True),
        sa.Column("body_es", sa.Text(), nullable=False),
        sa.Column("body_en", sa.Text(), nullable=True),
        sa.Column("html_es", sa.Text(), nullable=False),
        sa.Column("html_en", sa.Text(), nullable=True),
        sa.Column("audience", sa.String(length=32), nullable=False),
        sa.Column("audience_value", sa.String(length=20), nullable=True),
        sa.Column("visible_from", sa.DateTime(timezone=True), nullable=False),
        sa.Column("visible_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("withdrawn_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("email_category", sa.String(length=32), nullable=True),
        sa.Column("email_done_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_by", sa.Uuid(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["created_by"], ["users.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_announcements_visible_from_id", "announcements", ["visible_from", "id"])
    op.create_index(
        "ix_announcements_email_pending", "announcements", ["email_category", "email_done_at"]
    )
    op.create_table(
        "announcement_accounts",
        sa.Column("announcement_id", sa.Uuid(), nullable=False),
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(["announcement_id"], ["announcements.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("announcement_id", "account_id"),
    )
    op.create_index("ix_announcement_accounts_account_id", "announcement_accounts", ["account_id"])
    op.create_table(
        "announcement_reads",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("announcement_id", sa.Uuid(), nullable=False),
        sa.Column("read_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["announcement_id"], ["announcements.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("user_id", "announcement_id"),
    )


def downgrade() -> None:
    op.drop_table("announcement_reads")
    op.drop_index("ix_announcement_accounts_account_id", table_name="announcement_accounts")
    op.drop_table("announcement_accounts")
    op.drop_index("ix_announcements_email_pending", table_name="announcements")
    op.drop_index("ix_announcements_visible_from_id", table_name="announcements")
    op.drop_table("announcements")
