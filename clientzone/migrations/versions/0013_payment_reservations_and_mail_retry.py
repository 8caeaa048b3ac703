"""payments paid in advance or with a refund due; the token an email carries

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("payments") as batch:
        batch.add_column(
            sa.Column("in_advance", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch.add_column(
            sa.Column(
                "refund_due_minor", sa.BigInteger(), nullable=False, server_default=sa.text("0")
            )
        )
    with op.batch_alter_table("email_messages") as batch:
        batch.add_column(sa.Column("token_hash", sa.String(64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("email_messages") as batch:
        batch.drop_column("token_hash")
    with op.batch_alter_table("payments") as batch:
        batch.drop_column("refund_due_minor")
        batch.drop_column("in_advance")
