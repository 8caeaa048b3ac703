"""orders (with lines) and contracted services

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-29
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TZ = sa.DateTime(timezone=True)


def _account_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["account_id"], ["accounts.id"], name=f"fk_{table}_account_id_accounts", ondelete="CASCADE"
    )


def upgrade() -> None:
    op.create_table(
        "orders",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("external_id", sa.String(100), nullable=True),
        sa.Column("number", sa.String(40), nullable=False),
        sa.Column("customer_reference", sa.String(80), nullable=True),
        sa.Column("ordered_on", sa.Date(), nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("total_minor", sa.BigInteger(), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_orders"),
        sa.UniqueConstraint("account_id", "number", name="uq_orders_account_id_number"),
        sa.UniqueConstraint("external_id", name="uq_orders_external_id"),
        _account_fk("orders"),
    )
    op.create_index(
        "ix_orders_account_id_ordered_on_id", "orders", ["account_id", "ordered_on", "id"]
    )
    op.create_index(
        "ix_orders_account_id_customer_reference", "orders", ["account_id", "customer_reference"]
    )
    op.create_table(
        "order_lines",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("order_id", sa.Uuid(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("sku", sa.String(60), nullable=True),
        sa.Column("description", sa.String(300), nullable=False),
        sa.Column("quantity_milli", sa.BigInteger(), nullable=False),
        sa.Column("unit_price_minor", sa.BigInteger(), nullable=False),
        sa.Column("total_minor", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_order_lines"),
        sa.UniqueConstraint("order_id", "position", name="uq_order_lines_order_id_position"),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name="fk_order_lines_order_id_orders", ondelete="CASCADE"
        ),
    )
    op.create_table(
        "services",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("external_id", sa.String(100), nullable=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("billing_cycle", sa.String(32), nullable=False),
        sa.Column("next_due_on", sa.Date(), nullable=True),
        sa.Column("expires_on", sa.Date(), nullable=True),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("recurring_minor", sa.BigInteger(), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_services"),
        sa.UniqueConstraint("external_id", name="uq_services_external_id"),
        _account_fk("services"),
    )
    op.create_index("ix_services_account_id_name_id", "services", ["account_id", "name", "id"])


def downgrade() -> None:
    op.drop_table("services")
    op.drop_table("order_lines")
    op.drop_table("orders")
