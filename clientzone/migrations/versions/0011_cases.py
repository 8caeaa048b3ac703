"""support cases: categories (seeded), cases, comments, attachments

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-29
"""

import uuid
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TZ = sa.DateTime(timezone=True)
# Category ids derive from their codes, so they are the same on every installation.
NAMESPACE = uuid.UUID("6f1c2a4e-3b7d-5c8e-9a10-2b3c4d5e6f70")


def text(
    key: str, es: str, en: str, max_length: int = 200, required: bool = True
) -> dict[str, object]:
    return {
        "key": key,
        "label_es": es,
        "label_en": en,
        "kind": "TEXT",
        "required": required,
        "max_length": max_length,
    }


CATEGORIES = [
    ("OTHER_REQUESTS", "Otras solicitudes", "Other requests"),
    ("CLAIMS", "Reclamos", "Claims"),
]
# (category, code, es, en, requires invoice, requires order, extra fields)
SUBCATEGORIES = [
    (
        "OTHER_REQUESTS",
        "DATABASE_UPDATE",
        "Actualización de datos",
        "Database update",
        False,
        False,
        [],
    ),
    (
        "OTHER_REQUESTS",
        "TECHNICAL_SUPPORT",
        "Soporte técnico",
        "Technical support",
        False,
        False,
        [text("product", "Producto o servicio", "Product or service", required=False)],
    ),
    (
        "OTHER_REQUESTS",
        "DOCUMENT_REQUEST",
        "Solicitud de documentos",
        "Document request",
        False,
        False,
        [text("documentType", "Tipo de documento", "Document type", 100)],
    ),
    (
        "OTHER_REQUESTS",
        "TRAINING",
        "Cursos y capacitaciones",
        "Courses and training",
        False,
        False,
        [
            text("siteName", "Nombre de la obra o sede", "Site name"),
            text("address", "Dirección", "Address", 300),
            text("city", "Ciudad", "City", 120),
            {
                "key": "attendees",
                "label_es": "Número de personas",
                "label_en": "Number of people",
                "kind": "NUMBER",
                "required": True,
                "max_length": 4,
                "minimum": 1,
                "maximum": 500,
            },
        ],
    ),
    ("CLAIMS", "INVOICE_CLAIM", "Reclamo de facturación", "Invoice claim", True, False, []),
    (
        "CLAIMS",
        "SERVICE_CLAIM",
        "Reclamo de servicio",
        "Service claim",
        False,
        False,
        [
            text(
                "problem",
                "Tipo de problema (atención, logística, entrega)",
                "Kind of problem (attention, logistics, delivery)",
                120,
            )
        ],
    ),
    (
        "CLAIMS",
        "PRODUCT_CLAIM",
        "Reclamo técnico de producto",
        "Product technical claim",
        False,
        False,
        [
            text("product", "Producto", "Product"),
            text("batch", "Lote", "Batch", 60, required=False),
        ],
    ),
]


def category_id(code: str) -> uuid.UUID:
    return uuid.uuid5(NAMESPACE, code)


