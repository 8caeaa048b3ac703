"""users carry the count of their memberships, kept by the database itself, so
that `memberships.totalCount` costs one row however many accounts a login has

Revision ID: 0036
Revises: 0035
Create Date: 2026-12-01

Triggers keep the count, so every way a membership is written counts: the
API, imports, account unification, cascades from a deleted account or user,
and SQL typed by hand. On PostgreSQL they run once per statement over its
transition tables (a statement inserting many memberships updates each user
once); on SQLite, which has only row triggers, once per row. A bulk load of
many memberships of one user in one PostgreSQL transaction should use
multi-row statements: every update of the user's row in that transaction
leaves a version behind, and each next update walks them.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0036"
down_revision: str | None = "0035"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SQLITE_TRIGGERS = [
    """
    CREATE TRIGGER memberships_counted_insert AFTER INSERT ON memberships
    BEGIN
        UPDATE users SET membership_count = membership_count + 1 WHERE id = NEW.user_id;
    END
    """,
    """
    CREATE TRIGGER memberships_counted_delete AFTER DELETE ON memberships
    BEGIN
        UPDATE users SET membership_count = membership_count - 1 WHERE id = OLD.user_id;
    END
    """,
    """
    CREATE TRIGGER memberships_counted_move AFTER UPDATE OF user_id ON memberships
    WHEN OLD.user_id IS NOT NEW.user_id
    BEGIN
        UPDATE users SET membership_count = membership_count - 1 WHERE id = OLD.user_id;
        UPDATE users SET membership_count = membership_count + 1 WHERE id = NEW.user_id;
    END
    """,
]

POSTGRESQL_TRIGGERS = [
    """
    CREATE FUNCTION memberships_counted() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'INSERT' THEN
            UPDATE users SET membership_count = users.membership_count + added.n
            FROM (SELECT user_id, count(*) AS n FROM added_memberships GROUP BY user_id) AS added
            WHERE users.id = added.user_id;
        ELSIF TG_OP = 'DELETE' THEN
            UPDATE users SET membership_count = users.membership_count - removed.n
            FROM (SELECT user_id, count(*) AS n FROM removed_memberships GROUP BY user_id)
                AS removed
            WHERE users.id = removed.user_id;
        ELSE
            UPDATE users SET membership_count = users.membership_count + moved.delta
            FROM (
                SELECT user_id, sum(delta) AS delta FROM (
                    SELECT after.user_id, 1 AS delta
                    FROM added_memberships AS after
                    JOIN removed_memberships AS before ON before.id = after.id
                    WHERE before.user_id <> after.user_id
                    UNION ALL
                    SELECT before.user_id, -1
                    FROM added_memberships AS after
                    JOIN removed_memberships AS before ON before.id = after.id
                    WHERE before.user_id <> after.user_id
                ) AS deltas GROUP BY user_id
            ) AS moved
            WHERE users.id = moved.user_id;
        END IF;
        RETURN NULL;
    END $$
    """,
    """
    CREATE TRIGGER memberships_counted_insert AFTER INSERT ON memberships
    REFERENCING NEW TABLE AS added_memberships
    FOR EACH STATEMENT EXECUTE FUNCTION memberships_counted()
    """,
    """
    CREATE TRIGGER memberships_counted_delete AFTER DELETE ON memberships
    REFERENCING OLD TABLE AS removed_memberships
    FOR EACH STATEMENT EXECUTE FUNCTION memberships_counted()
    """,
    """
    CREATE TRIGGER memberships_counted_move AFTER UPDATE ON memberships
    REFERENCING OLD TABLE AS removed_memberships NEW TABLE AS added_memberships
    FOR EACH STATEMENT EXECUTE FUNCTION memberships_counted()
    """,
]


def upgrade() -> None:
    op.add_column(
        "users",
        sa.Column("membership_count", sa.Integer(), nullable=False, server_default=sa.text("0")),
    )
    op.execute(
        "UPDATE users SET membership_count = "
        "(SELECT count(*) FROM memberships WHERE memberships.user_id = users.id)"
    )
    postgresql = op.get_bind().dialect.name == "postgresql"
    for statement in POSTGRESQL_TRIGGERS if postgresql else SQLITE_TRIGGERS:
        op.execute(statement)


def downgrade() -> None:
    postgresql = op.get_bind().dialect.name == "postgresql"
    for name in ("insert", "delete", "move"):
        on_table = " ON memberships" if postgresql else ""
        op.execute(f"DROP TRIGGER memberships_counted_{name}{on_table}")
    if postgresql:
        op.execute("DROP FUNCTION memberships_counted()")
    op.drop_column("users", "membership_count")
