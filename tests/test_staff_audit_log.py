"""The staff audit log is append-only in the database itself (migration
0021): a raw UPDATE or DELETE is refused on SQLite and PostgreSQL alike, but
deleting a user or an account still empties the row's link to it (ON DELETE
SET NULL) and keeps the row."""

from __future__ import annotations

import pytest
from sqlalchemy import delete, select, text
from sqlalchemy.exc import DBAPIError
from sqlmodel import col

from clientzone.db import Database
from clientzone.models.accounts import Account
from clientzone.models.staff import StaffAction, StaffAuditRecord, StaffRole, record_staff_action
from clientzone.models.users import User
from tests.helpers import make_account, make_staff

REFUSED = [
    "UPDATE staff_audit_log SET reason = 'otra cosa'",
    "UPDATE staff_audit_log SET staff_user_id = NULL",
    "UPDATE staff_audit_log SET account_id = NULL",
    "DELETE FROM staff_audit_log",
]


async def _rows(database: Database) -> list[StaffAuditRecord]:
    async with database.session() as session:
        return list((await session.execute(select(StaffAuditRecord))).scalars())


@pytest.mark.parametrize("statement", REFUSED)
async def test_audit_rows_cannot_be_changed_nor_deleted(database: Database, statement: str) -> None:
    account = await make_account(database, number="MX-9100")
    staff, _ = await make_staff(database, StaffRole.ADMIN, "jefa@example.com")
    async with database.transaction() as session:
        record_staff_action(
            session,
            staff_user_id=staff.id,
            staff_email=staff.email,
            action=StaffAction.ACCOUNT_VIEWED,
            account_id=account.id,
            reason="Caso 7",
        )
    with pytest.raises(DBAPIError, match="staff_audit_log is append-only"):
        async with database.transaction() as session:
            await session.execute(text(statement))
    (row,) = await _rows(database)
    assert (row.staff_user_id, row.account_id, row.reason) == (staff.id, account.id, "Caso 7")


async def test_deleting_the_user_and_the_account_keeps_their_audit_rows(
    database: Database,
) -> None:
    account = await make_account(database, number="MX-9101")
    other = await make_account(database, number="MX-9102")
    staff, _ = await make_staff(database, StaffRole.ADMIN, "jefa@example.com")
    async with database.transaction() as session:
        for target in (account, other):
            record_staff_action(
                session,
                staff_user_id=staff.id,
                staff_email=staff.email,
                action=StaffAction.ACCOUNT_LINKED,
                account_id=target.id,
                target=target.number,
                reason="Grupo",
            )
    async with database.transaction() as session:
        await session.execute(delete(Account).where(col(Account.id) == account.id))
    async with database.transaction() as session:
        await session.execute(delete(User).where(col(User.id) == staff.id))
    rows = sorted(await _rows(database), key=lambda r: r.target or "")
    assert [(r.staff_user_id, r.account_id, r.staff_email, r.target) for r in rows] == [
        (None, None, "jefa@example.com", "MX-9101"),
        (None, other.id, "jefa@example.com", "MX-9102"),
    ]
    # The remaining link is still protected.
    with pytest.raises(DBAPIError, match="append-only"):
        async with database.transaction() as session:
            await session.execute(text("UPDATE staff_audit_log SET account_id = NULL"))


async def test_the_sqlite_trigger_names_every_column(database: Database) -> None:
    """A column added to the table must be kept unchanged by the trigger too."""
    if not database.is_sqlite:
        pytest.skip("PostgreSQL compares whole rows")
    async with database.session() as session:
        sql = (
            await session.execute(
                text("SELECT sql FROM sqlite_master WHERE name = 'staff_audit_log_no_update'")
            )
        ).scalar_one()
    columns = StaffAuditRecord.__table__.columns.keys()  # type: ignore[attr-defined]
    assert [c for c in columns if f"NEW.{c} IS OLD.{c}" not in sql] == []
