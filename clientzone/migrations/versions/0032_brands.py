"""brands: the companies one portal serves; an account's brand; a message's sender

Revision ID: 0032
Revises: 0029
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0032"
down_revision: str | None = "0031"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "brands",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("company_name", sa.String(length=200), nullable=False),
        sa.Column("logo_url", sa.String(length=500), nullable=True),
        sa.Column("support_email", sa.String(length=254), nullable=False),
        sa.Column("support_phone", sa.String(length=32), nullable=True),
        sa.Column("from_name", sa.String(length=200), nullable=False),
        sa.Column("from_address", sa.String(length=254), nullable=False),
        sa.Column("portal_url", sa.String(length=500), nullable=False),
        sa.Column("primary_color", sa.String(length=7), nullable=True),
        sa.Column("accent_color", sa.String(length=7), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_brands")),
        sa.UniqueConstraint("code", name=op.f("uq_brands_code")),
    )
    # A plain ADD COLUMN: on SQLite a batch copy of `accounts` would break the
    # staff audit log's triggers (0021), which name the table. No foreign key:
    # SQLite reflects one added by ALTER TABLE without its name, and brands
    # are never deleted (the import sets brand_id only to a brand it found).
    op.add_column("accounts", sa.Column("brand_id", sa.Uuid(), nullable=True))
    op.add_column("email_messages", sa.Column("from_name", sa.String(length=200), nullable=True))
    op.add_column("email_messages", sa.Column("from_address", sa.String(length=254), nullable=True))
    op.add_column("email_messages", sa.Column("reply_to", sa.String(length=254), nullable=True))


def downgrade() -> None:
    op.drop_column("email_messages", "reply_to")
    op.drop_column("email_messages", "from_address")
    op.drop_column("email_messages", "from_name")
    op.drop_column("accounts", "brand_id")
    op.drop_table("brands")
