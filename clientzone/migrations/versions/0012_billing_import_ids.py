"""ledger movements' external ids (billing import); an index for invoice status filters

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-29
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Batch: SQLite adds a unique column by rebuilding the table.
    with op.batch_alter_table("ledger_entries") as batch:
        batch.add_column(sa.Column("external_id", sa.String(100), nullable=True))
        batch.create_unique_constraint("uq_ledger_entries_external_id", ["external_id"])
    op.create_index(
        "ix_invoices_account_id_status_issued_on_id",
        "invoices",
        ["account_id", "status", "issued_on", "id"],
    )


def downgrade() -> None:
    op.drop_index("ix_invoices_account_id_status_issued_on_id", "invoices")
    with op.batch_alter_table("ledger_entries") as batch:
        batch.drop_constraint("uq_ledger_entries_external_id", type_="unique")
        batch.drop_column("external_id")
