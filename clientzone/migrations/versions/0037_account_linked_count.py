"""accounts carry the count of their linked accounts, kept by the database
itself, so that a login's `memberships.totalCount` adds up its inherited
accounts instead of listing them

Revision ID: 0037
Revises: 0036
Create Date: 2026-12-01

Kept by triggers like the membership count (0036): every way an account is
linked, unlinked, created under a parent or deleted counts. On PostgreSQL
they run once per statement over its transition tables; the one on UPDATE
runs for every update of `accounts`, and does nothing (no nested update, so
no recursion) unless a parent changed.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0037"
down_revision: str | None = "0036"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SQLITE_TRIGGERS = [
    """
    CREATE TRIGGER accounts_linked_counted_insert AFTER INSERT ON accounts
    WHEN NEW.parent_id IS NOT NULL
    BEGIN
        UPDATE accounts SET linked_count = linked_count + 1 WHERE id = NEW.parent_id;
    END
    """,
    """
    CREATE TRIGGER accounts_linked_counted_delete AFTER DELETE ON accounts
    WHEN OLD.parent_id IS NOT NULL
    BEGIN
        UPDATE accounts SET linked_count = linked_count - 1 WHERE id = OLD.parent_id;
    END
    """,
    """
    CREATE TRIGGER accounts_linked_counted_move AFTER UPDATE OF parent_id ON accounts
    WHEN OLD.parent_id IS NOT NEW.parent_id
    BEGIN
        UPDATE accounts SET linked_count = linked_count - 1 WHERE id = OLD.parent_id;
        UPDATE accounts SET linked_count = linked_count + 1 WHERE id = NEW.parent_id;
    END
    """,
]

POSTGRESQL_TRIGGERS = [
    """
    CREATE FUNCTION accounts_linked_counted() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'INSERT' THEN
            UPDATE accounts SET linked_count = accounts.linked_count + added.n
            FROM (
                SELECT parent_id, count(*) AS n FROM added_accounts
                WHERE parent_id IS NOT NULL GROUP BY parent_id
            ) AS added
            WHERE accounts.id = added.parent_id;
        ELSIF TG_OP = 'DELETE' THEN
            UPDATE accounts SET linked_count = accounts.linked_count - removed.n
            FROM (
                SELECT parent_id, count(*) AS n FROM removed_accounts
                WHERE parent_id IS NOT NULL GROUP BY parent_id
            ) AS removed
            WHERE accounts.id = removed.parent_id;
        ELSIF EXISTS (
            SELECT 1 FROM added_accounts AS after
            JOIN removed_accounts AS before ON before.id = after.id
            WHERE before.parent_id IS DISTINCT FROM after.parent_id
        ) THEN
            UPDATE accounts SET linked_count = accounts.linked_count + moved.delta
            FROM (
                SELECT parent_id, sum(delta) AS delta FROM (
                    SELECT after.parent_id, 1 AS delta
                    FROM added_accounts AS after
                    JOIN removed_accounts AS before ON before.id = after.id
                    WHERE before.parent_id IS DISTINCT FROM after.parent_id
                    UNION ALL
                    SELECT before.parent_id, -1
                    FROM added_accounts AS after
                    JOIN removed_accounts AS before ON before.id = after.id
                    WHERE before.parent_id IS DISTINCT FROM after.parent_id
                ) AS deltas
                WHERE parent_id IS NOT NULL
                GROUP BY parent_id
            ) AS moved
            WHERE accounts.id = moved.parent_id;
        END IF;
        RETURN NULL;
    END $$
    """,
    """
    CREATE TRIGGER accounts_linked_counted_insert AFTER INSERT ON accounts
    REFERENCING NEW TABLE AS added_accounts
    FOR EACH STATEMENT EXECUTE FUNCTION accounts_linked_counted()
    """,
    """
    CREATE TRIGGER accounts_linked_counted_delete AFTER DELETE ON accounts
    REFERENCING OLD TABLE AS removed_accounts
    FOR EACH STATEMENT EXECUTE FUNCTION accounts_linked_counted()
    """,
    """
    CREATE TRIGGER accounts_linked_counted_move AFTER UPDATE ON accounts
    REFERENCING OLD TABLE AS removed_accounts NEW TABLE AS added_accounts
    FOR EACH STATEMENT EXECUTE FUNCTION accounts_linked_counted()
    """,
]


def upgrade() -> None:
    op.add_column(
        "accounts",
        sa.Column("linked_count", sa.Integer(), nullable=False, server_default=sa.text("0")),
    )
    op.execute(
        "UPDATE accounts SET linked_count = "
        "(SELECT count(*) FROM accounts AS child WHERE child.parent_id = accounts.id)"
    )
    postgresql = op.get_bind().dialect.name == "postgresql"
    for statement in POSTGRESQL_TRIGGERS if postgresql else SQLITE_TRIGGERS:
        op.execute(statement)


def downgrade() -> None:
    postgresql = op.get_bind().dialect.name == "postgresql"
    for name in ("insert", "delete", "move"):
        on_table = " ON accounts" if postgresql else ""
        op.execute(f"DROP TRIGGER accounts_linked_counted_{name}{on_table}")
    if postgresql:
        op.execute("DROP FUNCTION accounts_linked_counted()")
    op.drop_column("accounts", "linked_count")
