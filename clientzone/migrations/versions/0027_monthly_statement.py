"""accounts that asked for a statement of each month by email

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0027"
down_revision: str | None = "0026"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A plain ADD COLUMN: on SQLite a batch copy of `accounts` would break the
    # staff audit log's triggers (0021), which name the table.
    op.add_column(
        "accounts",
        sa.Column("monthly_statement", sa.Boolean(), nullable=False, server_default=sa.false()),
    )


def downgrade() -> None:
    op.drop_column("accounts", "monthly_statement")
