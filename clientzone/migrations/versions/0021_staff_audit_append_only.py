"""the staff audit log is append-only in the database too: triggers refuse
UPDATE and DELETE on staff_audit_log

The one update allowed is the one the foreign keys' ON DELETE SET NULL makes
when a user or an account is deleted: staff_user_id or account_id set to NULL
(nothing else changed) once the row it pointed at is gone. The staff member's
email stays in the row. TRUNCATE (an operator's, or the test suite's) is not
refused. A column added to staff_audit_log must be added to the SQLite trigger.

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-01
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0021"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

POSTGRESQL_FUNCTION = """
CREATE FUNCTION staff_audit_log_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    allowed staff_audit_log%ROWTYPE;
BEGIN
    IF TG_OP = 'UPDATE' THEN
        allowed := OLD;
        IF NEW.staff_user_id IS NULL
           AND NOT EXISTS (SELECT 1 FROM users WHERE id = OLD.staff_user_id) THEN
            allowed.staff_user_id := NULL;
        END IF;
        IF NEW.account_id IS NULL
           AND NOT EXISTS (SELECT 1 FROM accounts WHERE id = OLD.account_id) THEN
            allowed.account_id := NULL;
        END IF;
        IF ROW(NEW.*) IS NOT DISTINCT FROM ROW(allowed.*) THEN
            RETURN NEW;
        END IF;
    END IF;
    RAISE EXCEPTION 'staff_audit_log is append-only: % refused', TG_OP
        USING ERRCODE = 'integrity_constraint_violation';
END
$$
"""
POSTGRESQL_TRIGGER = """
CREATE TRIGGER staff_audit_log_append_only BEFORE UPDATE OR DELETE ON staff_audit_log
FOR EACH ROW EXECUTE FUNCTION staff_audit_log_append_only()
"""

# Every column but the two foreign keys must stay as it was.
SQLITE_NO_UPDATE = """
CREATE TRIGGER staff_audit_log_no_update BEFORE UPDATE ON staff_audit_log
FOR EACH ROW WHEN NOT (
    NEW.id IS OLD.id AND NEW.staff_email IS OLD.staff_email AND NEW.action IS OLD.action
    AND NEW.target IS OLD.target AND NEW.reason IS OLD.reason
    AND NEW.case_number IS OLD.case_number AND NEW.ip IS OLD.ip
    AND NEW.user_agent IS OLD.user_agent AND NEW.created_at IS OLD.created_at
    AND (NEW.staff_user_id IS OLD.staff_user_id OR (NEW.staff_user_id IS NULL
         AND NOT EXISTS (SELECT 1 FROM users WHERE id = OLD.staff_user_id)))
    AND (NEW.account_id IS OLD.account_id OR (NEW.account_id IS NULL
         AND NOT EXISTS (SELECT 1 FROM accounts WHERE id = OLD.account_id)))
)
BEGIN
    SELECT RAISE(ABORT, 'staff_audit_log is append-only: UPDATE refused');
END
"""
SQLITE_NO_DELETE = """
CREATE TRIGGER staff_audit_log_no_delete BEFORE DELETE ON staff_audit_log
BEGIN
    SELECT RAISE(ABORT, 'staff_audit_log is append-only: DELETE refused');
END
"""


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(POSTGRESQL_FUNCTION)
        op.execute(POSTGRESQL_TRIGGER)
    else:
        op.execute(SQLITE_NO_UPDATE)
        op.execute(SQLITE_NO_DELETE)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER staff_audit_log_append_only ON staff_audit_log")
        op.execute("DROP FUNCTION staff_audit_log_append_only()")
    else:
        op.execute("DROP TRIGGER staff_audit_log_no_update")
        op.execute("DROP TRIGGER staff_audit_log_no_delete")
