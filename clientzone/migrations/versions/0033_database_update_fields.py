"""the DATABASE_UPDATE case subcategory asks for the new user's details

Four structured fields (full name, email, phone, position) instead of a free
description only; EMAIL and PHONE are new field kinds (checked and normalized
by createCase). Cases already opened keep their (empty) fields.

Revision ID: 0033
Revises: 0034
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0033"
down_revision: str | None = "0034"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _field(key: str, es: str, en: str, kind: str, max_length: int) -> dict[str, object]:
    return {
        "key": key,
        "label_es": es,
        "label_en": en,
        "kind": kind,
        "required": True,
        "max_length": max_length,
    }


FIELDS = [
    _field("fullName", "Nombre completo", "Full name", "TEXT", 200),
    _field("email", "Correo electrónico", "Email", "EMAIL", 254),
    _field("phone", "Teléfono", "Phone", "PHONE", 30),
    _field("position", "Puesto", "Position", "TEXT", 120),
]

subcategories = sa.table(
    "case_subcategories", sa.column("code", sa.String()), sa.column("field_specs", sa.JSON())
)


def _set(fields: list[dict[str, object]]) -> None:
    op.execute(
        subcategories.update()
        .where(subcategories.c.code == "DATABASE_UPDATE")
        .values(field_specs=fields)
    )


def upgrade() -> None:
    _set(FIELDS)


def downgrade() -> None:
    _set([])
