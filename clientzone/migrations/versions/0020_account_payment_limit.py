"""an account's own online-payment limit (billing staff set it); the billing
desk's queue of reported transfers; what partial refunds gave back; trigram
indexes for support's search by a piece of the name (pg_trgm on PostgreSQL)

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
    if op.get_bind().dialect.name != "postgresql":
        return
    # A trusted extension: the database owner may create it.
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for name, column in (
        ("ix_accounts_name_trigrams", "name"),
        ("ix_accounts_company_name_trigrams", "company_name"),
    ):
        op.create_index(
            name,
            "accounts",
            [sa.func.lower(sa.text(column)).label(f"lower_{column}")],
            postgresql_using="gin",
            postgresql_ops={f"lower_{column}": "gin_trgm_ops"},
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.drop_index("ix_accounts_company_name_trigrams", table_name="accounts")
        op.drop_index("ix_accounts_name_trigrams", table_name="accounts")
    op.drop_index("ix_payments_status_id", table_name="payments")
    with op.batch_alter_table("payments") as batch:
        batch.drop_column("refunded_minor")
    with op.batch_alter_table("accounts") as batch:
        batch.drop_column("online_payment_limit_minor")
