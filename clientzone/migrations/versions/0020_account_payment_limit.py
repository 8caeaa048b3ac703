"""an account's own online-payment limit (billing staff set it); the billing
desk's queue of reported transfers; what partial refunds gave back

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("accounts") as batch:
        batch.add_column(sa.Column("online_payment_limit_minor", sa.BigInteger(), nullable=True))
    with op.batch_alter_table("payments") as batch:
        batch.add_column(
            sa.Column("refunded_minor", sa.BigInteger(), nullable=False, server_default="0")
        )
    op.create_index("ix_payments_status_id", "payments", ["status", "id"])


def downgrade() -> None:
    op.drop_index("ix_payments_status_id", table_name="payments")
    with op.batch_alter_table("payments") as batch:
        batch.drop_column("refunded_minor")
    with op.batch_alter_table("accounts") as batch:
        batch.drop_column("online_payment_limit_minor")
