"""payments: the provider's id of the payment and what it paid of each invoice

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("payments") as batch:
        batch.add_column(sa.Column("provider_ref", sa.String(100), nullable=True))
        batch.add_column(sa.Column("allocations", sa.JSON(), nullable=True))
        batch.create_index("ix_payments_provider_ref", ["provider", "provider_ref"])


def downgrade() -> None:
    with op.batch_alter_table("payments") as batch:
        batch.drop_index("ix_payments_provider_ref")
        batch.drop_column("allocations")
        batch.drop_column("provider_ref")
