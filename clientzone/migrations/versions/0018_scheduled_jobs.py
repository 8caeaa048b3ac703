"""scheduled jobs (one row per fact and period acted on); which recipients may unsubscribe

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "scheduled_jobs",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("subject_id", sa.Uuid(), nullable=False),
        sa.Column("period", sa.String(40), nullable=False),
        sa.Column("account_id", sa.Uuid(), nullable=True),
        sa.Column("email_id", sa.Uuid(), nullable=True),
        sa.Column("outcome", sa.String(32), nullable=False),
        sa.Column("worker", sa.String(100), nullable=False),
        sa.Column("done_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name="fk_scheduled_jobs_account_id_accounts",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_scheduled_jobs"),
        sa.UniqueConstraint(
            "kind", "subject_id", "period", name="uq_scheduled_jobs_kind_subject_id_period"
        ),
    )
    op.create_index("ix_scheduled_jobs_done_at", "scheduled_jobs", ["done_at"])
    op.create_index("ix_scheduled_jobs_account_id", "scheduled_jobs", ["account_id"])
    with op.batch_alter_table("email_messages") as batch:
        batch.add_column(
            sa.Column("unsubscribable", sa.JSON(), server_default=sa.text("'[]'"), nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("email_messages") as batch:
        batch.drop_column("unsubscribable")
    op.drop_table("scheduled_jobs")
