"""identity: idle session expiry, security events, one-time tokens, legacy
logins, rate-limit counters

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TZ = sa.DateTime(timezone=True)


def _user_fk(table: str, ondelete: str = "CASCADE", column: str = "user_id") -> sa.Constraint:
    return sa.ForeignKeyConstraint(
        [column], ["users.id"], name=f"fk_{table}_{column}_users", ondelete=ondelete
    )


def upgrade() -> None:
    with op.batch_alter_table("sessions") as batch:
        batch.add_column(sa.Column("idle_expires_at", TZ, nullable=True))
        batch.drop_index("ix_sessions_user_id")
        batch.create_index("ix_sessions_user_id_id", ["user_id", "id"])

    op.create_table(
        "security_events",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("ip", sa.String(45), nullable=True),
        sa.Column("user_agent", sa.String(400), nullable=True),
        sa.Column("detail", sa.String(200), nullable=True),
        sa.Column("created_at", TZ, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_security_events"),
        _user_fk("security_events"),
    )
    op.create_index("ix_security_events_user_id_id", "security_events", ["user_id", "id"])

    op.create_table(
        "user_tokens",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("purpose", sa.String(32), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("code_hash", sa.String(64), nullable=True),
        sa.Column("login_hash", sa.String(64), nullable=True),
        sa.Column("new_email", sa.String(254), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("expires_at", TZ, nullable=False),
        sa.Column("used_at", TZ, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_user_tokens"),
        sa.UniqueConstraint("token_hash", name="uq_user_tokens_token_hash"),
        _user_fk("user_tokens"),
    )
    op.create_index("ix_user_tokens_user_id_purpose", "user_tokens", ["user_id", "purpose"])
    op.create_index("ix_user_tokens_login_hash", "user_tokens", ["login_hash"])

    op.create_table(
        "legacy_logins",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("username", sa.String(150), nullable=False),
        sa.Column("password_hash", sa.String(255), nullable=False),
        sa.Column("is_main", sa.Boolean(), nullable=False),
        sa.Column("permissions", sa.String(400), nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("claimed_by", sa.Uuid(), nullable=True),
        sa.Column("claimed_at", TZ, nullable=True),
        sa.Column("created_at", TZ, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_legacy_logins"),
        sa.UniqueConstraint("account_id", "username", name="uq_legacy_logins_account_id_username"),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name="fk_legacy_logins_account_id_accounts",
            ondelete="CASCADE",
        ),
        _user_fk("legacy_logins", ondelete="SET NULL", column="claimed_by"),
    )

    op.create_table(
        "rate_limit_counters",
        sa.Column("key", sa.String(120), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("expires_at", TZ, nullable=False),
        sa.PrimaryKeyConstraint("key", name="pk_rate_limit_counters"),
    )
    op.create_index("ix_rate_limit_counters_expires_at", "rate_limit_counters", ["expires_at"])


def downgrade() -> None:
    op.drop_table("rate_limit_counters")
    op.drop_table("legacy_logins")
    op.drop_table("user_tokens")
    op.drop_table("security_events")
    with op.batch_alter_table("sessions") as batch:
        batch.drop_index("ix_sessions_user_id_id")
        batch.create_index("ix_sessions_user_id", ["user_id"])
        batch.drop_column("idle_expires_at")
