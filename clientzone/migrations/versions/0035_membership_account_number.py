"""memberships carry their account's customer number, indexed per user, so that
a login's memberships come in that order from an index however many there are

Revision ID: 0035
Revises: 0033
Create Date: 2026-12-01

The column stays nullable in the database: SQLite adds a NOT NULL column to a
table with rows only by rebuilding it, and a rebuild of `memberships` would
drop the table that `contacts.membership_id` refers to (with foreign keys on,
setting those to NULL). The code sets it on every insert.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0035"
down_revision: str | None = "0033"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("memberships", sa.Column("account_number", sa.String(32), nullable=True))
    op.execute(
        "UPDATE memberships SET account_number = "
        "(SELECT accounts.number FROM accounts WHERE accounts.id = memberships.account_id)"
    )
    op.create_index(
        "ix_memberships_user_id_account_number", "memberships", ["user_id", "account_number"]
    )


def downgrade() -> None:
    op.drop_index("ix_memberships_user_id_account_number", table_name="memberships")
    op.drop_column("memberships", "account_number")
