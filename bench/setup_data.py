"""Bulk data for benchmarks: one owner with many accounts, inserted in batches."""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy import insert, text

from clientzone.db import Database
from clientzone.migrate import upgrade
from clientzone.models.accounts import Account
from clientzone.models.base import new_id, utcnow
from clientzone.models.memberships import Membership, Role
from clientzone.models.sessions import SessionKind, create_session
from clientzone.models.users import User

ROWS_PER_STATEMENT = 1_000


async def prepare(
    database: Database, *, accounts: int, linked_per_account: int = 0
) -> tuple[str, uuid.UUID]:
    """Migrate, then create an owner of `accounts` accounts (the first one with
    `linked_per_account` linked accounts). Returns a bearer token and the first account id."""
    await upgrade(database)
    now = utcnow()
    user_id = new_id()
    account_rows = [
        {
            "id": new_id(),
            "number": f"B-{i:07d}",
            "name": f"Cuenta {i}",
            "status": "ACTIVE",
            "currency": "MXN",
            "locale": "es",
            "created_at": now,
            "updated_at": now,
        }
        for i in range(accounts)
    ]
    first_id = account_rows[0]["id"]
    linked_rows = [
        {**row, "id": new_id(), "number": f"L-{i:07d}", "parent_id": first_id}
        for i, row in enumerate(account_rows[:1] * linked_per_account)
    ]
    async with database.session() as session, session.begin():
        await session.execute(
            insert(User).values(
                id=user_id,
                email=f"bench-{user_id.hex[:8]}@example.com",
                first_name="Bench",
                last_name="Owner",
                locale="es",
                status="ACTIVE",
                is_staff=False,
                created_at=now,
            )
        )
        # Multi-row statements, not executemany: the counts' triggers (a
        # parent's linked accounts, a user's memberships) then update the
        # counted row once per statement, not once per row (in one transaction
        # PostgreSQL keeps every version of that row, and each update walks them).
        for rows in (account_rows, linked_rows):
            for start in range(0, len(rows), ROWS_PER_STATEMENT):
                await session.execute(
                    insert(Account).values(rows[start : start + ROWS_PER_STATEMENT])
                )
        memberships = [
            {
                "id": new_id(),
                "user_id": user_id,
                "account_id": row["id"],
                "account_number": row["number"],
                "role": Role.OWNER.value,
                "permissions": "",
                "created_at": now,
            }
            for row in account_rows
        ]
        for start in range(0, len(memberships), ROWS_PER_STATEMENT):
            batch = memberships[start : start + ROWS_PER_STATEMENT]
            await session.execute(insert(Membership).values(batch))
        token, _ = await create_session(
            session, user_id=user_id, kind=SessionKind.TOKEN, lifetime=timedelta(days=1)
        )
    # Fresh statistics, as autovacuum would gather after a bulk load.
    async with database.engine.connect() as connection:
        await connection.execute(text("ANALYZE"))
        await connection.commit()
    return token, first_id
