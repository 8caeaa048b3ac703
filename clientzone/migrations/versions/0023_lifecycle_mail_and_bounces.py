"""order and service mail from the billing import (when a status changed, a
service's start and access instructions); contacts and account emails
whose address bounces

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0023"
down_revision: str | None = "0022"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("orders") as batch:
        batch.add_column(sa.Column("status_changed_at", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("services") as batch:
        batch.add_column(sa.Column("started_on", sa.Date(), nullable=True))
        batch.add_column(sa.Column("access_instructions", sa.Text(), nullable=True))
        batch.add_column(sa.Column("status_changed_at", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("accounts") as batch:
        batch.add_column(sa.Column("bounced_email", sa.String(254), nullable=True))
        batch.add_column(sa.Column("email_bounced_at", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("contacts") as batch:
        batch.add_column(
            sa.Column("bouncing", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch.add_column(sa.Column("bounced_at", sa.DateTime(timezone=True), nullable=True))
    op.create_index("ix_orders_ordered_on", "orders", ["ordered_on"])
    op.create_index("ix_orders_status_changed_at", "orders", ["status_changed_at"])
    op.create_index("ix_services_started_on", "services", ["started_on"])
    op.create_index("ix_services_status_changed_at", "services", ["status_changed_at"])


def downgrade() -> None:
    op.drop_index("ix_services_status_changed_at", table_name="services")
    op.drop_index("ix_services_started_on", table_name="services")
    op.drop_index("ix_orders_status_changed_at", table_name="orders")
    op.drop_index("ix_orders_ordered_on", table_name="orders")
    with op.batch_alter_table("contacts") as batch:
        batch.drop_column("bounced_at")
        batch.drop_column("bouncing")
    with op.batch_alter_table("accounts") as batch:
        batch.drop_column("email_bounced_at")
        batch.drop_column("bounced_email")
    with op.batch_alter_table("services") as batch:
        batch.drop_column("status_changed_at")
        batch.drop_column("access_instructions")
        batch.drop_column("started_on")
    with op.batch_alter_table("orders") as batch:
        batch.drop_column("status_changed_at")
