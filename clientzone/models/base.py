"""Column types and helpers shared by every table.

- ids are UUIDs with a millisecond timestamp in front (the UUIDv7 layout): not
  guessable from a row number, yet inserted in roughly ascending order;
- times are stored as UTC and always come back timezone-aware, on SQLite too;
- enums are stored as their string value (portable, no database enum types).
"""

from __future__ import annotations

import os
import time
import uuid
from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import DateTime, String
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator
from sqlmodel import Field, SQLModel

# Deterministic constraint names, identical on SQLite and PostgreSQL, so that
# migrations can refer to them.
SQLModel.metadata.naming_convention = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class PostalAddress(SQLModel):
    """Address columns shared by accounts and contacts (colonia = neighborhood)."""

    street: str | None = Field(default=None, sa_type=String(200))
    neighborhood: str | None = Field(default=None, sa_type=String(120))
    city: str | None = Field(default=None, sa_type=String(120))
    state: str | None = Field(default=None, sa_type=String(120))
    postal_code: str | None = Field(default=None, sa_type=String(20))
    country: str | None = Field(default=None, sa_type=String(2))


def new_id() -> uuid.UUID:
    """A time-ordered random UUID (version 7 layout: 48-bit ms time, 74 random bits)."""
    millis = time.time_ns() // 1_000_000
    rand = int.from_bytes(os.urandom(10), "big")
    value = (millis & ((1 << 48) - 1)) << 80
    value |= 0x7 << 76
    value |= ((rand >> 62) & 0xFFF) << 64
    value |= 0b10 << 62
    value |= rand & ((1 << 62) - 1)
    return uuid.UUID(int=value)


def utcnow() -> datetime:
    return datetime.now(UTC)


def today() -> date:
    """Due dates are compared with today's date in UTC."""
    return utcnow().date()


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware datetime stored in UTC on every backend."""

    impl = DateTime(timezone=True)
    cache_ok = True

    @property
    def python_type(self) -> type[datetime]:
        return datetime

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored; use an aware UTC datetime")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class StrEnumType(TypeDecorator[StrEnum]):
    """Stores a StrEnum as its value in a VARCHAR and returns the enum member."""

    impl = String(32)
    cache_ok = True

    def __init__(self, enum_class: type[StrEnum], *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.enum_class = enum_class

    @property
    def python_type(self) -> type[StrEnum]:
        return self.enum_class

    def process_bind_param(self, value: StrEnum | str | None, dialect: Dialect) -> str | None:
        return None if value is None else self.enum_class(value).value

    def process_result_value(self, value: str | None, dialect: Dialect) -> StrEnum | None:
        return None if value is None else self.enum_class(value)