def upgrade() -> None:
    categories = op.create_table(
        "case_categories",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("code", sa.String(40), nullable=False),
        sa.Column("name_es", sa.String(120), nullable=False),
        sa.Column("name_en", sa.String(120), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_case_categories"),
        sa.UniqueConstraint("code", name="uq_case_categories_code"),
    )
    subcategories = op.create_table(
        "case_subcategories",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("category_id", sa.Uuid(), nullable=False),
        sa.Column("code", sa.String(40), nullable=False),
        sa.Column("name_es", sa.String(120), nullable=False),
        sa.Column("name_en", sa.String(120), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("requires_invoice", sa.Boolean(), nullable=False),
        sa.Column("requires_order", sa.Boolean(), nullable=False),
        sa.Column("field_specs", sa.JSON(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_case_subcategories"),
        sa.UniqueConstraint("code", name="uq_case_subcategories_code"),
        sa.ForeignKeyConstraint(
            ["category_id"],
            ["case_categories.id"],
            name="fk_case_subcategories_category_id_case_categories",
            ondelete="CASCADE",
        ),
    )
    op.create_index("ix_case_subcategories_category_id", "case_subcategories", ["category_id"])
    op.bulk_insert(
        categories,
        [
            {
                "id": category_id(code),
                "code": code,
                "name_es": es,
                "name_en": en,
                "position": position,
                "active": True,
            }
            for position, (code, es, en) in enumerate(CATEGORIES)
        ],
    )
    op.bulk_insert(
        subcategories,
        [
            {
                "id": category_id(code),
                "category_id": category_id(parent),
                "code": code,
                "name_es": es,
                "name_en": en,
                "position": position,
                "requires_invoice": invoice,
                "requires_order": order,
                "field_specs": fields,
                "active": True,
            }
            for position, (parent, code, es, en, invoice, order, fields) in enumerate(SUBCATEGORIES)
        ],
    )
    op.create_table(
        "case_numbers",
        sa.Column("number", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.PrimaryKeyConstraint("number", name="pk_case_numbers"),
        sqlite_autoincrement=True,
    )
    op.create_table(
        "cases",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("category_id", sa.Uuid(), nullable=False),
        sa.Column("subcategory_id", sa.Uuid(), nullable=False),
        sa.Column("subject", sa.String(255), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("fields", sa.JSON(), nullable=False),
        sa.Column("invoice_id", sa.Uuid(), nullable=True),
        sa.Column("order_id", sa.Uuid(), nullable=True),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("created_by", sa.Uuid(), nullable=True),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("updated_at", TZ, nullable=False),
        sa.Column("closed_at", TZ, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_cases"),
        sa.UniqueConstraint("number", name="uq_cases_number"),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name="fk_cases_account_id_accounts", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["category_id"], ["case_categories.id"], name="fk_cases_category_id_case_categories"
        ),
        sa.ForeignKeyConstraint(
            ["subcategory_id"],
            ["case_subcategories.id"],
            name="fk_cases_subcategory_id_case_subcategories",
        ),
        sa.ForeignKeyConstraint(
            ["invoice_id"],
            ["invoices.id"],
            name="fk_cases_invoice_id_invoices",
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name="fk_cases_order_id_orders", ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["created_by"], ["users.id"], name="fk_cases_created_by_users", ondelete="SET NULL"
        ),
    )
    op.create_index("ix_cases_account_id_id", "cases", ["account_id", "id"])
    op.create_index("ix_cases_account_id_status_id", "cases", ["account_id", "status", "id"])
    op.create_table(
        "case_comments",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("case_id", sa.Uuid(), nullable=False),
        sa.Column("author_kind", sa.String(32), nullable=False),
        sa.Column("author_user_id", sa.Uuid(), nullable=True),
        sa.Column("author_name", sa.String(200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("internal", sa.Boolean(), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_case_comments"),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name="fk_case_comments_case_id_cases", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["author_user_id"],
            ["users.id"],
            name="fk_case_comments_author_user_id_users",
            ondelete="SET NULL",
        ),
    )
    op.create_index("ix_case_comments_case_id_id", "case_comments", ["case_id", "id"])
    op.create_table(
        "case_attachments",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("case_id", sa.Uuid(), nullable=False),
        sa.Column("filename", sa.String(200), nullable=False),
        sa.Column("content_type", sa.String(100), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("uploaded_by", sa.Uuid(), nullable=True),
        sa.Column("author_kind", sa.String(32), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_case_attachments"),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name="fk_case_attachments_case_id_cases", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["uploaded_by"],
            ["users.id"],
            name="fk_case_attachments_uploaded_by_users",
            ondelete="SET NULL",
        ),
    )
    op.create_index("ix_case_attachments_case_id_id", "case_attachments", ["case_id", "id"])
    op.create_table(
        "case_file_contents",
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.PrimaryKeyConstraint("sha256", name="pk_case_file_contents"),
    )


def downgrade() -> None:
    op.drop_table("case_file_contents")
    op.drop_table("case_attachments")
    op.drop_table("case_comments")
    op.drop_table("cases")
    op.drop_table("case_numbers")
    op.drop_table("case_subcategories")
    op.drop_table("case_categories")
