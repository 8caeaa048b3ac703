"""GraphQL documents known by their SHA-256 (persisted queries).

A row is either *trusted* (registered at build time with `clientzone documents
register`, the allow-list when TRUSTED_DOCUMENTS is on) or was sent once by a
client with its hash (Apollo's automatic persisted queries) and is kept so any
server process can answer the hash alone later. Rows are never changed but to
promote one to trusted: a hash names one text forever.
"""

from __future__ import annotations

import hashlib
from datetime import datetime

from sqlalchemy import Boolean, String, Text, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import Field, SQLModel, col

from clientzone.models.base import UTCDateTime, utcnow


class PersistedDocument(SQLModel, table=True):
    __tablename__ = "persisted_documents"

    sha256: str = Field(sa_type=String(64), primary_key=True)
    document: str = Field(sa_type=Text)
    trusted: bool = Field(sa_type=Boolean, default=False)
    # The operation names in the document, for people reading the table.
    operation_names: str | None = Field(default=None, sa_type=String(500))
    created_at: datetime = Field(sa_type=UTCDateTime, default_factory=utcnow)


def document_hash(document: str) -> str:
    """The id of a document: the hex SHA-256 of its UTF-8 text, as Apollo clients send it."""
    return hashlib.sha256(document.encode("utf-8")).hexdigest()


async def document_by_hash(session: AsyncSession, sha256: str) -> tuple[str, bool] | None:
    """(text, trusted) of a known document."""
    statement = select(col(PersistedDocument.document), col(PersistedDocument.trusted)).where(
        col(PersistedDocument.sha256) == sha256
    )
    row = (await session.execute(statement)).one_or_none()
    return None if row is None else (row[0], bool(row[1]))


async def save_document(
    session: AsyncSession,
    *,
    document: str,
    trusted: bool,
    operation_names: str | None = None,
) -> bool:
    """Keep a document under its hash; True when it was new. Registering a
    document a client already sent makes it trusted. Safe when several
    processes save the same document at once (insert or nothing)."""
    sha256 = document_hash(document)
    table = PersistedDocument.__table__  # type: ignore[attr-defined]
    insert = sqlite.insert if session.get_bind().dialect.name == "sqlite" else postgresql.insert
    statement = (
        insert(table)
        .values(
            sha256=sha256,
            document=document,
            trusted=trusted,
            operation_names=operation_names,
            created_at=utcnow(),
        )
        .on_conflict_do_nothing(index_elements=[table.c.sha256])
    )
    inserted = (await session.execute(statement)).rowcount == 1  # type: ignore[attr-defined]
    if not inserted and trusted:
        await session.execute(
            update(PersistedDocument)
            .where(col(PersistedDocument.sha256) == sha256)
            .values(trusted=True)
        )
    return bool(inserted)


async def trusted_documents(session: AsyncSession) -> list[tuple[str, str | None]]:
    """(hash, operation names) of every registered document."""
    statement = (
        select(col(PersistedDocument.sha256), col(PersistedDocument.operation_names))
        .where(col(PersistedDocument.trusted))
        .order_by(col(PersistedDocument.operation_names), col(PersistedDocument.sha256))
    )
    return [(row[0], row[1]) for row in await session.execute(statement)]
